"""Endpoints that run a SageMaker inference handler: ``deploy(entry_point="inference.py")``.

SageMaker's framework servers loaded a script with ``model_fn(model_dir)``, ``input_fn(body,
content_type)``, ``predict_fn(data, model)`` and ``output_fn(prediction, accept)``, each optional.
rlops runs the same convention for handlers that need neither TensorFlow nor MXNet: the handler
(copied to ``code/`` beside the policy) gets the endpoint's model folder, whose ``policy.onnx`` +
``policy.json`` :class:`rlops.policies.PortablePolicy` loads. Missing functions default to: the
portable policy as the model, JSON (or CSV) bodies as NumPy arrays, the policy's rlops answer, and
JSON out. A handler that raises is answered 500 with its error, and the server keeps serving.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import sys
from pathlib import Path

import numpy as np

from rlops.contract import jsonable
from rlops.policies.portable import PortablePolicy
from rlops.serving.codec import JSON, RequestError, decode, encode

log = logging.getLogger("rlops.serving")


def load_handler(folder: Path, relative: str):
    """Import the handler file ``folder/relative`` (its folder on ``sys.path``, as SageMaker's ``code/``)."""
    path = folder / relative
    sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location("rlops_inference_handler", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def handler_invoke(folder: Path, relative: str):
    """``invoke(body, content_type, accept) -> (status, body, media type, warning)`` running the handler."""
    module = load_handler(folder, relative)
    model_fn, input_fn = getattr(module, "model_fn", None), getattr(module, "input_fn", None)
    predict_fn, output_fn = getattr(module, "predict_fn", None), getattr(module, "output_fn", None)
    model = model_fn(str(folder)) if model_fn else PortablePolicy(folder)
    shape = model.observation_space.shape if isinstance(model, PortablePolicy) else None

    def default_input(body: bytes, content_type: str | None):
        if shape is not None:
            return decode(body, content_type, shape)
        return np.asarray(json.loads(body))

    def default_predict(data, model):
        if isinstance(model, PortablePolicy):
            return encode(model.run(data.observations, data.action_masks), data.style)[0]
        return model(data)

    def invoke(body: bytes, content_type: str | None, accept: str | None = None):
        try:
            data = input_fn(body, content_type) if input_fn else default_input(body, content_type)
            prediction = predict_fn(data, model) if predict_fn else default_predict(data, model)
            if output_fn:
                result = output_fn(prediction, accept or JSON)
                answer, media_type = result if isinstance(result, tuple) else (result, accept or JSON)
            elif isinstance(prediction, bytes):
                answer, media_type = prediction, JSON
            else:
                answer, media_type = json.dumps(jsonable(prediction)).encode(), JSON
            return 200, answer.encode() if isinstance(answer, str) else bytes(answer), media_type, None
        except RequestError as exc:
            return exc.status, json.dumps(exc.body()).encode(), JSON, None
        except Exception as exc:  # noqa: BLE001 - the handler's own failure: answered, and the server keeps serving
            log.exception("the inference handler failed")
            message = f"The inference handler {Path(relative).name} failed: {type(exc).__name__}: {exc}"
            return 500, json.dumps({"error": message}).encode(), JSON, None

    return invoke
