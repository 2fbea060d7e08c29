"""SageMaker's ``sagemaker.pytorch`` names that notebooks import, on rlops."""

from rlops.pytorch.model import PyTorchModel

__all__ = ["PyTorchModel"]
