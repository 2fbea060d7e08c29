"""NumPy-batched versions of rlops's environments: one array operation steps every copy.

Each is a Gymnasium :class:`~gymnasium.vector.VectorEnv` with Gymnasium's default next-step
autoreset (the step after an episode ends resets that copy, ignores its action and returns the
first observation with reward 0), seeded per copy as Gymnasium does (``reset(seed=s)`` seeds copy
``i`` with ``s + i``). Copy ``i`` is the single-copy environment seeded the same way: the same
actions give the same observations, rewards and ends (``tests/envs/test_vector_environments.py``).
Random numbers are drawn per copy, in the blocks the single-copy environment draws them, so no
per-step loop over copies is needed; resets (rare for these long episodes) loop over the copies
that reset.

:func:`make_vector` returns the batched version of an environment id, or ``None`` when it has none.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from rlops.envs.autoscaling import (
    ALPHAS, MINUTES_PER_DAY, NOISE_BLOCK, SPIKE_BLOCK, AutoScalingConfig, AutoScalingEnv, _episode_steps, draw_spikes,
)
from rlops.envs.configuration import build_config


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


#: Environment ids with a batched version, and its class.
VECTORISED = {"rlops/AutoScaling-v0": AutoScalingVectorEnv}


def make_vector(env_id: str, num_envs: int, **kwargs: Any) -> VectorEnv | None:
    """The batched version of ``env_id`` with ``num_envs`` copies (Gymnasium's own for cart-pole), or ``None``."""
    if env_id in VECTORISED:
        return VECTORISED[env_id](num_envs, **{**(gym.spec(env_id).kwargs or {}), **kwargs})
    spec = gym.spec(env_id)
    if spec.vector_entry_point:
        return gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="vector_entry_point", **kwargs)
    return None


__all__ = ["AutoScalingVectorEnv", "VECTORISED", "make_vector", "spaces"]
