"""A translated Coach graph, trained or evaluated by the SB3 toolkit inside an rlops job."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from rlops.exceptions import UsageError
from rlops.toolkits.coach.params import EnvironmentEpisodes, EnvironmentSteps
from rlops.toolkits.coach.translate import translate
from rlops.toolkits.coach_lines import emit

CONTAINER_ROOT = "/opt/ml"


def host_path(path: str | os.PathLike | None) -> Path | None:
    """A SageMaker container path (``/opt/ml/...``, as Coach scripts hard-code them) in this host's folders."""
    if path is None:
        return None
    text = os.fspath(path)
    if text == CONTAINER_ROOT or text.startswith(CONTAINER_ROOT + "/"):
        base = Path(os.environ.get("SM_MODEL_DIR", f"{CONTAINER_ROOT}/model")).parent
        return base / text[len(CONTAINER_ROOT):].lstrip("/")
    return Path(text)


class CoachRun:
    def __init__(self, graph, task_parameters):
        from rlops.toolkits.sb3.presets import validate

        self.graph, self.task = graph, task_parameters
        data, notes = translate(graph)
        emit(f"rlops: Coach preset translated: agent {type(graph.agent_params).__name__} runs as Stable-Baselines3 "
             f"{data['algorithm']['name']} on {data['env']['id']} for {data['schedule']['training_steps']} steps")
        for note in notes:
            emit(f"rlops: Coach field {note}")
        self.preset = validate(data)

    def _launcher(self):
        from rlops.toolkits.sb3.launcher import SB3Launcher

        return SB3Launcher()

    def train(self) -> None:
        from rlops.toolkits.sb3.training import train

        launcher = self._launcher()
        train(launcher, self.preset)
        target = host_path(getattr(self.task, "checkpoint_save_dir", None))
        if target is not None:  # Coach's checkpoints, where its scripts and notebooks look (output/data/checkpoint)
            shutil.copytree(launcher.context.checkpoint_dir, target, dirs_exist_ok=True)

    def evaluate(self, steps) -> None:
        from rlops.toolkits.sb3.evaluation import located_policy
        from rlops.toolkits.sb3.training import evaluate_policy

        if isinstance(steps, EnvironmentEpisodes):
            episodes, count = steps.num_steps, None
        elif isinstance(steps, EnvironmentSteps):
            episodes, count = None, steps.num_steps
        else:
            raise UsageError(f"graph_manager.evaluate() takes EnvironmentSteps or EnvironmentEpisodes; got {steps!r}.")
        launcher = self._launcher()
        channel = host_path(getattr(self.task, "checkpoint_restore_path", None)) or launcher.context.channels.get("checkpoint")
        with located_policy(channel, launcher.context.channels.get("model")) as (folder, model_zip, normalizer):
            evaluate_policy(launcher.context, self.preset, folder, model_zip, normalizer, episodes, count)
