"""The online knapsack: items arrive one at a time; keep each or throw it away (SPEC section 5)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from rlops.envs.configuration import build_config

PENALTY = -10.0  # throwing an item, or putting one that does not fit


@dataclass(frozen=True)
class KnapsackConfig:
    """Every value of a knapsack problem; all can be overridden as environment arguments."""

    horizon: int = 20  #: items per episode
    capacity_range: tuple[int, int] = (100, 1000)  #: bag capacity drawn in [low, high)
    weight_range: tuple[int, int] = (1, 100)  #: item weight drawn in [low, high)
    value_range: tuple[int, int] = (1, 100)  #: item value drawn in [low, high)
    volume: bool = False  #: items and bag also have a volume, drawn like weight and capacity
    stay: int = 0  #: steps an item stays in the bag before it leaves (0: forever)

    def __post_init__(self):
        if isinstance(self.horizon, bool) or not isinstance(self.horizon, int) or self.horizon < 1:
            raise ValueError(f"Knapsack config horizon={self.horizon!r} is out of range: accepted an integer >= 1.")
        for name in ("capacity_range", "weight_range", "value_range"):
            low, high = getattr(self, name)
            if not (isinstance(low, int) and isinstance(high, int)) or low < 1 or high <= low:
                raise ValueError(f"Knapsack config {name}={(low, high)!r} is out of range: accepted integers "
                                 "1 <= low < high (values are drawn in [low, high)).")
        if self.capacity_range[0] < self.weight_range[1] - 1:
            raise ValueError(f"Knapsack config capacity_range={self.capacity_range!r} is out of range: the smallest "
                             f"capacity must hold the largest item (weight up to {self.weight_range[1] - 1}).")
        if isinstance(self.stay, bool) or not isinstance(self.stay, int) or self.stay < 0:
            raise ValueError(f"Knapsack config stay={self.stay!r} is out of range: accepted an integer >= 0.")


class KnapsackEnv(gym.Env):
    """
    ## Description

    An online knapsack: ``horizon`` items arrive one per step, each with a weight (and, in the
    medium and hard problems, a volume) and a value. The agent puts the item in the bag or
    throws it away, without knowing what comes next. In the hard problem each item leaves the
    bag ``stay`` steps after it went in. From SageMaker RL's knapsack example.

    ## Action Space

    ``Discrete(2)``: 0 throws the item away, 1 puts it in the bag. ``action_masks()`` says which
    actions are allowed (putting an item that does not fit is not), for MaskablePPO.

    ## Observation Space

    ``Box(float32)``: easy ``[capacity, bag_weight, bag_value, item_weight, item_value,
    time_remaining]``; with volume ``[weight_capacity, volume_capacity, bag_weight, bag_volume,
    bag_value, item_weight, item_volume, item_value, time_remaining]``.

    ## Rewards

    The item's value when it is put in and fits; -10 when it is thrown away, or put in and does
    not fit (the item is lost).

    ## Starting State

    An empty bag with a capacity drawn from ``capacity_range``, and the first item.

    ## Episode End

    Terminated after ``horizon`` items.

    ## Arguments

    Every field of :class:`KnapsackConfig`. ``rlops/Knapsack-v0`` (horizon 20),
    ``rlops/KnapsackMedium-v0`` (horizon 50, volume) and ``rlops/KnapsackHard-v0`` (horizon 100,
    volume, items leave after 5 steps) are presets of it.

    ``info`` carries ``capacity`` and ``bag_value``; the ``info`` of ``reset`` also carries
    ``items``, every item of the episode (drawn at reset), so a hindsight optimum can be computed.
    """

    metadata = {"render_modes": []}

    def __init__(self, render_mode: str | None = None, **config: Any):
        self.render_mode = render_mode  # nothing to render; accepted as Gymnasium's make() passes it
        config = {k: tuple(v) if isinstance(v, list) else v for k, v in config.items()}  # YAML gives lists
        self.config = c = build_config(KnapsackConfig, "Knapsack", config)
        cap, weight, value = c.capacity_range[1] - 1, c.weight_range[1] - 1, c.value_range[1] - 1
        if c.volume:
            high = [cap, cap, cap, cap, value * c.horizon, weight, weight, value, c.horizon]
        else:
            high = [cap, cap, value * c.horizon, weight, value, c.horizon]
        self.observation_space = spaces.Box(0.0, np.array(high, dtype=np.float32), dtype=np.float32)
        self.action_space = spaces.Discrete(2)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        c, rng = self.config, self.np_random
        self.capacity = np.array([rng.integers(*c.capacity_range)] * (2 if c.volume else 1))
        if c.volume:
            self.capacity[1] = rng.integers(*c.capacity_range)
        n = c.horizon
        sizes = [rng.integers(*c.weight_range, size=n)]
        if c.volume:
            sizes.append(rng.integers(*c.weight_range, size=n))
        self.items = {"size": np.stack(sizes, axis=1), "value": rng.integers(*c.value_range, size=n)}
        self.t = 0
        self.bag: list[tuple[int, np.ndarray, int]] = []  # (leaves at step, size, value)
        self.bag_value = 0
        return self._observation(), self._info(with_items=True)

    @property
    def bag_size(self) -> np.ndarray:
        return sum((size for _, size, _ in self.bag), np.zeros_like(self.capacity))

    def fits(self) -> bool:
        return bool(np.all(self.bag_size + self.items["size"][self.t] <= self.capacity))

    def action_masks(self) -> np.ndarray:
        return np.array([True, self.t < self.config.horizon and self.fits()])

    def _observation(self) -> np.ndarray:
        c = self.config
        t = min(self.t, c.horizon - 1)
        item_size, item_value = self.items["size"][t], self.items["value"][t]
        if self.t >= c.horizon:
            item_size, item_value = np.zeros_like(item_size), 0
        remaining = c.horizon - self.t
        if c.volume:
            obs = [*self.capacity, *self.bag_size, self.bag_value, *item_size, item_value, remaining]
        else:
            obs = [self.capacity[0], self.bag_size[0], self.bag_value, item_size[0], item_value, remaining]
        return np.array(obs, dtype=np.float32)

    def _info(self, with_items: bool = False) -> dict[str, Any]:
        info = {"capacity": self.capacity.copy(), "bag_value": self.bag_value}
        if with_items:
            info["items"] = {k: v.copy() for k, v in self.items.items()}
        return info

    def step(self, action):
        c = self.config
        if self.t >= c.horizon:
            raise RuntimeError("Knapsack episode is over: call reset().")
        if int(action) == 1 and self.fits():
            size, value = self.items["size"][self.t], int(self.items["value"][self.t])
            self.bag.append((self.t + c.stay if c.stay else c.horizon + 1, size, value))
            self.bag_value += value
            reward = float(value)
        else:
            reward = PENALTY
        self.t += 1
        if c.stay:  # items leave the bag after their stay; the bag's value counts what is in it
            leaving = [item for item in self.bag if item[0] <= self.t]
            self.bag = [item for item in self.bag if item[0] > self.t]
            self.bag_value -= sum(value for _, _, value in leaving)
        terminated = self.t >= c.horizon
        return self._observation(), reward, terminated, False, self._info()
