"""RLlib presets: SageMaker's Ray experiment (``training: {env, run, stop, config, checkpoint_freq}``) as YAML.

``RLEstimator(toolkit=RLToolkit.RAY, hyperparameters={"preset": "cartpole-rllib-ppo"})`` runs one
without a script; ``rl.training.config.lr``-style hyperparameters override its fields, as they do
a script's experiment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rlops.exceptions import UsageError
from rlops.toolkits.preset_files import PresetFolder

PRESETS = PresetFolder(Path(__file__).with_name("presets"))
#: The job's hyperparameters a preset job reads besides ``rl.*`` overrides.
PRESET_KEYS = {"preset", "evaluate_episodes"}


def load_experiment(name: str, search: list[Path] = ()) -> dict[str, Any]:
    """The experiment dict of preset ``name``, checked for SageMaker's shape."""
    data = PRESETS.load(name, search)
    training = data.get("training")
    if not isinstance(training, dict) or not {"env", "run"} <= set(training):
        raise UsageError(f"RLlib preset {name!r} needs a 'training' mapping with at least 'env' and 'run' "
                         "(and usually 'config' and 'stop'), as SageMaker's get_experiment_config() returned.")
    return {"training": training}


def check_hyperparameters(hyperparameters: dict[str, Any]) -> None:
    """Refuse a hyperparameter a preset job would silently ignore."""
    unknown = sorted(k for k in hyperparameters if k not in PRESET_KEYS and not k.startswith(("rl.", "sagemaker_")))
    if unknown:
        raise UsageError(f"Unknown hyperparameter {unknown[0]!r} for an RLlib preset job: use 'preset' and "
                         f"rl.<path> overrides such as 'rl.training.config.lr' or 'rl.training.stop.training_iteration'.")
