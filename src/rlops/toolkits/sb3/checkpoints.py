"""Checkpoints: everything a job needs to resume where it stopped.

Each checkpoint is the SB3 model zip (policy, optimiser, step count), the observation and reward
normalisation statistics, the replay buffer for off-policy algorithms, and a description of them
(``checkpoint_<steps>_steps.json``, then ``latest.json``), written last and atomically. A checkpoint
is complete once its description exists, and the ones before it are dropped only after that (the
last ``keep`` stay). A resuming job tries the described checkpoints newest first
(:func:`candidates`), so one cut short, or damaged afterwards, is skipped for the one before it.
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


def candidates(folder: Path) -> list[Checkpoint]:
    """Every complete checkpoint in ``folder``, newest first (``latest.json`` alone, from an older rlops)."""
    described = []
    for path in folder.glob("checkpoint_*_steps.json"):
        try:
            described.append(Checkpoint(**json.loads(path.read_text())))
        except (ValueError, TypeError):
            continue  # unreadable: its checkpoint is not offered
    if not described and (newest := latest(folder)) is not None:
        described = [newest]
    return sorted(described, key=lambda c: c.steps, reverse=True)


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
    description = json.dumps(asdict(checkpoint), indent=2)
    write_text(folder / f"checkpoint_{steps}_steps.json", description)  # written last, atomically
    write_text(folder / MANIFEST, description)
    _rotate(folder, keep)
    return checkpoint


def _rotate(folder: Path, keep: int) -> None:
    steps = sorted({int(p.stem.split("_")[-2]) for p in folder.glob("model_*_steps.zip")})
    for old in steps[:-keep] if keep > 0 else []:
        for pattern in (f"checkpoint_{old}_steps.json", f"model_{old}_steps.zip", f"vecnormalize_{old}_steps.pkl",
                        f"replay_buffer_{old}_steps.pkl"):
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
