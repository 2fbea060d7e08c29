"""``sagemaker.tensorflow.serving.Model`` (SageMaker Python SDK 1.x), which Ray notebooks deploy their policy with:
rlops's :class:`~rlops.tensorflow.model.TensorFlowModel`."""

from rlops.tensorflow.model import TensorFlowModel as Model

__all__ = ["Model"]
