"""The rules a person would write instead of RL, as policies with a trained policy's interface.

``predict(observation) -> (action, state)`` as SB3's, plus ``reset(info)`` at each episode start.

- Auto scaling: a **static fleet** (hold a fixed number of machines) and **target tracking**
  (what cloud autoscalers do: keep utilisation near a target, counting machines still warming
  up). Their one setting (fleet size, target) is chosen by :func:`tune` on training seeds, so the
  comparison with a learned policy is honest.
- Knapsack: the **hindsight optimum** (dynamic programming over the whole episode's items, an
  upper bound no online policy reaches) and an online **value-density threshold** rule (tuned).
- Mountain car: **pump** (push the way the car moves, building up the swing: it reaches the flag in
  about 100 steps), for the discrete and the continuous car.
"""

from __future__ import annotations

import math
from typing import Callable, Iterable

import numpy as np

from rlops.envs.autoscaling import ALPHAS
from rlops.envs.knapsack import PENALTY


class Baseline:
    name = "baseline"
    setting: str = ""  # the tuned parameter's name

    def __init__(self, env, value: float | None = None):
        self.env = env.unwrapped
        self.value = value

    def reset(self, info: dict | None = None, env=None) -> None:
        """Called at each episode start with the environment the episode runs in."""
        if env is not None:
            self.env = env.unwrapped

    def predict(self, observation, state=None, episode_start=None, deterministic=True, action_masks=None):
        return self.act(np.asarray(observation)), state

    def describe(self) -> str:
        return f"{self.name} ({self.setting}={self.value:g})" if self.setting else self.name


class _Fleet(Baseline):
    """Shared arithmetic of the auto-scaling baselines: machines running, warming, and the load."""

    def fleet(self, obs: np.ndarray) -> tuple[int, int, float]:
        config = self.env.config
        n = len(ALPHAS)
        active = round(float(obs[3]) * config.max_machines)
        warming = round(float(np.sum(obs[4 * n:])) * config.max_machine_delta)
        load = float(obs[0]) * config.max_tpm
        return active, warming, load

    def steer(self, active: int, warming: int, desired: int) -> np.ndarray:
        """Turn machines on up to ``desired`` (counting those warming), off only when none are warming."""
        limit = self.env.config.max_machine_delta
        on = int(np.clip(desired - active - warming, 0, limit))
        off = int(np.clip(active - desired, 0, limit)) if warming == 0 else 0
        return self._action(on, off)

    def _action(self, on: int, off: int):
        if self.env.config.action_type == "net":  # steer never turns machines on and off in the same minute
            return np.int64(on - off + self.env.config.max_machine_delta)
        return np.array([on, off], dtype=self.env.action_space.dtype)


class StaticFleet(_Fleet):
    """Hold ``value`` machines all the time."""

    name, setting = "static-fleet", "machines"
    grid = list(range(25, 81, 5))

    def act(self, obs):
        active, warming, _ = self.fleet(obs)
        return self.steer(active, warming, int(self.value))


class TargetTracking(_Fleet):
    """Keep utilisation (load / capacity of running and warming machines) near ``value``."""

    name, setting = "target-tracking", "target"
    grid = [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9]

    def act(self, obs):
        active, warming, load = self.fleet(obs)
        desired = math.ceil(load / (self.env.config.tpm_per_machine * self.value))
        return self.steer(active, warming, max(desired, 1))


class ValueDensityThreshold(Baseline):
    """Put an item in when it fits and its value per unit of (relative) size is at least ``value``."""

    name, setting = "threshold", "density"
    grid = [0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0]

    def act(self, obs):
        env = self.env
        if not env.action_masks()[1]:
            return 0
        size = env.items["size"][env.t] / env.capacity * env.capacity[0]  # sizes in units of the first capacity
        density = env.items["value"][env.t] / max(float(np.sum(size)) / len(size), 1e-9)
        return int(density >= self.value)


class HindsightOptimum(Baseline):
    """Knows the whole episode's items: puts in exactly the best subset (dynamic programming).

    Scored with the environment's own reward (a thrown item costs 10), so it maximises the sum of
    ``value + 10`` over the items kept. Defined for items that never leave the bag.
    """

    name = "hindsight-optimum"

    def reset(self, info: dict | None = None, env=None) -> None:
        super().reset(info, env)
        env = self.env
        if env.config.stay:
            raise ValueError("The hindsight optimum is defined for knapsacks whose items never leave the bag "
                             "(Knapsack-v0, KnapsackMedium-v0); use the threshold baseline for KnapsackHard-v0.")
        self.plan = optimal_subset(env.items["size"], env.items["value"] - PENALTY, env.capacity)

    def act(self, obs):
        return int(self.plan[self.env.t])


def optimal_subset(sizes: np.ndarray, values: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    """Which items to keep (bool per item) to maximise total value within every capacity."""
    capacity = [int(c) for c in capacity]
    best = np.zeros([c + 1 for c in capacity])
    keep = []
    for size, value in zip(sizes, values):
        if any(int(s) > c for s, c in zip(size, capacity)):  # never fits
            keep.append(np.zeros_like(best, dtype=bool))
            continue
        shifted = np.full_like(best, -np.inf)
        target = tuple(slice(int(s), None) for s in size)
        source = tuple(slice(None, c + 1 - int(s)) for s, c in zip(size, capacity))
        shifted[target] = best[source] + value
        take = shifted > best
        keep.append(take)
        best = np.where(take, shifted, best)
    chosen = np.zeros(len(values), dtype=bool)
    remaining = tuple(capacity)
    for i in range(len(values) - 1, -1, -1):
        if keep[i][remaining]:
            chosen[i] = True
            remaining = tuple(r - int(s) for r, s in zip(remaining, sizes[i]))
    return chosen


class Pump(Baseline):
    """Push the way the car moves (left when it rolls left, right otherwise): its swing grows until it reaches the
    flag. Mountain cars, discrete (actions 0 and 2) and continuous (-1 and 1)."""

    name = "pump"

    def act(self, obs):
        right = float(obs[1]) >= 0
        if hasattr(self.env.action_space, "n"):
            return np.int64(2 if right else 0)
        return np.array([1.0 if right else -1.0], dtype=self.env.action_space.dtype)


BASELINES = {cls.name: cls for cls in (StaticFleet, TargetTracking, ValueDensityThreshold, HindsightOptimum, Pump)}
FOR_ENVIRONMENT = {
    "rlops/AutoScaling-v0": ["static-fleet", "target-tracking"],
    "rlops/Knapsack-v0": ["hindsight-optimum", "threshold"],
    "rlops/KnapsackMedium-v0": ["hindsight-optimum", "threshold"],
    "rlops/KnapsackHard-v0": ["threshold"],
    "MountainCar-v0": ["pump"],
    "MountainCarContinuous-v0": ["pump"],
}
TRAINING_SEEDS = range(3)


def make_baseline(name: str, env, value: float | None = None, tune_with: Callable | None = None) -> Baseline:
    """The baseline ``name`` for ``env``; a tunable one without ``value`` is tuned with ``tune_with``."""
    from rlops.exceptions import UsageError, did_you_mean

    if name not in BASELINES:
        raise UsageError(f"Unknown baseline {name!r}. Accepted: {', '.join(BASELINES)}.{did_you_mean(name, BASELINES)}")
    cls = BASELINES[name]
    if cls.setting and value is None:
        value = tune(cls, env, tune_with) if tune_with else cls.grid[len(cls.grid) // 2]
    return cls(env, value)


def tune(cls, env, episode_return: Callable[[Baseline, int], float], seeds: Iterable[int] = TRAINING_SEEDS) -> float:
    """The setting of ``cls.grid`` with the best mean return over the training ``seeds``."""
    scores = {value: np.mean([episode_return(cls(env, value), seed) for seed in seeds]) for value in cls.grid}
    return max(scores, key=scores.get)
