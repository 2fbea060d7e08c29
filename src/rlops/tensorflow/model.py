"""``TensorFlowModel``: SageMaker's ``sagemaker.tensorflow.model.TensorFlowModel``, serving an rlops job's portable policy
(ONNX Runtime on its ``policy.onnx``), answering in TensorFlow Serving's shape (``{"predictions": [...]}``)."""

from __future__ import annotations

from rlops.model import FrameworkModel


class TensorFlowModel(FrameworkModel):
    answer_format = "tensorflow"
