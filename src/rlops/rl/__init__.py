"""``from rlops.rl import RLEstimator, RLToolkit, RLFramework`` (SageMaker's ``sagemaker.rl``)."""

from rlops.rl.estimator import RLEstimator, RLFramework, RLToolkit

__all__ = ["RLEstimator", "RLFramework", "RLToolkit"]
