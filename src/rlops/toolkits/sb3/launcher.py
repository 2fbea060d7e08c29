"""The SB3 launcher: a job's training (or evaluation) run, configured by a preset.

Mirrors SageMaker's Coach preset launcher. A training script subclasses it::

    from rlops.toolkits.sb3 import SB3Launcher

    class MyLauncher(SB3Launcher):
        def default_preset_name(self):
            return "cartpole-ppo"

        def map_hyperparameter(self, name, value):
            if name == "epochs":
                return {"rl.algorithm.hyperparameters.n_epochs": value}
            return super().map_hyperparameter(name, value)

    if __name__ == "__main__":
        MyLauncher.train_main()

A job without a script runs the same launcher as its built-in entry point, with the preset
named by the ``preset`` hyperparameter.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rlops.exceptions import RlopsError, UsageError
from rlops.toolkits.sb3.coach_log import emit
from rlops.toolkits.sb3.training import evaluate, train
from rlops.toolkits.sb3.presets import COMMON_ALIASES, EVALUATION_KEYS, Preset, is_override, load_preset, load_raw




@dataclass
class JobContext:
    """The parts of the job contract (SPEC section 2) the launcher reads."""

    hyperparameters: dict[str, Any]
    model_dir: Path
    output_data_dir: Path
    intermediate_dir: Path
    checkpoint_dir: Path
    code_dir: Path
    channels: dict[str, Path] = field(default_factory=dict)
    num_cpus: int = 1
    num_gpus: int = 0

    @classmethod
    def from_environment(cls) -> "JobContext":
        missing = [v for v in ("SM_MODEL_DIR", "SM_HPS", "SM_TRAINING_ENV") if v not in os.environ]
        if missing:
            raise UsageError(f"The SB3 launcher runs inside an rlops job; {', '.join(missing)} not set. "
                             "Start it with RLEstimator(...).fit() or `rlops train`.")
        training_env = json.loads(os.environ["SM_TRAINING_ENV"])
        return cls(
            hyperparameters=json.loads(os.environ["SM_HPS"]),
            model_dir=Path(os.environ["SM_MODEL_DIR"]),
            output_data_dir=Path(os.environ["SM_OUTPUT_DATA_DIR"]),
            intermediate_dir=Path(os.environ["SM_OUTPUT_INTERMEDIATE_DIR"]),
            checkpoint_dir=Path(training_env["checkpoint_dir"]),
            code_dir=Path(os.environ["SM_MODULE_DIR"]),
            channels={k: Path(v) for k, v in training_env["channel_input_dirs"].items()},
            num_cpus=int(os.environ.get("SM_NUM_CPUS", "1")),
            num_gpus=int(os.environ.get("SM_NUM_GPUS", "0")),
        )


class SB3Launcher:
    """Trains (or evaluates) a Stable-Baselines3 agent as a preset describes."""

    def __init__(self, context: JobContext | None = None):
        self.context = context or JobContext.from_environment()
        self.stop_requested = False

    # -- hooks for subclasses ------------------------------------------------------------------

    def default_preset_name(self) -> str | None:
        """The preset used when the job's hyperparameters name none."""
        return None

    def map_hyperparameter(self, name: str, value: Any) -> dict[str, Any]:
        """Translate a hyperparameter that is not ``rl.*``, an alias or ``preset`` into overrides."""
        raise UsageError(
            f"Unknown hyperparameter {name!r}. The SB3 launcher takes 'preset', 'rl.<dotted.path>' overrides, the "
            f"preset's aliases (common ones: {', '.join(sorted(COMMON_ALIASES))}) and "
            f"{' / '.join(EVALUATION_KEYS)}; a launcher subclass can map others in map_hyperparameter()."
        )

    # -- running -------------------------------------------------------------------------------

    @classmethod
    def train_main(cls) -> None:
        """The entry point of a training script: run, and turn errors into the job's failure reason."""
        try:
            launcher = cls()
            launcher.run()
        except RlopsError as exc:
            cls._fail(str(exc))
        except Exception:
            cls._fail(traceback.format_exc(limit=-8))

    @staticmethod
    def _fail(message: str) -> None:
        print(message, file=sys.stderr, flush=True)
        output = os.environ.get("SM_OUTPUT_DIR")
        if output:
            Path(output, "failure").write_text(message)
        sys.exit(1)

    def preset(self, fallback: str | None = None) -> tuple[Preset, dict[str, Any]]:
        """The preset with the job's overrides applied, and the evaluation settings (if any).

        ``fallback`` names the preset when neither the hyperparameters nor the launcher do (the
        evaluation mode passes the preset saved with the policy).
        """
        hps = dict(self.context.hyperparameters)
        evaluation = {k: hps.pop(k) for k in EVALUATION_KEYS if k in hps}
        name = hps.pop("preset", None) or self.default_preset_name() or fallback
        if not name:
            raise UsageError("No preset: pass the hyperparameter 'preset' (e.g. cartpole-ppo; `rlops presets list` "
                             "shows them) or return one from default_preset_name().")
        data = load_raw(name, [self.context.code_dir])
        overrides: dict[str, Any] = {}
        for key, value in hps.items():
            if is_override(key, data):
                overrides[key] = value
            else:
                overrides.update(self.map_hyperparameter(key, value))
        return load_preset(name, overrides, data=data), evaluation

    def run(self) -> None:
        hps = self.context.hyperparameters
        if any(k in hps for k in EVALUATION_KEYS):
            evaluate(self)
        else:
            preset, _ = self.preset()
            signal.signal(signal.SIGTERM, self._on_sigterm)
            if preset.toolkit == "fast":
                from rlops.toolkits.fast.training import train as train_fast

                emit(f"Preset {preset.name} runs on rlops's fast engine (toolkit: fast)")
                train_fast(self, preset)
            elif preset.toolkit == "offline":
                from rlops.toolkits.offline.training import train as train_offline

                emit(f"Preset {preset.name} trains from logged data with d3rlpy (toolkit: offline)")
                train_offline(self, preset)
            else:
                train(self, preset)

    def _on_sigterm(self, signum, frame) -> None:
        emit("SIGTERM received: stopping training and saving the model")
        self.stop_requested = True
