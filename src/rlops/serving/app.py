"""The model server: a portable policy behind ``GET /ping`` and ``POST /invocations``.

Serving needs ONNX Runtime and NumPy, not the toolkit or PyTorch. Every error a request can cause
is answered 400 or 415 with a JSON body saying what was expected; anything unforeseen is still
answered (500 with a JSON body) and never takes the server down. An observation outside the
policy's observation space is served, with a ``Warning`` header saying where it lies outside.
"""

from __future__ import annotations

import itertools
import json
import logging
import uuid

import numpy as np
from rlops.auth import authorized
from rlops.policies.portable import PortablePolicy
from rlops.serving.codec import RequestError, decode, encode

log = logging.getLogger("rlops.serving")
WARNING_HEADER = b"warning"
EVENT_HEADER = b"x-rlops-event-id"
#: SageMaker's request headers for an inference id and custom attributes, kept in the capture's event metadata.
INFERENCE_ID_HEADER = b"x-amzn-sagemaker-inference-id"
CUSTOM_ATTRIBUTES_HEADER = b"x-amzn-sagemaker-custom-attributes"
UNAUTHORIZED = (b'{"error": "This server listens beyond loopback and needs its token: send Authorization: Bearer TOKEN '
                b'(the token is in RLOPS_HOME/server-token on the server\'s machine, or RLOPS_TOKEN)."}')


def bounds_warning(policy: PortablePolicy, observations: np.ndarray) -> str | None:
    """A warning when an observation lies outside the policy's observation space (served all the same, as
    SageMaker's servers did: notebooks probe policies with such observations)."""
    space = policy.observation_space
    low, high = getattr(space, "low", None), getattr(space, "high", None)
    if low is None:
        return None
    outside = (observations < low) | (observations > high)
    if not outside.any():
        return None
    row, *index = np.argwhere(outside)[0]
    return (f"observation {row} is outside the observation space at index {list(map(int, index))}: "
            f"{observations[(row, *index)]!r} not in [{low[tuple(index)]}, {high[tuple(index)]}]")


def create_app(policy: PortablePolicy, answer_format: str = "rlops", capture=None, token: str | None = None):
    """The ASGI app serving ``policy``, answering JSON observations in ``answer_format`` (:data:`ANSWER_FORMATS`);
    ``capture``, a :class:`rlops.serving.capture.CaptureWriter`, records a sample of invocations; with ``token``,
    every request must carry it (:mod:`rlops.auth`)."""
    return asgi_app(policy_invoke(policy, answer_format), json.dumps(policy.manifest).encode(), capture, token)


def policy_invoke(policy: PortablePolicy, answer_format: str = "rlops"):
    """``invoke(body, content_type, accept) -> (status, body, media type, warning)`` for ``policy``."""
    shape = policy.observation_space.shape
    width = policy._mask_width() if policy.manifest.get("action_mask") else 0

    def invoke(body: bytes, content_type: str | None, accept: str | None = None) -> tuple[int, bytes, str, str | None]:
        try:
            decoded = decode(body, content_type, shape)
            warning = bounds_warning(policy, decoded.observations)
            masks = decoded.action_masks if policy.manifest.get("action_mask") else None
            if masks is not None and masks.shape != (len(decoded.observations), width):
                raise RequestError(400, f"inputs.action_mask has shape {list(masks.shape)}; expected "
                                        f"[{len(decoded.observations)}, {width}].", "one mask row per observation")
            answer, media_type = encode(policy.run(decoded.observations, masks), decoded.style, answer_format)
            return 200, answer, media_type, warning
        except RequestError as exc:
            return exc.status, json.dumps(exc.body()).encode(), "application/json", None
        except Exception:  # noqa: BLE001 - the boundary: log it, answer, keep serving
            log.exception("invocation failed")
            return 500, b'{"error": "The model server failed on this request; see its log."}', "application/json", None

    return invoke


def asgi_app(invoke, manifest: bytes, capture=None, token: str | None = None):
    """``GET /ping``, ``GET /policy`` and ``POST /invocations`` (answered by ``invoke``) as an ASGI callable; with
    ``capture``, a sampled invocation is recorded (its event id in the ``x-rlops-event-id`` header: SageMaker's
    inference id when the request gave one) and ``POST /rewards`` records a reward for an event id. With ``token``
    (a server reachable from other machines), a request without it is answered 401 and goes no further.

    A plain ASGI callable rather than a framework's router: a few routes need no routing table,
    and skipping request and response objects takes a third off the time of a small request.
    """

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            if capture is not None:
                capture.close()  # what was queued reaches its file before the server goes
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["type"] != "http":
            return
        path, method = scope["path"], scope["method"]
        warning = event_id = None
        if token is not None and not authorized(dict(scope["headers"]), token):
            status, body, media_type = 401, UNAUTHORIZED, "application/json"
        elif path == "/invocations" and method == "POST":
            request = await _body(receive)
            headers = dict(scope["headers"])
            content_type, accept = (headers[k].decode("latin-1") if k in headers else None
                                    for k in (b"content-type", b"accept"))
            status, body, media_type, warning = invoke(request, content_type, accept)
            if capture is not None and status == 200 and capture.sampled():
                event_id, attributes = _event(headers)
                capture.capture(request, content_type, body, media_type, event_id, attributes[0], attributes[1])
        elif path == "/rewards" and method == "POST":
            status, body, media_type = _reward(capture, await _body(receive))
        elif path == "/ping" and method == "GET":
            status, body, media_type = 200, b"", "text/plain"
        elif path == "/policy" and method == "GET":
            status, body, media_type = 200, manifest, "application/json"
        elif path in ("/invocations", "/ping", "/policy", "/rewards"):
            status, body, media_type = 405, b'{"error": "Method not allowed."}', "application/json"
        else:
            status, body, media_type = 404, b'{"error": "Not found: the server answers GET /ping and POST /invocations."}', "application/json"
        headers = [(b"content-type", media_type.encode()), (b"content-length", str(len(body)).encode())]
        if warning:  # RFC 7234's Warning header: 199, a miscellaneous warning
            headers.append((WARNING_HEADER, f'199 rlops "{warning}"'.encode("latin-1", "replace")))
        if event_id:
            headers.append((EVENT_HEADER, event_id.encode("latin-1", "replace")))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


async def _body(receive) -> bytes:
    chunks, more = [], True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(chunks)


_EVENT_PREFIX = uuid.uuid4().hex[:20]  # this server process's; an event id is it and a counter, unique across restarts
_event_numbers = itertools.count()


def _event(headers: dict) -> tuple[str, tuple[str | None, str | None]]:
    """The event id of a captured invocation (the request's inference id, else a new one), and the request's
    ``(inference id, custom attributes)``."""
    inference = headers.get(INFERENCE_ID_HEADER)
    attributes = headers.get(CUSTOM_ATTRIBUTES_HEADER)
    inference_id = inference.decode("latin-1") if inference else None
    return (inference_id or f"{_EVENT_PREFIX}-{next(_event_numbers):012x}",
            (inference_id, attributes.decode("latin-1") if attributes else None))


def _reward(capture, body: bytes) -> tuple[int, bytes, str]:
    """``POST /rewards`` with ``{"eventId": ..., "reward": ..., "done": ...}``."""
    if capture is None:
        return 404, b'{"error": "This endpoint has no data capture: deploy it with a DataCaptureConfig."}', "application/json"
    try:
        record = json.loads(body)
        event_id, reward = record["eventId"], float(record["reward"])
        done = record.get("done")
        if not isinstance(event_id, str) or not np.isfinite(reward) or done not in (None, True, False):
            raise ValueError
    except (ValueError, KeyError, TypeError):
        return 400, json.dumps({"error": "A reward is a JSON object {\"eventId\": string, \"reward\": number, "
                                         "\"done\": true|false (optional)}.",
                                "received": body[:200].decode("utf-8", "replace")}).encode(), "application/json"
    capture.reward(event_id, reward, done)
    return 200, b'{"recorded": true}', "application/json"
