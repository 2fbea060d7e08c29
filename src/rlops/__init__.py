"""rlops: SageMaker RL's workflow and API on your own machine.

A SageMaker RL notebook ports by changing ``sagemaker`` to ``rlops`` on its import lines::

    import rlops
    from rlops.rl import RLEstimator, RLToolkit, RLFramework

    estimator = RLEstimator(entry_point="train.py", toolkit=RLToolkit.SB3, framework=RLFramework.PYTORCH,
                            role=rlops.get_execution_role(), instance_type="local")
    estimator.fit()
"""

__version__ = "0.1.0"
__all__ = ["LocalSession", "Session", "get_execution_role", "__version__"]


def __getattr__(name):
    # Loaded on first use: a training job imports rlops's toolkits without the job store.
    if name in ("LocalSession", "Session", "get_execution_role"):
        import importlib

        return getattr(importlib.import_module("rlops.session"), name)
    raise AttributeError(f"module 'rlops' has no attribute {name!r}")
