"""``from rlops.local import LocalSession`` (SageMaker's ``sagemaker.local``)."""

from rlops.session import LocalSession

__all__ = ["LocalSession"]
