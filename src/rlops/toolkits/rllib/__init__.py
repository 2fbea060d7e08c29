"""The Ray RLlib toolkit (``RLToolkit.RAY``): SageMaker's Ray launcher on RLlib 2.x, PyTorch.

``from rlops.toolkits.rllib import SageMakerRayLauncher`` replaces
``from sagemaker_rl.ray_launcher import SageMakerRayLauncher`` in a SageMaker ``train-*.py``.
The launcher (and with it Ray) loads on first use, so reading presets needs no Ray.
"""

from pathlib import Path

#: The entry point of RAY jobs that name a preset and no script.
BUILTIN_ENTRY_POINT = Path(__file__).with_name("entry") / "rlops_rllib_train.py"

__all__ = ["BUILTIN_ENTRY_POINT", "SageMakerRayLauncher"]


def __getattr__(name):
    if name == "SageMakerRayLauncher":
        from rlops.toolkits.rllib.launcher import SageMakerRayLauncher

        return SageMakerRayLauncher
    raise AttributeError(name)
