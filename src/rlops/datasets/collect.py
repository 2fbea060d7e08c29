"""Collecting a dataset: run a behaviour policy in an environment and log every step with its action probabilities.

The behaviour policy is ``random`` (uniform), a baseline by name (``target-tracking:0.7``), or a trained
policy (a model folder or ``model.tar.gz``). A policy whose graph gives action probabilities is logged
with them; a deterministic one acts epsilon-greedily (``epsilon``, logged as such), since importance
sampling cannot evaluate another policy from data where every action had probability 1.

In an environment with continuous actions (a one-dimensional ``Box``), ``random`` draws uniformly within
the bounds and a trained policy's action gets Gaussian noise of standard deviation ``epsilon`` times half
the action range (clipped to the bounds); the steps are logged without probabilities.
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
    space = env.action_space
    continuous = isinstance(space, gym.spaces.Box) and len(space.shape) == 1
    if not (continuous or isinstance(space, gym.spaces.Discrete)):
        raise UsageError(f"{env_id} has actions {space}; datasets hold discrete actions or continuous action vectors "
                         "(a one-dimensional Box).")
    rng = np.random.default_rng(seed)
    loaded = None
    if policy != "random":
        from rlops.policies import PortablePolicy, load_policy

        loaded = load_policy(policy, env_id, env_kwargs)
        if isinstance(loaded, PortablePolicy):
            loaded.check_spaces(env)
    if continuous:
        act, described = _continuous_actor(space, loaded, policy, epsilon, rng)
    else:
        batched, described = action_probabilities(policy, int(space.n), env_id, epsilon, env_kwargs, loaded)

        def act(obs):
            p = batched(obs[None])[0]
            return int(rng.choice(len(p), p=p / p.sum())), p
    size = int(space.shape[0]) if continuous else int(space.n)
    collected = []
    for i in range(episodes):
        obs, info = env.reset(seed=seed + i)
        observations, actions, rewards, probabilities = [], [], [], []
        while True:
            action, p = act(np.asarray(obs, dtype=np.float32))
            observations.append(obs)
            actions.append(action)
            probabilities.append(p)
            obs, reward, terminated, truncated, info = env.step(action)
            rewards.append(reward)
            if terminated or truncated:
                break
        if len(actions) < 2:
            continue  # a dataset's episodes have at least 2 steps (a one-step episode has no transition within it)
        collected.append(make_episode(str(i), observations, actions, rewards,
                                      None if continuous else np.stack(probabilities), env_id,
                                      final_observation=None if terminated else obs, n_actions=size,
                                      continuous=continuous))
        if progress:
            progress(i + 1)
    env.close()
    return Dataset(collected, size, source=f"{env_id} with {described}", behaviour=described,
                   metadata={"env_id": env_id, "max_steps": max_steps, "seed": seed})


def _continuous_actor(space, policy, reference: str, noise: float, rng: np.random.Generator):
    """``(act, description)`` for a continuous action space: uniform within the bounds, or ``policy``'s action with
    Gaussian noise (``noise`` times half the range), clipped."""
    low, high = space.low.astype(np.float64), space.high.astype(np.float64)
    if policy is None:
        return (lambda obs: (rng.uniform(low, high).astype(np.float32), None)), "uniform random"
    scale = noise * (high - low) / 2

    def act(obs):
        action = np.asarray(policy.predict(obs, deterministic=True)[0], np.float64).reshape(low.shape)
        return np.clip(action + scale * rng.standard_normal(low.shape), low, high).astype(np.float32), None

    return act, (f"{reference} with Gaussian noise {noise:g} of half the range" if noise else f"{reference} (deterministic)")
