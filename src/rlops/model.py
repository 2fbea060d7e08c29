"""``Model``: a trained policy that can be deployed to an endpoint (SageMaker's ``sagemaker.model``)."""

from __future__ import annotations

import logging
from typing import Any

from rlops.contract import unique_name, validate_name
from rlops.exceptions import UsageError
from rlops.predictor import Predictor
from rlops.session import Session

log = logging.getLogger("rlops")


class Model:
    """A ``model.tar.gz`` (or model folder) of an rlops job; any policy of rlops deploys.

    >>> predictor = Model(model_data="file:///.../model.tar.gz").deploy(1, "local")   # doctest: +SKIP

    ``answer_format`` is how the endpoint answers a bare observation: rlops's objects (``"rlops"``), or
    the shape a framework's server gave (``"tensorflow"``: ``{"predictions": [...]}``; ``"mxnet"``:
    Coach's ``[value, action probabilities]``); :class:`rlops.tensorflow.TensorFlowModel` and
    :class:`rlops.mxnet.MXNetModel` choose theirs.
    """

    answer_format = "rlops"

    def __init__(self, model_data: str, role: str | None = None, image_uri: str | None = None,
                 sagemaker_session: Session | None = None, name: str | None = None, entry_point: str | None = None,
                 source_dir: str | None = None, answer_format: str | None = None, **_ignored: Any):
        self.model_data = model_data
        self.sagemaker_session = sagemaker_session or Session()
        self.name = name
        self.entry_point, self.source_dir = entry_point, source_dir
        if answer_format is not None:
            self.answer_format = answer_format
        self.endpoint_name: str | None = None

    def deploy(self, initial_instance_count: int = 1, instance_type: str = "local", endpoint_name: str | None = None,
               wait: bool = True, entry_point: str | None = None, data_capture_config=None,
               **_ignored: Any) -> Predictor:
        """Start an endpoint serving this model on 127.0.0.1; ``initial_instance_count`` workers share its port.
        ``data_capture_config`` (:class:`rlops.model_monitor.DataCaptureConfig`) records a share of its invocations
        (default destination: ``s3://<default bucket>/model-monitor/data-capture``)."""
        if not isinstance(initial_instance_count, int) or initial_instance_count < 1:
            raise UsageError(f"initial_instance_count must be a positive integer; got {initial_instance_count!r}.")
        name = validate_name(endpoint_name, "endpoint") if endpoint_name else unique_name(self.name or "rlops-endpoint")
        handler = entry_point or self.entry_point
        answer_format, handler_file = self.answer_format, None
        if handler:
            needs, path = check_handler(handler, self.source_dir)
            if needs and answer_format == "rlops":
                answer_format = needs.lower()
            handler_file = None if needs else str(path)
        capture = None
        if data_capture_config is not None and data_capture_config.enable_capture:
            capture = data_capture_config.settings(
                f"s3://{self.sagemaker_session.default_bucket()}/model-monitor/data-capture")
        self.sagemaker_session.service.endpoints.create(name, self.model_data, workers=initial_instance_count, wait=wait,
                                                         answer_format=answer_format, handler=handler_file,
                                                         data_capture=capture)
        self.endpoint_name = name
        return Predictor(name, self.sagemaker_session)


class FrameworkModel(Model):
    """SageMaker's framework models (``TensorFlowModel``, ``MXNetModel``, ``PyTorchModel``): the portable policy,
    answering in the framework's shape; ``framework_version``, ``py_version`` and the like mean nothing here."""

    def __init__(self, model_data: str, role: str | None = None, entry_point: str | None = None,
                 framework_version: str | None = None, py_version: str | None = None, **kwargs: Any):
        super().__init__(model_data, role=role, entry_point=entry_point, **kwargs)
        self.framework_version, self.py_version = framework_version, py_version


#: Serving libraries an inference handler may import that rlops does not run: rlops serves the portable policy
#: in their answer shape instead.
FRAMEWORK_SERVERS = {"mxnet": "MXNet", "tensorflow": "TensorFlow"}


def check_handler(entry_point: str, source_dir: str | None = None):
    """``(framework or None, path)`` of an inference handler (``deploy(entry_point=...)``): one that needs TensorFlow
    or MXNet is replaced by rlops's server for the portable policy, said once; any other runs in the endpoint
    (:mod:`rlops.serving.handler`)."""
    import ast
    from pathlib import Path

    candidates = [Path(source_dir) / entry_point] if source_dir else []  # as SageMaker, relative to source_dir
    path = next((p for p in [*candidates, Path(entry_point)] if p.is_file()), None)
    if path is None:
        raise UsageError(f"The inference handler {entry_point!r} does not exist"
                         + (f" (looked in source_dir {source_dir} and here)." if source_dir else "."))
    tree = ast.parse(path.read_text(), filename=str(path))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    needs = sorted(FRAMEWORK_SERVERS[m] for m in imported & FRAMEWORK_SERVERS.keys())
    if needs:
        log.warning("The inference handler %s needs %s, which rlops does not run: the endpoint serves the job's "
                    "portable policy (policy.onnx) instead, answering in the shape that handler gave.",
                    path.name, " and ".join(needs))
        return needs[0], path
    return None, path
