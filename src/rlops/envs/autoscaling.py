"""Predictive auto scaling: a web service's fleet of machines against a daily (and weekly) load.

The simulator of SageMaker RL's auto-scaling example (SPEC section 5), as a Gymnasium 1.x
environment. Only Gymnasium and NumPy are needed here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from rlops.envs.configuration import build_config

ALPHAS = np.array([1.0, 0.1, 0.01, 0.001, 0.0001])
ACTION_TYPES = ("multidiscrete", "box", "net")
MINUTES_PER_DAY = 60 * 24
#: Minutes of noise drawn at once (standard normals for the load's noise and the fleet's capacity), and spikes drawn
#: at once: the draws come in blocks so that the vectorised simulator (:mod:`rlops.envs.vector`) reproduces them.
NOISE_BLOCK = 1024
SPIKE_BLOCK = 16


@dataclass(frozen=True)
class AutoScalingConfig:
    """Every value the simulator uses; all can be overridden as environment arguments."""

    warmup_latency: int = 5  #: minutes a new machine takes to warm up
    tpm_per_machine: float = 300  #: transactions per minute a machine serves on average
    tpm_sigma: float = 30  #: standard deviation of a machine's capacity
    machine_cost: float = 0.05  #: dollars per machine-minute
    transaction_val: float = 0.90  #: dollars per 1,000 successful transactions
    downtime_cost: float = 200  #: dollars per minute of downtime, beyond the lost transactions
    downtime_percent: float = 99.5  #: availability below this percentage is downtime
    initial_machines: int = 50
    max_time_steps: int = 10000  #: an episode is max_time_steps + 1 minutes
    max_tpm: float = 100_000
    max_machine_delta: int = 10  #: machines that may be turned on (and off) per minute
    weekly_amplitude: float = 0.25  #: weekend load is (1 - weekly_amplitude) times weekday load
    original: bool = False  #: the original dynamics exactly: no weekly term, NumPy's legacy generator
    #: "multidiscrete" (MultiDiscrete([11, 11]): on, off), "box" (the original) or "net" (Discrete(21): the net change
    #: minus 10, that is turn on k - 10 machines or turn off 10 - k)
    action_type: str = "multidiscrete"

    def __post_init__(self):
        checks = {
            "warmup_latency": (self.warmup_latency, 1, None), "tpm_per_machine": (self.tpm_per_machine, 1e-9, None),
            "tpm_sigma": (self.tpm_sigma, 0, None), "machine_cost": (self.machine_cost, 0, None),
            "transaction_val": (self.transaction_val, 0, None), "downtime_cost": (self.downtime_cost, 0, None),
            "downtime_percent": (self.downtime_percent, 0, 100), "initial_machines": (self.initial_machines, 1, None),
            "max_time_steps": (self.max_time_steps, 1, None), "max_tpm": (self.max_tpm, 1, None),
            "max_machine_delta": (self.max_machine_delta, 1, None), "weekly_amplitude": (self.weekly_amplitude, 0, 1),
        }
        for name, (value, low, high) in checks.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < low or (high is not None and value > high):
                bounds = f"[{low}, {high}]" if high is not None else f">= {low}"
                raise ValueError(f"AutoScaling config {name}={value!r} is out of range: accepted {bounds}.")
        if self.initial_machines > self.max_machines:
            raise ValueError(f"AutoScaling config initial_machines={self.initial_machines} is out of range: accepted "
                             f"1 to max_machines={self.max_machines} (2.5 * max_tpm / tpm_per_machine).")
        if self.action_type not in ACTION_TYPES:
            raise ValueError(f"AutoScaling config action_type={self.action_type!r}: accepted "
                             f"{', '.join(map(repr, ACTION_TYPES))}.")

    @property
    def max_machines(self) -> int:
        return int(2.5 * self.max_tpm / self.tpm_per_machine)


def net_change(actions: np.ndarray, delta: int) -> tuple[np.ndarray, np.ndarray]:
    """``action_type="net"``: one action or a batch of them (``k`` adds ``k - delta`` machines) as machines to turn on
    and to turn off; refuses ``k`` outside ``0 .. 2 * delta``."""
    k = np.asarray(actions).astype(np.int64)
    bad = (k < 0) | (k > 2 * delta)
    if bad.any():
        given = f"action {int(k)} is" if k.ndim == 0 else f"actions {k[bad][:3].tolist()} are"
        raise ValueError(f"AutoScaling {given} out of range: accepted 0 to {2 * delta} (the net change plus {delta}).")
    return np.maximum(k - delta, 0), np.maximum(delta - k, 0)


def draw_spikes(rng, count: int) -> np.ndarray:
    """``count`` spikes as rows of (minutes until it starts, width, height as a share of the daily peak)."""
    return np.stack([rng.uniform(100, 1000, count), 5 + rng.lognormal(3, 2, count), rng.uniform(0.1, 0.2, count)], axis=1)


class LoadSimulator:
    """Transactions per minute: a noisy daily sinusoid, a slow drift, weekly variation and spikes.

    The original draws each random number when it needs it, from NumPy's legacy generator; otherwise the noise
    comes in blocks of :data:`NOISE_BLOCK` minutes and the spikes in blocks of :data:`SPIKE_BLOCK` (the same
    distributions), which lets many copies step as one array operation.
    """

    def __init__(self, config: AutoScalingConfig, rng):
        self.config, self.rng = config, rng
        self.minutes = 0
        uniform = rng.uniform
        self.cyclic_min = uniform(1000, 2000)
        self.cyclic_max = self.cyclic_min + uniform(5000, 7000)
        self.cyclic_noise = uniform(0.01, 0.05)
        self.cyclic_phase = uniform(-np.pi, np.pi)
        self.lf_amp = uniform(0.1, 0.2)
        self.lf_period = uniform(2, 5)  # days
        self.lf_phase = uniform(-np.pi, np.pi)
        self.spikes, self.spike_index = (None, 0) if config.original else (draw_spikes(rng, SPIKE_BLOCK), -1)
        self._new_spike()
        self.first_weekday = 0 if config.original else int(rng.integers(0, 7))
        self.noise = None if config.original else rng.standard_normal((NOISE_BLOCK, 2))

    def _new_spike(self) -> None:
        if self.spikes is None:
            self.until_spike = self.rng.uniform(100, 1000)
            self.spike_width = 5 + self.rng.lognormal(3, 2)
            self.spike_height = self.cyclic_max * self.rng.uniform(0.1, 0.2)
            return
        self.spike_index += 1
        if self.spike_index == SPIKE_BLOCK:
            self.spikes, self.spike_index = draw_spikes(self.rng, SPIKE_BLOCK), 0
        self.until_spike, self.spike_width, share = self.spikes[self.spike_index]
        self.spike_height = self.cyclic_max * share

    def standard_normal(self, which: int) -> float:
        """This minute's standard normal draw ``which`` (0: the load's noise, 1: the capacity's)."""
        return self.noise[self.minutes % NOISE_BLOCK, which]

    def weekly_factor(self) -> float:
        if self.config.original or not self.config.weekly_amplitude:
            return 1.0
        weekday = (self.first_weekday + self.minutes // MINUTES_PER_DAY) % 7
        return 1.0 - self.config.weekly_amplitude if weekday >= 5 else 1.0

    def next(self) -> int:
        self.minutes += 1
        if self.noise is not None and self.minutes % NOISE_BLOCK == 0:
            self.noise = self.rng.standard_normal((NOISE_BLOCK, 2))
        avg = (self.cyclic_min + self.cyclic_max) / 2.0
        amplitude = (self.cyclic_max - self.cyclic_min) / 2.0
        phase = self.minutes / (60 * 12) * np.pi + self.cyclic_phase
        cyclic = avg + amplitude * np.sin(phase)
        cyclic *= 1 + np.sin(phase / self.lf_period + self.lf_phase) * self.lf_amp
        if self.noise is None:
            cyclic *= self.rng.normal(1, self.cyclic_noise)
        else:
            cyclic *= 1 + self.cyclic_noise * self.standard_normal(0)
        cyclic *= self.weekly_factor()
        self.until_spike -= 1
        spike = 0.0
        if self.until_spike <= 0:
            spike = self.spike_height * (1.0 + self.until_spike / self.spike_width)
            if spike < 0:  # the spike is over (the original still adds this last, slightly negative value)
                self._new_spike()
        return int(min(max(int(cyclic + spike), 0), self.config.max_tpm))


class _LegacyRandom:
    """NumPy's legacy generator behind the Generator method names the simulator uses."""

    def __init__(self, seed):
        self.state = np.random.RandomState(seed)
        self.uniform, self.normal, self.lognormal = self.state.uniform, self.state.normal, self.state.lognormal

    def integers(self, low, high):
        return self.state.randint(low, high)


def _episode_steps(options: dict | None, default):
    """``reset(options={"max_time_steps": k})`` shortens (or lengthens) this episode alone to ``k + 1`` minutes."""
    steps = (options or {}).get("max_time_steps", default)
    if np.any(np.asarray(steps) < 1):
        raise ValueError(f"reset option max_time_steps must be at least 1; got {steps!r}.")
    return steps


class AutoScalingEnv(gym.Env):
    """
    ## Description

    A web service runs on a fleet of machines. Each minute customers send a load of transactions
    that follows a daily cycle with noise, a slow drift over days, quieter weekends and sudden
    spikes. The agent turns machines on (they serve after a warm-up of ``warmup_latency``
    minutes) and off (at once). It earns money for transactions served, pays for each running
    machine, and pays a large penalty for every minute the service is down (fewer than 99.5% of
    transactions served). The simulator of SageMaker RL's predictive auto-scaling example.

    ## Action Space

    ``MultiDiscrete([11, 11])``: machines to turn on and machines to turn off this minute (0 to
    ``max_machine_delta``). With ``action_type="box"``, the original ``Box(0, 10, (2,))``, each
    value truncated with ``int()``. With ``action_type="net"``, ``Discrete(21)``: the net change plus
    10 (``k`` turns on ``k - 10`` machines when above 10, turns off ``10 - k`` when below), the same
    dynamics with one choice instead of two (turning machines on and off in the same minute is never
    useful).

    ## Observation Space

    ``Box(0, 1, (25,), float32)``: four signals (load / max_tpm, failed / load, is_down,
    active machines / max_machines), each smoothed by exponential moving averages with alphas
    1, 0.1, 0.01, 0.001 and 0.0001 (the four signals at alpha 1 first), then the
    ``warmup_latency`` warm-up queue slots divided by ``max_machine_delta``.

    ## Rewards

    ``succeeded * transaction_val / 1000 - active * machine_cost``, minus ``downtime_cost`` in a
    minute when fewer than ``downtime_percent`` % of transactions succeed.

    ## Starting State

    ``initial_machines`` machines running, an empty warm-up queue, and a load profile (levels,
    phases, drift, first weekday, spike schedule) drawn from the seed.

    ## Episode End

    Truncated after ``max_time_steps + 1`` minutes (about a week); it never terminates.
    ``reset(options={"max_time_steps": k})`` sets the length of that episode alone (the fast engine
    staggers its copies' first episodes with it).

    ## Arguments

    Every field of :class:`AutoScalingConfig`, e.g.
    ``gym.make("rlops/AutoScaling-v0", weekly_amplitude=0.0, action_type="box")``.
    ``original=True`` reproduces the original dynamics exactly: no weekly term, and NumPy's
    legacy generator drawing in the original order (the original seeded ``np.random``).

    ``info`` carries ``load``, ``capacity``, ``active_machines``, ``failed`` and ``downtime``
    (0 or 1) of the minute, and the episode's ``downtime_minutes``, ``machine_minutes`` and
    ``failed_transactions`` so far.
    """

    metadata = {"render_modes": []}

    def __init__(self, render_mode: str | None = None, **config: Any):
        self.render_mode = render_mode  # nothing to render; accepted as Gymnasium's make() passes it
        self.config = c = build_config(AutoScalingConfig, "AutoScaling", config)
        n = c.max_machine_delta
        self.action_space = {"multidiscrete": spaces.MultiDiscrete([n + 1, n + 1]), "net": spaces.Discrete(2 * n + 1),
                             "box": spaces.Box(0, n, (2,), np.float32)}[c.action_type]
        size = 4 * len(ALPHAS) + c.warmup_latency
        self.observation_space = spaces.Box(0.0, 1.0, (size,), np.float32)
        self._rng = None

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        c = self.config
        if c.original:
            if seed is not None or self._rng is None:
                self._rng = _LegacyRandom(seed if seed is not None else int(self.np_random.integers(2**31)))
            rng = self._rng
        else:
            rng = self.np_random
        self.rng = rng
        self.load = LoadSimulator(c, rng)
        self.active = c.initial_machines
        self.queue = [0] * c.warmup_latency
        self.current_load = 0
        self.ema = np.zeros((4, len(ALPHAS)))
        self.t = 0
        self.episode_steps = _episode_steps(options, c.max_time_steps)
        self.totals = {"downtime_minutes": 0, "machine_minutes": 0, "failed_transactions": 0}
        self._serve()
        return self._observation(), self._info()

    def _serve(self) -> float:
        c = self.config
        if self.load.noise is None:
            self.capacity = int(self.active * self.rng.normal(c.tpm_per_machine, c.tpm_sigma))
        else:
            self.capacity = int(self.active * (c.tpm_per_machine + c.tpm_sigma * self.load.standard_normal(1)))
        self.failed = max(0, self.current_load - self.capacity)
        succeeded = self.current_load - self.failed
        reward = succeeded * c.transaction_val / 1000.0
        self.is_down = int(100.0 * succeeded / (self.current_load + 1e-20) < c.downtime_percent)
        if self.is_down:
            reward -= c.downtime_cost
        return reward - self.active * c.machine_cost

    def _observation(self) -> np.ndarray:
        c = self.config
        signals = np.array([self.current_load / c.max_tpm, self.failed / (self.current_load + 1e-5), self.is_down,
                            self.active / c.max_machines])
        self.ema = self.ema * (1.0 - ALPHAS) + np.outer(signals, ALPHAS)
        queue = np.asarray(self.queue, dtype=float) / c.max_machine_delta
        return np.clip(np.concatenate([self.ema.T.ravel(), queue]), 0.0, 1.0).astype(np.float32)

    def _info(self) -> dict[str, Any]:
        return {"load": self.current_load, "capacity": self.capacity, "active_machines": self.active,
                "warming_machines": sum(self.queue), "failed": self.failed, "downtime": self.is_down, **self.totals}

    def step(self, action):
        c = self.config
        if c.action_type == "net":
            action = net_change(np.asarray(action).reshape(()), c.max_machine_delta)
        turn_on, turn_off = int(action[0]), int(action[1])
        if not (0 <= turn_on <= c.max_machine_delta and 0 <= turn_off <= c.max_machine_delta):
            raise ValueError(f"AutoScaling action {list(action)} is out of range: each of (turn on, turn off) must be "
                             f"0 to {c.max_machine_delta}.")
        self.active = max(0, self.active - turn_off)
        self.active = min(self.active + self.queue[0], c.max_machines)
        self.queue = self.queue[1:] + [turn_on]
        self.current_load = self.load.next()
        reward = self._serve()
        self.t += 1
        self.totals["downtime_minutes"] += self.is_down
        self.totals["machine_minutes"] += self.active
        self.totals["failed_transactions"] += self.failed
        truncated = self.t > self.episode_steps
        return self._observation(), float(reward), False, truncated, self._info()
