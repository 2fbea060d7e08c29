"""The Stable-Baselines3 algorithms a preset can name, and RL Zoo's notation for their settings."""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass
from typing import Any, Callable

from rlops.exceptions import UsageError, did_you_mean


@dataclass(frozen=True)
class Algorithm:
    name: str
    module: str  # where the class lives
    off_policy: bool
    default_policy: str = "MlpPolicy"
    masked: bool = False  # needs action masks (MaskablePPO)
    recurrent: bool = False

    def load_class(self):
        return getattr(importlib.import_module(self.module), self.name)

    @property
    def ppo_family(self) -> bool:
        return self.name in ("PPO", "MaskablePPO", "RecurrentPPO")


ALGORITHMS = {a.name: a for a in [
    Algorithm("PPO", "stable_baselines3", off_policy=False),
    Algorithm("A2C", "stable_baselines3", off_policy=False),
    Algorithm("DQN", "stable_baselines3", off_policy=True),
    Algorithm("SAC", "stable_baselines3", off_policy=True),
    Algorithm("TD3", "stable_baselines3", off_policy=True),
    Algorithm("DDPG", "stable_baselines3", off_policy=True),
    Algorithm("MaskablePPO", "sb3_contrib", off_policy=False, masked=True),
    Algorithm("QRDQN", "sb3_contrib", off_policy=True),
    Algorithm("TRPO", "sb3_contrib", off_policy=False),
    Algorithm("RecurrentPPO", "sb3_contrib", off_policy=False, default_policy="MlpLstmPolicy", recurrent=True),
]}
_SPELLINGS = {name.lower().replace("-", "").replace("_", ""): name for name in ALGORITHMS}


def get_algorithm(name: str) -> Algorithm:
    """The algorithm called ``name`` (case and ``-``/``_`` do not matter: ``qr-dqn`` is QRDQN)."""
    key = str(name).lower().replace("-", "").replace("_", "")
    if key in _SPELLINGS:
        return ALGORITHMS[_SPELLINGS[key]]
    raise UsageError(f"Unknown algorithm {name!r}. Accepted: {', '.join(ALGORITHMS)}.{did_you_mean(name, ALGORITHMS)}")


def hyperparameter_defaults(algorithm: Algorithm) -> dict[str, Any]:
    """The algorithm's constructor keywords and their defaults (what a preset may set)."""
    params = inspect.signature(algorithm.load_class().__init__).parameters
    skip = {"self", "policy", "env", "tensorboard_log", "verbose", "seed", "device", "_init_setup_model"}
    return {name: p.default for name, p in params.items() if name not in skip and p.kind is p.POSITIONAL_OR_KEYWORD}


def linear_schedule(initial: float) -> Callable[[float], float]:
    """RL Zoo's ``lin_<value>``: decays linearly from ``initial`` to 0 over training."""

    def schedule(progress_remaining: float) -> float:
        return max(progress_remaining, 0.0) * initial  # SB3 overshoots the total on the last rollout

    schedule.initial = initial  # type: ignore[attr-defined]
    return schedule


SCHEDULABLE = {"learning_rate", "clip_range", "clip_range_vf"}
ACTIVATIONS = {"tanh": "Tanh", "relu": "ReLU", "elu": "ELU", "leaky_relu": "LeakyReLU", "gelu": "GELU", "silu": "SiLU"}


def build_kwargs(algorithm: Algorithm, hyperparameters: dict[str, Any]) -> dict[str, Any]:
    """Turn a preset's hyperparameters (RL Zoo notation) into the algorithm's constructor keywords."""
    import torch.nn as nn

    kwargs = dict(hyperparameters)
    for key in SCHEDULABLE & kwargs.keys():
        value = kwargs[key]
        if isinstance(value, str) and value.startswith("lin_"):
            kwargs[key] = linear_schedule(float(value[4:]))
    policy_kwargs = dict(kwargs.get("policy_kwargs") or {})
    activation = policy_kwargs.get("activation_fn")
    if isinstance(activation, str):
        policy_kwargs["activation_fn"] = getattr(nn, ACTIVATIONS[activation.lower()])
    if policy_kwargs:
        kwargs["policy_kwargs"] = policy_kwargs
    for key in ("train_freq",):  # YAML lists become the tuples SB3 wants
        if isinstance(kwargs.get(key), list):
            kwargs[key] = tuple(kwargs[key])
    return kwargs
