"""Logged experience as episodes: what a behaviour policy saw, did, with which probabilities, and got.

An :class:`Episode` holds one row per step, as SageMaker's batch-RL CSV does (SPEC section 5): the
observation before the action, the action, the probability of every action under the behaviour
policy, and the reward. The next observation is the next row's; after the last row the episode ended
(``terminated``), unless it was cut short (``final_observation`` then holds the observation it was cut
at, so learners bootstrap from it). A :class:`Dataset` is its episodes and the number of actions.

Continuous actions (a vector per step) are held the same way, without probabilities: a continuous policy's
density is not logged, so only the model-based estimate (fitted Q evaluation) applies to them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

import numpy as np

from rlops.exceptions import InvalidDataset

#: How far a row's action probabilities may sum from 1.
PROBABILITY_TOLERANCE = 1e-3


@dataclass
class Episode:
    episode_id: str
    observations: np.ndarray  # (T, *obs_shape) float32: the observation before each action
    actions: np.ndarray  # (T,) int64; continuous actions: (T, action_size) float32
    rewards: np.ndarray  # (T,) float64
    probabilities: np.ndarray | None  # (T, n_actions): the behaviour policy's; None when unknown (always, continuous)
    final_observation: np.ndarray | None = None  # where a truncated episode was cut; None: it terminated

    def __len__(self) -> int:
        return len(self.actions)

    @property
    def terminated(self) -> bool:
        return self.final_observation is None

    @property
    def total_return(self) -> float:
        return float(self.rewards.sum())

    def next_observations(self) -> tuple[np.ndarray, np.ndarray]:
        """``(next observations, done)`` for every step: the next row's observation; after the last row, the
        final observation of a truncated episode (not done), or zeros of a terminated one (done)."""
        last = self.final_observation if self.final_observation is not None else np.zeros_like(self.observations[0])
        following = np.concatenate([self.observations[1:], last[None]])
        done = np.zeros(len(self), bool)
        done[-1] = self.terminated
        return following, done

    def behaviour_probability(self) -> np.ndarray:
        """The probability the behaviour policy gave each action taken."""
        if self.probabilities is None:
            raise InvalidDataset(f"Episode {self.episode_id} has no action probabilities; importance-sampling "
                                 "estimates need the behaviour policy's (all_action_probabilities).")
        return self.probabilities[np.arange(len(self)), self.actions]


@dataclass
class Dataset:
    """Episodes of logged experience with ``n_actions`` discrete actions (continuous ones: ``n_actions`` is the length
    of the action vector). ``source`` names where they came from."""

    episodes: list[Episode]
    n_actions: int
    source: str = "<memory>"
    behaviour: str | None = None  # the policy that collected them, when known
    metadata: dict = field(default_factory=dict)

    def __iter__(self) -> Iterator[Episode]:
        return iter(self.episodes)

    def __len__(self) -> int:
        return len(self.episodes)

    @property
    def observation_shape(self) -> tuple[int, ...]:
        return tuple(self.episodes[0].observations.shape[1:])

    @property
    def continuous(self) -> bool:
        return self.episodes[0].actions.ndim == 2

    @property
    def steps(self) -> int:
        return sum(len(e) for e in self.episodes)

    def returns(self) -> np.ndarray:
        return np.array([e.total_return for e in self.episodes])

    def transitions(self) -> dict[str, np.ndarray]:
        """Every step as arrays: ``observations``, ``actions``, ``rewards``, ``next_observations``, ``done``,
        ``probabilities`` (when every episode has them) and ``episode`` (the episode index of each step)."""
        following = [e.next_observations() for e in self.episodes]
        data = {
            "observations": np.concatenate([e.observations for e in self.episodes]),
            "actions": np.concatenate([e.actions for e in self.episodes]),
            "rewards": np.concatenate([e.rewards for e in self.episodes]),
            "next_observations": np.concatenate([f[0] for f in following]),
            "done": np.concatenate([f[1] for f in following]),
            "episode": np.concatenate([np.full(len(e), i) for i, e in enumerate(self.episodes)]),
        }
        if all(e.probabilities is not None for e in self.episodes):
            data["probabilities"] = np.concatenate([e.probabilities for e in self.episodes])
        return data

    def split(self, train_share: float, seed: int = 0) -> tuple["Dataset", "Dataset"]:
        """Two datasets of whole episodes, ``train_share`` of them (drawn at random) in the first: SageMaker's
        ``train_to_eval_ratio``."""
        if not 0 < train_share < 1:
            raise InvalidDataset(f"train_share is a fraction between 0 and 1; got {train_share!r}.")
        order = np.random.default_rng(seed).permutation(len(self.episodes))
        cut = min(max(1, int(round(train_share * len(order)))), len(order) - 1)
        pick = lambda idx: Dataset([self.episodes[i] for i in sorted(idx)], self.n_actions, self.source,  # noqa: E731
                                   self.behaviour, dict(self.metadata))
        return pick(order[:cut]), pick(order[cut:])

    def check(self, observation_shape: tuple[int, ...] | None = None, n_actions: int | None = None,
              what: str = "the environment", continuous: bool = False) -> None:
        """Refuse a dataset that does not fit ``what``: its observation shape, its kind of actions (discrete or
        ``continuous``), or their number (a continuous action's length)."""
        kind = lambda c: "continuous" if c else "discrete"  # noqa: E731
        if continuous != self.continuous:
            raise InvalidDataset(f"{self.source}: {kind(self.continuous)} actions, but {what} has {kind(continuous)} "
                                 "actions.")
        if observation_shape is not None and tuple(observation_shape) != self.observation_shape:
            raise InvalidDataset(f"{self.source}: observations have shape {self.observation_shape}, but {what} "
                                 f"has observations of shape {tuple(observation_shape)}.")
        if n_actions is not None and n_actions != self.n_actions:
            noun = "an action vector of length" if continuous else "actions:"
            raise InvalidDataset(f"{self.source}: {noun} {self.n_actions}, but {what} has {n_actions}.")

    def describe(self) -> dict:
        """What ``rlops datasets describe`` prints: episodes, steps, the return distribution, the behaviour policy."""
        returns = self.returns()
        lengths = np.array([len(e) for e in self.episodes])
        actions = np.concatenate([e.actions for e in self.episodes])
        if self.continuous:
            spread = {"action_mean": actions.mean(0).tolist(), "action_std": actions.std(0).tolist(),
                      "action_min": actions.min(0).tolist(), "action_max": actions.max(0).tolist()}
        else:
            spread = {"action_counts": np.bincount(actions, minlength=self.n_actions).tolist()}
        summary = {
            "source": self.source,
            "episodes": len(self.episodes),
            "steps": int(lengths.sum()),
            "observation_shape": list(self.observation_shape),
            "actions": f"continuous, length {self.n_actions}" if self.continuous else self.n_actions,
            "episode_length": _stats(lengths),
            "return": _stats(returns),
            "terminated": int(sum(e.terminated for e in self.episodes)),
            **spread,
            "behaviour": self.behaviour or _guess_behaviour(self),
        }
        return summary


def combine(datasets: list[Dataset], source: str | None = None) -> Dataset:
    """One dataset of the episodes of several (the same actions and observations), episode ids prefixed by their
    dataset's position (``0-12``, ``1-12``) so that they stay apart when written to one file."""
    import dataclasses

    first = datasets[0]
    for other in datasets[1:]:
        if (other.n_actions, other.observation_shape, other.continuous) != (first.n_actions, first.observation_shape,
                                                                            first.continuous):
            raise InvalidDataset(f"Cannot combine {first.source} ({first.observation_shape}, {first.n_actions} actions) "
                                 f"with {other.source} ({other.observation_shape}, {other.n_actions} actions).")
    episodes = [dataclasses.replace(e, episode_id=f"{k}-{e.episode_id}") for k, d in enumerate(datasets) for e in d]
    behaviours = {d.behaviour for d in datasets if d.behaviour}
    return Dataset(episodes, first.n_actions, source or " + ".join(d.source for d in datasets),
                   behaviour="; ".join(sorted(behaviours)) or None)


def _stats(values: np.ndarray) -> dict:
    return {"mean": float(values.mean()), "std": float(values.std()), "min": float(values.min()),
            "p25": float(np.percentile(values, 25)), "median": float(np.median(values)),
            "p75": float(np.percentile(values, 75)), "max": float(values.max())}


def _guess_behaviour(dataset: Dataset) -> str:
    """Say what the logged probabilities show: uniform random, deterministic, or a stochastic policy."""
    if dataset.continuous:
        return "unknown (continuous actions are logged without probabilities)"
    if any(e.probabilities is None for e in dataset):
        return "unknown (no action probabilities)"
    probabilities = np.concatenate([e.probabilities for e in dataset])
    if np.allclose(probabilities, 1.0 / dataset.n_actions, atol=1e-6):
        return "uniform random"
    if np.all(np.isclose(probabilities.max(axis=1), 1.0)):
        return "deterministic (probability 1 on the action taken): importance sampling cannot evaluate other policies"
    return (f"stochastic: mean probability of the action taken {float(np.mean(probabilities.max(axis=1))):.2f}, "
            f"smallest {float(probabilities[probabilities > 0].min()):.3g}")


def check_probabilities(probabilities: np.ndarray, where: str) -> None:
    """Refuse a row of action probabilities that are not a distribution."""
    if probabilities.ndim != 1 or len(probabilities) == 0:
        raise InvalidDataset(f"{where}: all_action_probabilities must be a list of numbers, one per action.")
    if not np.all(np.isfinite(probabilities)) or np.any(probabilities < 0) or np.any(probabilities > 1):
        raise InvalidDataset(f"{where}: all_action_probabilities {probabilities.tolist()} are not all between 0 and 1.")
    total = float(probabilities.sum())
    if abs(total - 1.0) > PROBABILITY_TOLERANCE:
        raise InvalidDataset(f"{where}: all_action_probabilities {probabilities.tolist()} sum to {total:.6g}, not 1 "
                             f"(tolerance {PROBABILITY_TOLERANCE}).")


def make_episode(episode_id: str, observations, actions, rewards, probabilities, where: str,
                 final_observation=None, n_actions: int | None = None, continuous: bool = False) -> Episode:
    """An episode from its rows, checked: at least two steps, actions within the action space, probabilities that are
    distributions giving the action taken a chance. ``continuous``: actions are vectors of finite numbers (no
    probabilities)."""
    if len(actions) < 2:
        raise InvalidDataset(f"{where}: episode {episode_id} has {len(actions)} step(s); an episode needs at least 2 "
                             "(a transition's next state is the next row of its episode).")
    probs = None
    if continuous:
        actions = np.asarray(actions, dtype=np.float32).reshape(len(actions), -1)
        bad = np.flatnonzero(~np.isfinite(actions).all(axis=1))
        if len(bad):
            raise InvalidDataset(f"{where}: episode {episode_id}, step {int(bad[0])}: action {actions[bad[0]].tolist()} "
                                 "is not finite.")
    else:
        actions = np.asarray(actions, dtype=np.int64)
        probs = None if probabilities is None else np.asarray(probabilities, dtype=np.float64)
        n = n_actions or (probs.shape[1] if probs is not None else int(actions.max()) + 1)
        bad = np.flatnonzero((actions < 0) | (actions >= n))
        if len(bad):
            raise InvalidDataset(f"{where}: episode {episode_id}, step {int(bad[0])}: action {int(actions[bad[0]])} is "
                                 f"outside the action space (0 to {n - 1}).")
        if probs is not None:
            taken = probs[np.arange(len(actions)), actions]
            zero = np.flatnonzero(taken <= 0)
            if len(zero):
                raise InvalidDataset(f"{where}: episode {episode_id}, step {int(zero[0])}: action "
                                     f"{int(actions[zero[0]])} was taken but its probability is 0.")
    observations = np.asarray(observations, dtype=np.float32)
    final = None if final_observation is None else np.asarray(final_observation, dtype=np.float32)
    return Episode(str(episode_id), observations, actions, np.asarray(rewards, dtype=np.float64), probs, final)
