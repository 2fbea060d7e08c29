"""The model server: a portable policy behind ``GET /ping`` and ``POST /invocations``.

Serving needs ONNX Runtime and NumPy, not the toolkit or PyTorch. Every error a request can cause
is answered 400 or 415 with a JSON body saying what was expected; anything unforeseen is still
answered (500 with a JSON body) and never takes the server down.
"""

from __future__ import annotations

import json
import logging

import numpy as np
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from rlops.policies.portable import PortablePolicy
from rlops.serving.codec import RequestError, decode, encode

log = logging.getLogger("rlops.serving")


def check_bounds(policy: PortablePolicy, observations: np.ndarray) -> None:
    space = policy.observation_space
    low, high = getattr(space, "low", None), getattr(space, "high", None)
    if low is None:
        return
    outside = (observations < low) | (observations > high)
    if outside.any():
        row, *index = np.argwhere(outside)[0]
        raise RequestError(400, f"Observation {row} is outside the observation space at index {list(map(int, index))}: "
                                f"{observations[(row, *index)]!r} not in [{low[tuple(index)]}, {high[tuple(index)]}].",
                           f"values within the policy's observation space {space}")


def create_app(policy: PortablePolicy) -> Starlette:
    """The ASGI app serving ``policy``."""
    shape = policy.observation_space.shape
    width = policy._mask_width() if policy.manifest.get("action_mask") else 0
    manifest = json.dumps(policy.manifest).encode()

    async def ping(request: Request) -> Response:
        return Response(b"", status_code=200)

    async def describe(request: Request) -> Response:
        return Response(manifest, media_type="application/json")

    async def invocations(request: Request) -> Response:
        try:
            decoded = decode(await request.body(), request.headers.get("content-type"), shape)
            check_bounds(policy, decoded.observations)
            masks = decoded.action_masks if policy.manifest.get("action_mask") else None
            if masks is not None and masks.shape != (len(decoded.observations), width):
                raise RequestError(400, f"inputs.action_mask has shape {list(masks.shape)}; expected "
                                        f"[{len(decoded.observations)}, {width}].", "one mask row per observation")
            outputs = policy.run(decoded.observations, masks)
            body, media_type = encode(outputs, decoded.style)
            return Response(body, media_type=media_type)
        except RequestError as exc:
            return JSONResponse(exc.body(), status_code=exc.status)
        except Exception:  # noqa: BLE001 - the boundary: log it, answer, keep serving
            log.exception("invocation failed")
            return JSONResponse({"error": "The model server failed on this request; see its log."}, status_code=500)

    return Starlette(routes=[
        Route("/ping", ping, methods=["GET"]),
        Route("/policy", describe, methods=["GET"]),
        Route("/invocations", invocations, methods=["POST"]),
    ])
