"""Packages that stand in for libraries SageMaker RL users' code imports, on a job's path only.

This folder is put on ``PYTHONPATH`` of a job whose Python lacks the real library (rlops never
installs these names globally): ``gym`` (gym 0.2x environments on Gymnasium 1.x) and ``rl_coach``
(Coach presets and launchers, translated to Stable-Baselines3), and, in every job, ``_startup/``
whose ``sitecustomize`` resolves SageMaker's ``sagemaker_rl.ray_launcher`` to rlops's. Each package
here is a top-level name inside a job; in rlops's own code they are ``rlops.compat.<name>``.
"""

from pathlib import Path

#: The folder a job gets on its ``PYTHONPATH``.
COMPAT_PATH = Path(__file__).parent
#: Always on a job's ``PYTHONPATH``: its ``sitecustomize`` makes ``sagemaker_rl.ray_launcher`` rlops's launcher.
STARTUP_PATH = COMPAT_PATH / "_startup"
#: The top-level names the folder provides, and the module whose absence makes a job need each.
PROVIDES = ("gym", "rl_coach")
