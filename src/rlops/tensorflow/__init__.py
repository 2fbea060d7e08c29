"""SageMaker's ``sagemaker.tensorflow`` names that notebooks import, on rlops."""

from rlops.tensorflow.model import TensorFlowModel

__all__ = ["TensorFlowModel"]
