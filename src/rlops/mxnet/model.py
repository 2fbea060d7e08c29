"""``MXNetModel``: SageMaker's ``sagemaker.mxnet.model.MXNetModel``, serving an rlops job's portable policy
(ONNX Runtime on its ``policy.onnx``), answering in Coach-MXNet's shape (``[value, action probabilities]``)."""

from __future__ import annotations

from rlops.model import FrameworkModel


class MXNetModel(FrameworkModel):
    answer_format = "mxnet"
