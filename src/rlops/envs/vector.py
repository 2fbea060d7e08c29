"""NumPy-batched versions of rlops's environments: one array operation steps every copy.

Each is a Gymnasium :class:`~gymnasium.vector.VectorEnv` with Gymnasium's default next-step
autoreset (the step after an episode ends resets that copy, ignores its action and returns the
first observation with reward 0), seeded per copy as Gymnasium does (``reset(seed=s)`` seeds copy
``i`` with ``s + i``). Copy ``i`` is the single-copy environment seeded the same way: the same
actions give the same observations, rewards and ends (``tests/envs/test_vector_environments.py``).
Random numbers are drawn per copy, in the blocks the single-copy environment draws them, so no
per-step loop over copies is needed; resets loop over the copies that reset (their draws come from
each copy's own generator), which for auto scaling is rare and for knapsack once an episode.

:func:`make_vector` returns the batched version of an environment id, or ``None`` when it has none.
"""

from __future__ import annotations

import math
from itertools import repeat
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from rlops.envs.autoscaling import (
    ALPHAS, MINUTES_PER_DAY, NOISE_BLOCK, SPIKE_BLOCK, AutoScalingConfig, AutoScalingEnv, _episode_steps, draw_spikes,
    net_change,
)
from rlops.envs.configuration import build_config
from rlops.envs.knapsack import PENALTY, KnapsackConfig, KnapsackEnv


class _Batched(VectorEnv):
    """What the batched environments share: spaces, per-copy generators, seeding and next-step autoreset."""

    metadata = {"render_modes": [], "autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(self, num_envs: int, single: gym.Env):
        if isinstance(num_envs, bool) or not isinstance(num_envs, int) or num_envs < 1:
            raise ValueError(f"num_envs must be a positive integer; got {num_envs!r}.")
        self.num_envs = num_envs
        self.single_observation_space = single.observation_space
        self.single_action_space = single.action_space
        self.observation_space = batch_space(single.observation_space, num_envs)
        self.action_space = batch_space(single.action_space, num_envs)
        self.rngs: list[np.random.Generator | None] = [None] * num_envs
        self.autoreset = np.zeros(num_envs, bool)

    def _seed(self, seed: int | list[int] | None) -> None:
        seeds = seed if isinstance(seed, (list, tuple)) else [None if seed is None else seed + i for i in range(self.num_envs)]
        if len(seeds) != self.num_envs:
            raise ValueError(f"reset(seed=...) got {len(seeds)} seeds for {self.num_envs} copies.")
        for i, s in enumerate(seeds):
            if s is not None or self.rngs[i] is None:
                self.rngs[i], _ = seeding.np_random(s)

    def reset(self, *, seed: int | list[int] | None = None, options: dict | None = None):
        self._seed(seed)
        self._reset_copies(np.arange(self.num_envs))
        self._options(options or {})
        self.autoreset[:] = False
        return self._observation(), {}

    def _options(self, options: dict) -> None:
        """Reset options for this episode of every copy (a value, or one per copy)."""

    def step(self, actions):
        resetting = np.flatnonzero(self.autoreset)
        rewards, terminated, truncated = self._step(np.asarray(actions), ~self.autoreset)
        if resetting.size:
            self._reset_copies(resetting)
            rewards[resetting] = 0.0
            terminated[resetting] = truncated[resetting] = False
        self.autoreset = terminated | truncated
        return self._observation(), rewards, terminated, truncated, {}

    def _reset_copies(self, copies: np.ndarray) -> None:
        raise NotImplementedError

    def _step(self, actions: np.ndarray, live: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Step every copy; random numbers are drawn only for ``live`` copies (the others are about to reset)."""
        raise NotImplementedError

    def _observation(self) -> np.ndarray:
        raise NotImplementedError


class AutoScalingVectorEnv(_Batched):
    """``num_envs`` copies of :class:`~rlops.envs.autoscaling.AutoScalingEnv` (not ``original=True``, whose draws
    come one at a time from NumPy's legacy generator)."""

    def __init__(self, num_envs: int, **config: Any):
        self.config = c = build_config(AutoScalingConfig, "AutoScaling", config)
        if c.original:
            raise ValueError("AutoScaling original=True draws its random numbers one at a time, as the original did; "
                             "it has no vectorised version (use gymnasium.vector.SyncVectorEnv).")
        super().__init__(num_envs, AutoScalingEnv(**config))
        n, w = num_envs, c.warmup_latency
        self.minutes = np.zeros(n, np.int64)
        self.profile = np.zeros((7, n))  # cyclic_min, cyclic_max, noise, phase, lf_amp, lf_period, lf_phase
        self.first_weekday = np.zeros(n, np.int64)
        self.spikes = np.zeros((n, SPIKE_BLOCK, 3))
        self.spike_index = np.zeros(n, np.int64)
        self.spike = np.zeros((3, n))  # until, width, height
        self.noise = np.zeros((n, NOISE_BLOCK, 2))
        self.active = np.zeros(n, np.int64)
        self.queue = np.zeros((n, w), np.int64)
        self.load = np.zeros(n, np.int64)
        self.failed = np.zeros(n, np.int64)
        self.is_down = np.zeros(n, np.int64)
        self.ema = np.zeros((n, 4, len(ALPHAS)))
        self.episode_steps = np.full(n, c.max_time_steps, np.int64)

    def _reset_copies(self, copies: np.ndarray) -> None:
        c = self.config
        for i in copies:  # the single-copy environment's draws at reset, in its order
            rng = self.rngs[i]
            low = rng.uniform(1000, 2000)
            self.profile[:, i] = (low, low + rng.uniform(5000, 7000), rng.uniform(0.01, 0.05), rng.uniform(-np.pi, np.pi),
                                  rng.uniform(0.1, 0.2), rng.uniform(2, 5), rng.uniform(-np.pi, np.pi))
            self.spikes[i] = draw_spikes(rng, SPIKE_BLOCK)
            self.first_weekday[i] = rng.integers(0, 7)
            self.noise[i] = rng.standard_normal((NOISE_BLOCK, 2))
        self.spike_index[copies] = 0
        self.episode_steps[copies] = c.max_time_steps
        self._take_spike(copies)
        self.minutes[copies] = 0
        self.active[copies] = c.initial_machines
        self.queue[copies] = 0
        self.load[copies] = 0
        self.ema[copies] = 0.0
        self._serve(copies)

    def _options(self, options: dict) -> None:
        """``{"max_time_steps": k}``, one value or one per copy: the length of this episode alone, as for the
        single-copy environment (the fast engine staggers its copies' first episodes with it)."""
        if "max_time_steps" in options:
            self.episode_steps[:] = np.broadcast_to(_episode_steps(options, None), self.num_envs)

    def _take_spike(self, copies: np.ndarray) -> None:
        until, width, share = self.spikes[copies, self.spike_index[copies]].T
        self.spike[:, copies] = until, width, self.profile[1, copies] * share

    def _serve(self, copies) -> np.ndarray:
        c = self.config
        z = self.noise[copies, self.minutes[copies] % NOISE_BLOCK, 1]
        active, load = self.active[copies], self.load[copies]
        capacity = np.trunc(active * (c.tpm_per_machine + c.tpm_sigma * z)).astype(np.int64)
        failed = np.maximum(0, load - capacity)
        succeeded = load - failed
        reward = succeeded * c.transaction_val / 1000.0
        is_down = (100.0 * succeeded / (load + 1e-20) < c.downtime_percent).astype(np.int64)
        reward = reward - is_down * c.downtime_cost - active * c.machine_cost
        self.failed[copies], self.is_down[copies] = failed, is_down
        signals = np.stack([load / c.max_tpm, failed / (load + 1e-5), is_down, active / c.max_machines], axis=1)
        self.ema[copies] = self.ema[copies] * (1.0 - ALPHAS) + signals[:, :, None] * ALPHAS
        return reward

    def _step(self, actions, live):
        c = self.config
        if c.action_type == "net":
            actions = np.stack(net_change(actions.reshape(self.num_envs), c.max_machine_delta), axis=1)
        actions = actions.reshape(self.num_envs, 2)
        if actions.dtype.kind == "f":
            actions = np.trunc(actions)
        turn_on, turn_off = actions[:, 0].astype(np.int64), actions[:, 1].astype(np.int64)
        bad = (turn_on < 0) | (turn_on > c.max_machine_delta) | (turn_off < 0) | (turn_off > c.max_machine_delta)
        if bad.any():
            raise ValueError(f"AutoScaling actions {actions[bad][:3].tolist()} are out of range: each of (turn on, "
                             f"turn off) must be 0 to {c.max_machine_delta}.")
        self.active = np.minimum(np.maximum(0, self.active - turn_off) + self.queue[:, 0], c.max_machines)
        self.queue[:, :-1] = self.queue[:, 1:]
        self.queue[:, -1] = turn_on
        self.load = self._next_load(live)
        reward = self._serve(np.arange(self.num_envs))
        # the episode is max_time_steps + 1 minutes; it never terminates
        truncated = self.minutes > self.episode_steps
        return reward.astype(np.float64), np.zeros(self.num_envs, bool), truncated

    def _next_load(self, live: np.ndarray) -> np.ndarray:
        c = self.config
        self.minutes += 1
        for i in np.flatnonzero((self.minutes % NOISE_BLOCK == 0) & live):
            self.noise[i] = self.rngs[i].standard_normal((NOISE_BLOCK, 2))
        low, high, noise, phase0, lf_amp, lf_period, lf_phase = self.profile
        avg = (low + high) / 2.0
        amplitude = (high - low) / 2.0
        phase = self.minutes / (60 * 12) * np.pi + phase0
        cyclic = avg + amplitude * np.sin(phase)
        cyclic = cyclic * (1 + np.sin(phase / lf_period + lf_phase) * lf_amp)
        cyclic = cyclic * (1 + noise * self.noise[np.arange(self.num_envs), self.minutes % NOISE_BLOCK, 0])
        if c.weekly_amplitude:
            weekend = (self.first_weekday + self.minutes // MINUTES_PER_DAY) % 7 >= 5
            cyclic = cyclic * np.where(weekend, 1.0 - c.weekly_amplitude, 1.0)
        until, width, height = self.spike
        until -= 1  # in place: self.spike[0]
        spike = np.where(until <= 0, height * (1.0 + until / width), 0.0)
        over = np.flatnonzero((spike < 0) & live)  # that spike is over: the next one
        if over.size:
            self.spike_index[over] += 1
            for i in over[self.spike_index[over] == SPIKE_BLOCK]:
                self.spikes[i], self.spike_index[i] = draw_spikes(self.rngs[i], SPIKE_BLOCK), 0
            self._take_spike(over)
        return np.minimum(np.maximum(np.trunc(cyclic + spike), 0), c.max_tpm).astype(np.int64)

    def _observation(self) -> np.ndarray:
        c = self.config
        obs = np.concatenate([self.ema.transpose(0, 2, 1).reshape(self.num_envs, -1), self.queue / c.max_machine_delta], axis=1)
        return np.clip(obs, 0.0, 1.0).astype(np.float32)


class KnapsackVectorEnv(_Batched):
    """``num_envs`` copies of :class:`~rlops.envs.knapsack.KnapsackEnv`. Every episode has ``horizon`` steps, so
    the copies end, and reset, together. ``action_masks()`` gives each copy's allowed actions, as the single copy's
    does (for the fast engine's masked PPO)."""

    def __init__(self, num_envs: int, **config: Any):
        config = {k: tuple(v) if isinstance(v, list) else v for k, v in config.items()}  # YAML gives lists
        self.config = c = build_config(KnapsackConfig, "Knapsack", config)
        super().__init__(num_envs, KnapsackEnv(**config))
        n, d = num_envs, 2 if c.volume else 1
        self.capacity = np.zeros((n, d), np.int64)
        self.sizes = np.zeros((n, c.horizon, d), np.int64)
        self.values = np.zeros((n, c.horizon), np.int64)
        self.put = np.zeros((n, c.horizon), bool)  # which items went into the bag
        self.bag_size = np.zeros((n, d), np.int64)
        self.bag_value = np.zeros(n, np.int64)
        self.t = np.zeros(n, np.int64)

    def _reset_copies(self, copies: np.ndarray) -> None:
        c = self.config
        for i in copies:  # the single-copy environment's draws at reset, in its order
            rng = self.rngs[i]
            self.capacity[i] = rng.integers(*c.capacity_range)
            if c.volume:
                self.capacity[i, 1] = rng.integers(*c.capacity_range)
            for k in range(self.sizes.shape[2]):
                self.sizes[i, :, k] = rng.integers(*c.weight_range, size=c.horizon)
            self.values[i] = rng.integers(*c.value_range, size=c.horizon)
        self.put[copies] = False
        self.bag_size[copies] = 0
        self.bag_value[copies] = 0
        self.t[copies] = 0

    def _item(self) -> tuple[np.ndarray, np.ndarray]:
        """Each copy's current item (size, value); zeros once its episode is over."""
        c, rows = self.config, np.arange(self.num_envs)
        t = np.minimum(self.t, c.horizon - 1)
        over = self.t >= c.horizon
        return np.where(over[:, None], 0, self.sizes[rows, t]), np.where(over, 0, self.values[rows, t])

    def _fits(self, size: np.ndarray) -> np.ndarray:
        return np.all(self.bag_size + size <= self.capacity, axis=1)

    def action_masks(self) -> np.ndarray:
        """``(num_envs, 2)``: throwing is always allowed; putting only an item that fits, before the end."""
        size, _ = self._item()
        return np.stack([np.ones(self.num_envs, bool), (self.t < self.config.horizon) & self._fits(size)], axis=1)

    def _step(self, actions, live):
        c, rows = self.config, np.arange(self.num_envs)
        if (self.t >= c.horizon)[live].any():
            raise RuntimeError("Knapsack episode is over: call reset().")
        size, value = self._item()
        put = (actions.reshape(self.num_envs) == 1) & self._fits(size) & live
        self.put[rows, np.minimum(self.t, c.horizon - 1)] |= put
        self.bag_size += np.where(put[:, None], size, 0)
        self.bag_value += np.where(put, value, 0)
        rewards = np.where(put, value, PENALTY).astype(np.float64)
        self.t += live
        if c.stay:  # the item put in ``stay`` steps ago leaves the bag
            gone = self.t - c.stay
            g = np.clip(gone, 0, c.horizon - 1)
            leaving = (gone >= 0) & live & self.put[rows, g]
            self.bag_size -= np.where(leaving[:, None], self.sizes[rows, g], 0)
            self.bag_value -= np.where(leaving, self.values[rows, g], 0)
        terminated = self.t >= c.horizon
        return rewards, terminated, np.zeros(self.num_envs, bool)

    def _observation(self) -> np.ndarray:
        c = self.config
        size, value = self._item()
        remaining = c.horizon - self.t
        columns = [self.capacity, self.bag_size, self.bag_value[:, None], size, value[:, None], remaining[:, None]]
        return np.concatenate(columns, axis=1).astype(np.float32)


class MountainCarVectorEnv(_Batched):
    """``num_envs`` copies of Gymnasium's mountain car, discrete (``MountainCar-v0``) or continuous
    (``MountainCarContinuous-v0``), with the time limit of the environment id it stands for (200 and 999 steps,
    10,000 for rlops's patient versions) applied as Gymnasium's ``TimeLimit`` does. The continuous car keeps its
    state in float32 from its second step on, as Gymnasium's does; its arithmetic is rounded the same way."""

    def __init__(self, num_envs: int, continuous: bool = False, max_episode_steps: int = 200,
                 goal_velocity: float = 0.0):
        from gymnasium.envs.classic_control.continuous_mountain_car import Continuous_MountainCarEnv
        from gymnasium.envs.classic_control.mountain_car import MountainCarEnv

        single = (Continuous_MountainCarEnv if continuous else MountainCarEnv)(goal_velocity=goal_velocity)
        super().__init__(num_envs, single)
        self.physics, self.continuous, self.max_episode_steps = single, continuous, int(max_episode_steps)
        self.position = np.zeros(num_envs)
        self.velocity = np.zeros(num_envs)
        self.elapsed = np.zeros(num_envs, np.int64)
        self.float32 = np.zeros(num_envs, bool)  # the continuous car's state is float32 after its first step

    def _reset_copies(self, copies: np.ndarray) -> None:
        for i in copies:
            self.position[i] = self.rngs[i].uniform(low=-0.6, high=-0.4)
        self.velocity[copies] = 0.0
        self.elapsed[copies] = 0
        self.float32[copies] = False

    def _step(self, actions, live):
        car = self.physics
        if self.continuous:
            actions = np.asarray(actions).reshape(self.num_envs)
            position, velocity, terminated = self._continuous_physics(actions)
            if actions.dtype == np.float32:  # math.pow of a float32 value is exact, as its square is
                square = actions.astype(np.float64) ** 2
            else:  # the last bit of libm's pow, which Gymnasium's reward uses, is not always the square's
                square = np.fromiter(map(math.pow, actions.astype(np.float64).tolist(), repeat(2.0)), np.float64,
                                     len(actions))
            rewards = np.where(terminated, 100.0, 0.0) - square * 0.1
            position, velocity = _f32(position), _f32(velocity)  # the state is kept as float32
            self.float32[:] = True
        else:
            actions = actions.reshape(self.num_envs)
            bad = ~np.isin(actions, (0, 1, 2)) & live
            if bad.any():
                raise ValueError(f"MountainCar actions {actions[bad][:3].tolist()} are out of "
                                 "range: accepted 0 (push left), 1 (no push) and 2 (push right).")
            velocity = self.velocity + (actions - 1) * car.force + np.cos(3 * self.position) * (-car.gravity)
            velocity = np.clip(velocity, -car.max_speed, car.max_speed)
            position = np.clip(self.position + velocity, car.min_position, car.max_position)
            velocity = np.where((position == car.min_position) & (velocity < 0), 0.0, velocity)
            terminated = (position >= car.goal_position) & (velocity >= car.goal_velocity)
            rewards = np.full(self.num_envs, -1.0)
        self.position, self.velocity = position, velocity
        self.elapsed += 1
        return rewards, terminated, self.elapsed >= self.max_episode_steps

    def _continuous_physics(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Gymnasium's continuous step in its own precision, per copy. Its state is float64 at the first step and
        float32 after; a float32 action gives float32 arithmetic; a clipped force, speed or position becomes a
        Python float (NumPy 2 casts it to the other operand's precision). Everything here is float64 holding those
        values: float32 arithmetic is float64 arithmetic rounded to float32 (exact for +, -, *)."""
        car, state32 = self.physics, self.float32
        force = actions.astype(np.float64)
        clipped = (force < car.min_action) | (force > car.max_action)
        force = np.clip(force, car.min_action, car.max_action)
        slope = 0.0025 * np.cos(np.where(state32, _f32(3 * self.position), 3 * self.position))
        change = force * car.power - slope
        if actions.dtype == np.float32:
            change = np.where(clipped, change, _f32(_f32(force * _f32(car.power)) - _f32(slope)))
        double = ~clipped & (actions.dtype == np.float64)  # a NumPy float64 force makes the sum float64
        v32 = state32 & ~double  # where the velocity is float32 after the sum
        velocity = np.where(v32, _f32(self.velocity + _f32(change)), self.velocity + change)
        limit = np.where(v32, _f32(car.max_speed), car.max_speed)
        capped = (velocity > limit) | (velocity < -limit)
        velocity = np.where(capped, np.sign(velocity) * car.max_speed, velocity)
        x32 = state32 & (v32 | capped)  # where the position is float32 after the sum
        v32 &= ~capped
        position = np.where(x32, _f32(self.position + _f32(velocity)), self.position + velocity)
        high = np.where(x32, _f32(car.max_position), car.max_position)
        low = np.where(x32, _f32(car.min_position), car.min_position)
        capped = (position > high) | (position < low)
        position = np.where(position > high, car.max_position, np.where(position < low, car.min_position, position))
        x32 &= ~capped
        velocity = np.where((position == car.min_position) & (velocity < 0), 0.0, velocity)
        v32 &= velocity != 0.0
        terminated = ((position >= np.where(x32, _f32(car.goal_position), car.goal_position))
                      & (velocity >= np.where(v32, _f32(car.goal_velocity), car.goal_velocity)))
        return position, velocity, terminated

    def _observation(self) -> np.ndarray:
        return np.stack([self.position, self.velocity], axis=1).astype(np.float32)


def _f32(x):
    """The float32 rounding of float64 values, kept as float64."""
    return np.asarray(x, np.float64).astype(np.float32).astype(np.float64)


def _mountain_car(env_id: str, continuous: bool):
    """A maker of the batched mountain car ``env_id`` stands for, with its registered time limit."""
    def make(num_envs: int, **kwargs: Any) -> MountainCarVectorEnv:
        return MountainCarVectorEnv(num_envs, continuous, gym.spec(env_id).max_episode_steps, **kwargs)
    return make


#: Environment ids with a batched version, and its class.
VECTORISED = {
    "rlops/AutoScaling-v0": AutoScalingVectorEnv,
    "rlops/Knapsack-v0": KnapsackVectorEnv,
    "rlops/KnapsackMedium-v0": KnapsackVectorEnv,
    "rlops/KnapsackHard-v0": KnapsackVectorEnv,
    "MountainCar-v0": _mountain_car("MountainCar-v0", continuous=False),
    "rlops/PatientMountainCar-v0": _mountain_car("rlops/PatientMountainCar-v0", continuous=False),
    "MountainCarContinuous-v0": _mountain_car("MountainCarContinuous-v0", continuous=True),
    "rlops/PatientMountainCarContinuous-v0": _mountain_car("rlops/PatientMountainCarContinuous-v0", continuous=True),
}


def make_vector(env_id: str, num_envs: int, **kwargs: Any) -> VectorEnv | None:
    """The batched version of ``env_id`` with ``num_envs`` copies (Gymnasium's own for cart-pole), or ``None``."""
    if env_id in VECTORISED:
        return VECTORISED[env_id](num_envs, **{**(gym.spec(env_id).kwargs or {}), **kwargs})
    spec = gym.spec(env_id)
    if spec.vector_entry_point:
        return gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="vector_entry_point", **kwargs)
    return None


__all__ = ["AutoScalingVectorEnv", "KnapsackVectorEnv", "MountainCarVectorEnv", "VECTORISED", "make_vector", "spaces"]
