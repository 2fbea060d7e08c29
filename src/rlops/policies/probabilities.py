"""A policy as the probability it gives each action, for a batch of observations: what datasets log as the
behaviour policy's and what off-policy evaluation weighs as the target's.

``random`` is uniform; a trained policy gives its ``probabilities`` output when it has one; otherwise (a
deterministic policy, a baseline) all the probability is on its action, spread by ``epsilon`` over all
actions when asked (epsilon-greedy).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

Probabilities = Callable[[np.ndarray], np.ndarray]  # a batch of observations -> (batch, n_actions)


def action_probabilities(reference: str, n_actions: int, env_id: str | None = None, epsilon: float = 0.0,
                         env_kwargs: dict | None = None, policy=None) -> tuple[Probabilities, str]:
    """``(probabilities for a batch of observations, a description)`` of the policy ``reference`` names (or of
    ``policy``, already loaded)."""
    if reference == "random":
        return (lambda obs: np.full((len(obs), n_actions), 1.0 / n_actions)), "uniform random"
    from rlops.policies import PortablePolicy, load_policy

    policy = policy or load_policy(reference, env_id, env_kwargs)
    if isinstance(policy, PortablePolicy) and "probabilities" in policy.manifest["outputs"] and epsilon == 0:
        return (lambda obs: policy.run(np.asarray(obs, np.float32))["probabilities"].astype(np.float64),
                f"{reference} (its own probabilities)")
    identity = np.eye(n_actions)

    def greedy(obs: np.ndarray) -> np.ndarray:
        actions = [int(np.asarray(policy.predict(o, deterministic=True)[0]).reshape(-1)[0]) for o in obs]
        return identity[actions] * (1.0 - epsilon) + epsilon / n_actions

    return greedy, (f"{reference}, epsilon-greedy with epsilon={epsilon:g}" if epsilon else f"{reference} (deterministic)")
