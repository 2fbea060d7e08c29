"""Running policies (trained or baselines) for seeded episodes, side by side on the same seeds."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np

#: The figures an environment reports in ``info`` that a person compares policies by.
FIGURES = {
    "rlops/AutoScaling-v0": ["downtime_minutes", "machine_minutes", "failed_transactions"],
    "rlops/Knapsack-v0": ["bag_value"],
    "rlops/KnapsackMedium-v0": ["bag_value"],
    "rlops/KnapsackHard-v0": ["bag_value"],
}
TRACE_KEYS = ("load", "capacity", "active_machines", "downtime")


@dataclass
class Report:
    """What one policy did over the evaluation episodes."""

    policy: str
    returns: list[float] = field(default_factory=list)
    figures: dict[str, list[float]] = field(default_factory=dict)
    trace: dict[str, list[float]] | None = None  # per step of the first episode, when asked for

    def summary(self) -> dict[str, Any]:
        values = np.array(self.returns)
        row = {"policy": self.policy, "episodes": len(values), "mean": float(values.mean()),
               "std": float(values.std()), "min": float(values.min()), "max": float(values.max())}
        row.update({name: float(np.mean(v)) for name, v in self.figures.items()})
        return row


def make_env(env_id: str, env_kwargs: dict[str, Any] | None = None) -> gym.Env:
    import rlops.envs  # noqa: F401  (registers the rlops/ environments)

    return gym.make(env_id, **(env_kwargs or {}))


def run_episode(policy, env: gym.Env, seed: int, figures: list[str], trace: dict | None = None) -> tuple[float, dict]:
    obs, info = env.reset(seed=seed)
    policy.reset(info, env)
    unwrapped = env.unwrapped
    masked = hasattr(unwrapped, "action_masks")
    state, start, total = None, True, 0.0
    while True:
        masks = unwrapped.action_masks() if masked else None
        action, state = policy.predict(obs, state=state, episode_start=np.array([start]), action_masks=masks)
        obs, reward, terminated, truncated, info = env.step(action)
        total += float(reward)
        start = False
        if trace is not None:
            for key in TRACE_KEYS:
                if key in info:
                    trace.setdefault(key, []).append(float(info[key]))
        if terminated or truncated:
            return total, {name: float(info[name]) for name in figures if name in info}


def evaluate(policies: dict[str, Any], env_id: str, env_kwargs: dict | None = None, episodes: int = 20,
             seed: int = 1000, trace: bool = False) -> list[Report]:
    """Each policy for ``episodes`` episodes on seeds ``seed``, ``seed + 1``, ... (the same for all)."""
    env = make_env(env_id, env_kwargs)
    figures = FIGURES.get(env_id, [])
    reports = []
    for name, policy in policies.items():
        if hasattr(policy, "check_spaces"):
            policy.check_spaces(env)
        report = Report(name, figures={f: [] for f in figures}, trace={} if trace else None)
        for i in range(episodes):
            total, values = run_episode(policy, env, seed + i, figures, report.trace if i == 0 else None)
            report.returns.append(total)
            for key, value in values.items():
                report.figures[key].append(value)
        reports.append(report)
    env.close()
    return reports


def episode_return(env_id: str, env_kwargs: dict | None = None):
    """``f(policy, seed) -> return`` on one environment: what :func:`baselines.tune` needs."""
    env = make_env(env_id, env_kwargs)

    def run(policy, seed: int) -> float:
        return run_episode(policy, env, seed, [])[0]

    return run
