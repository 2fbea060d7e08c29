"""Where SageMaker RL notebooks keep ``SageMakerRayLauncher``: their copy of this file drives Ray 0.8-1.x inside
SageMaker's containers only (``/opt/ml`` paths, ``ray.rllib.agents``, a TensorFlow Serving export).

In an rlops job, ``sagemaker_rl.ray_launcher`` is rlops's launcher (Ray 2.x, RLlib on PyTorch), whichever copy
of this file sits beside the script, so a notebook's own copy can stay as it is. Outside a job, import
``SageMakerRayLauncher`` from ``rlops.toolkits.rllib``.
"""

raise ImportError("sagemaker_rl.ray_launcher runs inside a training job, where rlops provides it; "
                  "outside one use `from rlops.toolkits.rllib import SageMakerRayLauncher`.")
