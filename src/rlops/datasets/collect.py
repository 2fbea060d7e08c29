"""Collecting a dataset: run a behaviour policy in an environment and log every step with its action probabilities.

The behaviour policy is ``random`` (uniform), a baseline by name (``target-tracking:0.7``), or a trained
policy (a model folder or ``model.tar.gz``). A policy whose graph gives action probabilities is logged
with them; a deterministic one acts epsilon-greedily (``epsilon``, logged as such), since importance
sampling cannot evaluate another policy from data where every action had probability 1.
"""

from __future__ import annotations

from typing import Callable

import gymnasium as gym
import numpy as np

from rlops.datasets.episodes import Dataset, make_episode
from rlops.exceptions import UsageError
from rlops.policies.probabilities import action_probabilities


def collect(env_id: str, policy: str = "random", episodes: int = 100, max_steps: int | None = None, seed: int = 0,
            epsilon: float = 0.0, env_kwargs: dict | None = None, progress: Callable[[int], None] | None = None) -> Dataset:
    """Run ``episodes`` episodes of ``policy`` in ``env_id`` (at most ``max_steps`` steps each, else the
    environment's own limit) and return them as a dataset with the behaviour policy's probabilities."""
    import rlops.envs  # noqa: F401  (registers rlops's environments)

    if episodes < 1:
        raise UsageError(f"episodes is a positive number; got {episodes!r}.")
    if not 0 <= epsilon <= 1:
        raise UsageError(f"epsilon is a probability between 0 and 1; got {epsilon!r}.")
    try:
        env = gym.make(env_id, **({"max_episode_steps": max_steps} if max_steps else {}), **(env_kwargs or {}))
    except gym.error.Error as exc:
        raise UsageError(f"Cannot make the environment {env_id!r}: {exc}") from None
    if not isinstance(env.action_space, gym.spaces.Discrete):
        raise UsageError(f"{env_id} has actions {env.action_space}; datasets with action probabilities are for "
                         "discrete actions.")
    rng = np.random.default_rng(seed)
    loaded = None
    if policy != "random":
        from rlops.policies import PortablePolicy, load_policy

        loaded = load_policy(policy, env_id, env_kwargs)
        if isinstance(loaded, PortablePolicy):
            loaded.check_spaces(env)
    batched, described = action_probabilities(policy, int(env.action_space.n), env_id, epsilon, env_kwargs, loaded)
    probabilities_of = lambda obs: batched(obs[None])[0]  # noqa: E731  (one observation at a time)
    collected = []
    for i in range(episodes):
        obs, info = env.reset(seed=seed + i)
        observations, actions, rewards, probabilities = [], [], [], []
        while True:
            p = probabilities_of(np.asarray(obs, dtype=np.float32))
            action = int(rng.choice(len(p), p=p / p.sum()))
            observations.append(obs)
            actions.append(action)
            probabilities.append(p)
            obs, reward, terminated, truncated, info = env.step(action)
            rewards.append(reward)
            if terminated or truncated:
                break
        if len(actions) < 2:
            continue  # a dataset's episodes have at least 2 steps (a one-step episode has no transition within it)
        collected.append(make_episode(str(i), observations, actions, rewards, np.stack(probabilities), env_id,
                                      final_observation=None if terminated else obs, n_actions=int(env.action_space.n)))
        if progress:
            progress(i + 1)
    env.close()
    return Dataset(collected, int(env.action_space.n), source=f"{env_id} with {described}", behaviour=described,
                   metadata={"env_id": env_id, "max_steps": max_steps, "seed": seed})
