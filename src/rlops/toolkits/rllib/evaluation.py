"""Playing an exported RLlib policy: ``Testing>`` lines and a summary, as the SB3 toolkit prints them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from rlops.toolkits.coach_lines import emit, episode_line
from rlops.toolkits.rllib.environments import ActionMaskObservations


def evaluate(model_dir: Path, env, episodes: int, iteration: int) -> dict[str, Any]:
    """Play the exported (deterministic) policy for ``episodes`` episodes: ``Testing>`` lines and a summary."""
    from rlops.policies.portable import PortablePolicy

    policy = PortablePolicy(model_dir)
    if isinstance(env, ActionMaskObservations):
        env = env.env  # the policy takes raw observations, and masks from the environment
    returns = []
    for episode in range(episodes):
        obs, _ = env.reset(seed=1000 + episode)
        total, steps, done = 0.0, 0, False
        while not done:
            masks = None
            if policy.manifest.get("action_mask") and hasattr(env.unwrapped, "action_masks"):
                masks = np.asarray(env.unwrapped.action_masks(), np.float32)[None]
            action, _ = policy.predict(obs, action_masks=masks)
            obs, reward, terminated, truncated, _ = env.step(action.item() if np.ndim(action) == 0 else action)
            total, steps, done = total + float(reward), steps + 1, terminated or truncated
        returns.append(total)
        emit(episode_line("Testing", episode, total, 0.0, steps, iteration))
    values = np.array(returns)
    emit(f"Evaluation summary> episodes={episodes}, mean return={values.mean():.2f}, std={values.std():.2f}, "
         f"min={values.min():.2f}, max={values.max():.2f}")
    return {"episodes": episodes, "mean": float(values.mean()), "std": float(values.std()), "returns": returns}
