"""Checkpoints: everything a job needs to resume where it stopped.

Each checkpoint is the SB3 model zip (policy, optimiser, step count), the observation and reward
normalisation statistics, the replay buffer for off-policy algorithms, and ``latest.json``,
written last and atomically, naming them. A resuming job reads ``latest.json`` only, so it never
loads a checkpoint that was half written when the job was stopped.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from stable_baselines3.common.callbacks import BaseCallback

from rlops.storage import write_text

MANIFEST = "latest.json"


@dataclass
class Checkpoint:
    steps: int
    episodes: int
    model: str
    vecnormalize: str | None = None
    replay_buffer: str | None = None

    def path(self, folder: Path, name: str | None) -> Path | None:
        return folder / name if name else None


def latest(folder: Path) -> Checkpoint | None:
    manifest = folder / MANIFEST
    if not manifest.is_file():
        return None
    checkpoint = Checkpoint(**json.loads(manifest.read_text()))
    return checkpoint if (folder / checkpoint.model).is_file() else None


def save(model, folder: Path, episodes: int, keep: int, with_replay_buffer: bool) -> Checkpoint:
    """Write a checkpoint of ``model`` into ``folder`` and drop the ones older than the last ``keep``."""
    folder.mkdir(parents=True, exist_ok=True)
    steps = model.num_timesteps
    checkpoint = Checkpoint(steps=steps, episodes=episodes, model=f"model_{steps}_steps.zip")
    model.save(folder / checkpoint.model)
    normalizer = model.get_vec_normalize_env()
    if normalizer is not None:
        checkpoint.vecnormalize = f"vecnormalize_{steps}_steps.pkl"
        normalizer.save(folder / checkpoint.vecnormalize)
    if with_replay_buffer and getattr(model, "replay_buffer", None) is not None:
        checkpoint.replay_buffer = f"replay_buffer_{steps}_steps.pkl"
        model.save_replay_buffer(folder / checkpoint.replay_buffer)
    write_text(folder / MANIFEST, json.dumps(asdict(checkpoint), indent=2))  # written last, atomically
    _rotate(folder, keep)
    return checkpoint


def _rotate(folder: Path, keep: int) -> None:
    steps = sorted({int(p.stem.split("_")[-2]) for p in folder.glob("model_*_steps.zip")})
    for old in steps[:-keep] if keep > 0 else []:
        for pattern in (f"model_{old}_steps.zip", f"vecnormalize_{old}_steps.pkl", f"replay_buffer_{old}_steps.pkl"):
            (folder / pattern).unlink(missing_ok=True)


class CheckpointEvery(BaseCallback):
    """Saves a checkpoint every ``every`` environment steps (0: never during training)."""

    def __init__(self, folder: Path, every: int, keep: int, with_replay_buffer: bool, episode_counter):
        super().__init__()
        self.folder, self.every, self.keep = folder, every, keep
        self.with_replay_buffer = with_replay_buffer
        self.episode_counter = episode_counter
        self.next_at = None

    def _on_training_start(self) -> None:
        self.next_at = (self.model.num_timesteps // self.every + 1) * self.every if self.every else None

    def _on_step(self) -> bool:
        if self.next_at is not None and self.model.num_timesteps >= self.next_at:
            save(self.model, self.folder, self.episode_counter(), self.keep, self.with_replay_buffer)
            self.next_at += self.every
        return True
