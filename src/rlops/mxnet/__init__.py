"""SageMaker's ``sagemaker.mxnet`` names that notebooks import, on rlops."""

from rlops.mxnet.model import MXNetModel

__all__ = ["MXNetModel"]
