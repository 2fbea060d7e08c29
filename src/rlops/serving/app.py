"""The model server: a portable policy behind ``GET /ping`` and ``POST /invocations``.

Serving needs ONNX Runtime and NumPy, not the toolkit or PyTorch. Every error a request can cause
is answered 400 or 415 with a JSON body saying what was expected; anything unforeseen is still
answered (500 with a JSON body) and never takes the server down. An observation outside the
policy's observation space is served, with a ``Warning`` header saying where it lies outside.
"""

from __future__ import annotations

import json
import logging

import numpy as np
from rlops.policies.portable import PortablePolicy
from rlops.serving.codec import RequestError, decode, encode

log = logging.getLogger("rlops.serving")
WARNING_HEADER = b"warning"


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


def create_app(policy: PortablePolicy, answer_format: str = "rlops"):
    """The ASGI app serving ``policy``, answering JSON observations in ``answer_format`` (:data:`ANSWER_FORMATS`)."""
    return asgi_app(policy_invoke(policy, answer_format), json.dumps(policy.manifest).encode())


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


def asgi_app(invoke, manifest: bytes):
    """``GET /ping``, ``GET /policy`` and ``POST /invocations`` (answered by ``invoke``) as an ASGI callable.

    A plain ASGI callable rather than a framework's router: three routes need no routing table,
    and skipping request and response objects takes a third off the time of a small request.
    """

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["type"] != "http":
            return
        path, method = scope["path"], scope["method"]
        warning = None
        if path == "/invocations" and method == "POST":
            chunks, more = [], True
            while more:
                message = await receive()
                chunks.append(message.get("body", b""))
                more = message.get("more_body", False)
            headers = dict(scope["headers"])
            content_type, accept = (headers[k].decode("latin-1") if k in headers else None
                                    for k in (b"content-type", b"accept"))
            status, body, media_type, warning = invoke(b"".join(chunks), content_type, accept)
        elif path == "/ping" and method == "GET":
            status, body, media_type = 200, b"", "text/plain"
        elif path == "/policy" and method == "GET":
            status, body, media_type = 200, manifest, "application/json"
        elif path in ("/invocations", "/ping", "/policy"):
            status, body, media_type = 405, b'{"error": "Method not allowed."}', "application/json"
        else:
            status, body, media_type = 404, b'{"error": "Not found: the server answers GET /ping and POST /invocations."}', "application/json"
        headers = [(b"content-type", media_type.encode()), (b"content-length", str(len(body)).encode())]
        if warning:  # RFC 7234's Warning header: 199, a miscellaneous warning
            headers.append((WARNING_HEADER, f'199 rlops "{warning}"'.encode("latin-1", "replace")))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app
