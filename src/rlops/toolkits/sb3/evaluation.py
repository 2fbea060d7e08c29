"""Deterministic evaluation: ``Testing>`` lines, a summary of returns, and the evaluation mode.

The evaluation mode runs when a job's hyperparameters hold ``evaluate_episodes`` or
``evaluate_steps``: it loads a policy from the ``checkpoint`` channel (a checkpoint folder) or
the ``model`` channel (an unpacked ``model.tar.gz``; a ``model_data`` URI works directly) and
plays it, training nothing.
"""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path
from typing import Iterator

import numpy as np

from rlops.exceptions import UsageError
from rlops.storage import unpack
from rlops.toolkits.sb3 import checkpoints
from rlops.toolkits.sb3.algorithms import Algorithm
from rlops.toolkits.coach_lines import Summary, emit, episode_line


def _frame(env):
    """The image of a 1-env VecEnv's environment (gym 0.x environments render with ``render(mode=...)``)."""
    import os

    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")  # pygame greets on import, into the job's log
    inner = env.unwrapped.envs[0] if hasattr(env.unwrapped, "envs") else env
    try:
        return inner.render()
    except TypeError:
        return inner.render(mode="rgb_array")


def write_gif(frames: list, folder: Path, episode: int) -> Path:
    """``episode-<N>_<time>.gif`` (SPEC section 7: notebooks pick episodes with ``.*episode-(\\d*)_.*``)."""
    import time

    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"episode-{episode}_{time.strftime('%Y-%m-%d-%H-%M-%S')}.gif"
    images = [Image.fromarray(np.asarray(f, dtype=np.uint8)) for f in frames if f is not None]
    if images:
        images[0].save(path, save_all=True, append_images=images[1:], duration=40, loop=0)
    return path


def play(model, algorithm: Algorithm, env, episodes: int | None = None, steps: int | None = None,
         first_episode: int = 0, training_steps: int = 0, iteration: int = 0, gif_folder: Path | None = None) -> Summary:
    """Play the deterministic policy for ``episodes`` episodes (or ``steps`` steps) on a 1-env VecEnv; with
    ``gif_folder``, the first episode is also drawn to a GIF there."""
    returns, lengths = [], []
    obs = env.reset()
    frames = [_frame(env)] if gif_folder is not None else None
    state, episode_start = None, np.ones((1,), dtype=bool)
    taken = 0
    while (episodes is not None and len(returns) < episodes) or (steps is not None and taken < steps):
        kwargs = {}
        if algorithm.masked:
            kwargs["action_masks"] = np.array(env.env_method("action_masks"))
        action, state = model.predict(obs, state=state, episode_start=episode_start, deterministic=True, **kwargs)
        obs, _, dones, infos = env.step(action)
        taken += 1
        episode_start = dones
        if frames is not None and not dones[0]:
            frames.append(_frame(env))
        if dones[0] and "episode" in infos[0]:
            ep = infos[0]["episode"]
            returns.append(float(ep["r"]))
            lengths.append(int(ep["l"]))
            emit(episode_line("Testing", first_episode + len(returns) - 1, float(ep["r"]), 0.0, training_steps, iteration))
            if frames is not None:
                write_gif(frames, gif_folder, first_episode + len(returns) - 1)
                frames = None
    if not returns:
        raise UsageError(f"Evaluation finished no episode in {taken} steps; give evaluate_steps a larger value "
                         "or use evaluate_episodes.")
    values = np.array(returns)
    return Summary(len(returns), float(values.mean()), float(values.std()), float(values.min()), float(values.max()),
                   returns, lengths)


@contextlib.contextmanager
def located_policy(checkpoint_channel: Path | None, model_channel: Path | None) -> Iterator[tuple[Path, Path, Path | None]]:
    """``(folder, model zip, vecnormalize pickle or None)`` from the checkpoint or model channel.

    A ``model.tar.gz`` in the model channel is unpacked (safely) for the block's duration.
    """
    if checkpoint_channel and checkpoint_channel.is_dir():
        latest = checkpoints.latest(checkpoint_channel)
        if latest:
            norm = checkpoint_channel / latest.vecnormalize if latest.vecnormalize else None
            yield checkpoint_channel, checkpoint_channel / latest.model, norm
            return
    with tempfile.TemporaryDirectory(prefix="rlops-model-") as tmp:
        if model_channel and model_channel.is_dir():
            archive = model_channel / "model.tar.gz"
            if archive.is_file() and not (model_channel / "model.zip").exists():
                model_channel = unpack(archive, Path(tmp))
            if (model_channel / "model.zip").is_file():
                norm = model_channel / "vecnormalize.pkl"
                yield model_channel, model_channel / "model.zip", norm if norm.is_file() else None
                return
        raise UsageError(
            "Evaluation needs a policy: give the job a 'checkpoint' channel (a folder of rlops checkpoints) or a "
            "'model' channel (a model.tar.gz of an rlops SB3 job, e.g. estimator.model_data). "
            f"Got checkpoint={checkpoint_channel}, model={model_channel}."
        )
