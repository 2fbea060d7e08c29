"""``PyTorchModel``: SageMaker's ``sagemaker.pytorch.model.PyTorchModel``, serving an rlops job's portable policy
(ONNX Runtime on its ``policy.onnx``), answering in rlops's own format."""

from __future__ import annotations

from rlops.model import FrameworkModel


class PyTorchModel(FrameworkModel):
    answer_format = "rlops"
