"""Off-policy evaluation: how a target policy would score, estimated from episodes another policy logged.

Five estimators of the target policy's expected discounted return from an episode's first state, for
discrete actions, each with a bootstrap confidence interval over episodes (with ``rho_t`` the target's
probability of the logged action over the behaviour policy's, ``W`` their product over an episode, and
``Q``/``V`` the fitted-Q-evaluation model of the target policy):

- ``IPS``, inverse propensity scoring (per-decision importance sampling): ``sum_t gamma^t rho_0..rho_t r_t``;
- ``WIS``, weighted (per-decision) importance sampling: at each step ``t``, the rewards weighted by
  ``rho_0..rho_t`` and normalised by the sum of those weights over episodes (an episode that has ended keeps
  its last weight and adds no reward). Unlike weighting whole episodes by ``W``, it stays defined for a
  deterministic target policy, whose ``W`` is zero for nearly every logged episode;
- ``DM``, the direct method: ``V(s_0)``;
- ``DR``, doubly robust with episode weights: ``V(s_0) + W sum_t gamma^t (r_t + gamma V(s_t+1) - Q(s_t, a_t))``;
- ``SDR``, sequential doubly robust (Jiang and Li): ``v_t = V(s_t) + rho_t (r_t + gamma v_t+1 - Q(s_t, a_t))``.

SageMaker's Coach reported IPS, DM and DR per step, as for a contextual bandit; rlops's are all estimates of
the same number, the episode's discounted return, so they can be read side by side and against a live
evaluation. :class:`FittedQEvaluation` (FQE) fits ``Q`` by regressing ``r + gamma E_pi Q(s', .)`` repeatedly.

>>> dataset = read_dataset("cartpole-random.csv")                     # doctest: +SKIP
>>> estimates = evaluate(dataset, policy_probabilities("model.tar.gz"), gamma=0.99)   # doctest: +SKIP
>>> print(estimates["WIS"])                                          # doctest: +SKIP
WIS 61.2 (95% interval 55.0 to 67.9)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

import numpy as np

from rlops.datasets.episodes import Dataset
from rlops.exceptions import UsageError
from rlops.policies.probabilities import Probabilities

ESTIMATORS = ("IPS", "WIS", "DM", "DR", "SDR")
#: The Coach CSV's column for each estimator (SPEC section 7), and what the job log prints.
COACH_COLUMNS = {"IPS": "Inverse Propensity Score", "WIS": "Weighted Importance Sampling",
                 "DM": "Direct Method Reward", "DR": "Doubly Robust", "SDR": "Sequential Doubly Robust"}
#: The estimators that need a model of the target policy's Q-values.
MODEL_BASED = ("DM", "DR", "SDR")



@dataclass
class Estimate:
    name: str
    value: float
    low: float
    high: float
    confidence: float = 0.95

    def __str__(self) -> str:
        return f"{self.name} {self.value:.4g} ({self.confidence:.0%} interval {self.low:.4g} to {self.high:.4g})"


# -- fitted Q evaluation --------------------------------------------------------------------------


class FittedQEvaluation:
    """``Q`` of a target policy from logged transitions: a small network regressed on ``r + gamma E_pi Q(s', .)``,
    its target network refreshed every ``steps_per_iteration`` gradient steps. ``fit`` can be called again
    (for a changed policy) and continues from what it learnt."""

    def __init__(self, observation_size: int, n_actions: int, gamma: float, hidden: Iterable[int] = (64, 64),
                 learning_rate: float = 1e-3, batch_size: int = 256, seed: int = 0):
        import torch

        torch.manual_seed(seed)
        layers, width = [], observation_size
        for size in hidden:
            layers += [torch.nn.Linear(width, size), torch.nn.ReLU()]
            width = size
        self.network = torch.nn.Sequential(*layers, torch.nn.Linear(width, n_actions))
        self.target = None  # a frozen copy of the network, made afresh each iteration
        self.optimizer = torch.optim.Adam(self.network.parameters(), lr=learning_rate)
        self.gamma, self.batch_size = gamma, batch_size
        self.rng = np.random.default_rng(seed)

    def fit(self, transitions: dict[str, np.ndarray], next_probabilities: np.ndarray, iterations: int = 60,
            steps_per_iteration: int = 40) -> "FittedQEvaluation":
        import copy

        import torch

        obs = torch.as_tensor(transitions["observations"].reshape(len(transitions["actions"]), -1), dtype=torch.float32)
        following = torch.as_tensor(transitions["next_observations"].reshape(len(obs), -1), dtype=torch.float32)
        actions = torch.as_tensor(transitions["actions"], dtype=torch.int64)
        rewards = torch.as_tensor(transitions["rewards"], dtype=torch.float32)
        alive = torch.as_tensor(1.0 - transitions["done"], dtype=torch.float32)
        pi_next = torch.as_tensor(next_probabilities, dtype=torch.float32)
        size = min(self.batch_size, len(obs))
        base = self.optimizer.param_groups[0]["lr"]
        for iteration in range(iterations):
            # the last third at a tenth of the rate: the regression settles instead of following minibatch noise
            for group in self.optimizer.param_groups:
                group["lr"] = base if iteration < iterations * 2 // 3 else base / 10
            self.target = copy.deepcopy(self.network)
            with torch.no_grad():
                targets = rewards + self.gamma * alive * (pi_next * self.target(following)).sum(1)
            for _ in range(steps_per_iteration):
                batch = torch.as_tensor(self.rng.integers(0, len(obs), size))
                predicted = self.network(obs[batch]).gather(1, actions[batch, None]).squeeze(1)
                loss = torch.nn.functional.mse_loss(predicted, targets[batch])
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
        for group in self.optimizer.param_groups:
            group["lr"] = base
        return self

    def q_values(self, observations: np.ndarray) -> np.ndarray:
        import torch

        with torch.no_grad():
            obs = torch.as_tensor(np.asarray(observations, np.float32).reshape(len(observations), -1))
            return self.network(obs).numpy().astype(np.float64)


# -- the estimators --------------------------------------------------------------------------------


def episode_terms(dataset: Dataset, target: Probabilities, gamma: float,
                  q_values: Callable[[np.ndarray], np.ndarray] | None) -> dict[str, np.ndarray]:
    """Per-episode quantities every estimator is a mean (or, for WIS, a ratio of sums) of. The policy and the model
    are asked about every observation at once."""
    observations = np.concatenate([e.observations for e in dataset])
    pi_all = np.asarray(target(observations), dtype=np.float64)
    q_all = None if q_values is None else q_values(observations)
    truncated = [i for i, e in enumerate(dataset) if not e.terminated]
    tails = np.zeros(len(dataset))
    if q_values is not None and truncated:
        finals = np.stack([dataset.episodes[i].final_observation for i in truncated])
        tails[truncated] = (np.asarray(target(finals), np.float64) * q_values(finals)).sum(1)
    out = {key: np.zeros(len(dataset)) for key in ("IPS", "DM", "DR", "SDR")}
    longest = max(len(e) for e in dataset)
    out["weights"] = np.zeros((len(dataset), longest))  # rho_0..rho_t, the last carried past the episode's end
    out["weighted_rewards"] = np.zeros((len(dataset), longest))  # gamma^t rho_0..rho_t r_t
    start = 0
    for i, episode in enumerate(dataset):
        n = len(episode)
        steps = np.arange(n)
        pi = pi_all[start:start + n]
        rho = pi[steps, episode.actions] / episode.behaviour_probability()
        weights = np.cumprod(rho)
        discounts = gamma ** steps
        out["IPS"][i] = np.sum(discounts * weights * episode.rewards)
        out["weights"][i, :n], out["weights"][i, n:] = weights, weights[-1]
        out["weighted_rewards"][i, :n] = discounts * weights * episode.rewards
        if q_all is not None:
            q = q_all[start:start + n]
            v = (pi * q).sum(1)
            q_taken = q[steps, episode.actions]
            v_next = np.append(v[1:], tails[i])
            out["DM"][i] = v[0]
            out["DR"][i] = v[0] + weights[-1] * np.sum(discounts * (episode.rewards + gamma * v_next - q_taken))
            sdr = tails[i]
            for t in range(n - 1, -1, -1):
                sdr = v[t] + rho[t] * (episode.rewards[t] + gamma * sdr - q_taken[t])
            out["SDR"][i] = sdr
        start += n
    return out


def _estimate(terms: dict[str, np.ndarray], name: str, index: np.ndarray) -> np.ndarray:
    """The estimator ``name`` over the episodes in each row of ``index`` (bootstrap resamples)."""
    if name == "WIS":  # sum over steps of (weighted rewards summed over episodes) / (weights summed over episodes)
        total = terms["weights"][index].sum(-2)
        step_values = np.divide(terms["weighted_rewards"][index].sum(-2), total, out=np.zeros_like(total),
                                where=total > 0)
        return step_values.sum(-1)
    return terms[name][index].mean(-1)


def evaluate(dataset: Dataset, target: Probabilities, gamma: float = 0.99, estimators: Iterable[str] = ESTIMATORS,
             fqe: FittedQEvaluation | None = None, bootstrap: int = 200, confidence: float = 0.95,
             seed: int = 0) -> dict[str, Estimate]:
    """Each estimator's value of ``target`` on ``dataset``, with a bootstrap interval over episodes. The model-based
    estimators fit FQE on the dataset unless given a fitted ``fqe``."""
    estimators = list(estimators)
    unknown = [e for e in estimators if e not in ESTIMATORS]
    if unknown:
        raise UsageError(f"Unknown estimator {unknown[0]!r}; accepted: {', '.join(ESTIMATORS)}.")
    if not 0 < gamma <= 1:
        raise UsageError(f"gamma is a discount in (0, 1]; got {gamma!r}.")
    q_values = None
    if any(e in MODEL_BASED for e in estimators):
        if fqe is None:
            fqe = fit_fqe(dataset, target, gamma, seed=seed)
        q_values = fqe.q_values
    terms = episode_terms(dataset, target, gamma, q_values)
    return {name: bootstrap_estimate(name, lambda index: _estimate(terms, name, index), len(dataset), bootstrap,
                                     confidence, seed) for name in estimators}


def bootstrap_estimate(name: str, statistic: Callable[[np.ndarray], np.ndarray], episodes: int, bootstrap: int = 200,
                       confidence: float = 0.95, seed: int = 0) -> Estimate:
    """``statistic`` over all ``episodes``, with a bootstrap interval: ``statistic`` takes rows of episode indices
    (``(resamples, episodes)``) and returns one value per row."""
    resamples = np.random.default_rng(seed).integers(0, episodes, (bootstrap, episodes))
    spread = statistic(resamples)
    tail = (1 - confidence) / 2
    return Estimate(name, float(statistic(np.arange(episodes)[None])[0]), float(np.quantile(spread, tail)),
                    float(np.quantile(spread, 1 - tail)), confidence)


def fit_fqe(dataset: Dataset, target: Probabilities, gamma: float, fqe: FittedQEvaluation | None = None,
            iterations: int = 60, seed: int = 0) -> FittedQEvaluation:
    """FQE of ``target`` on ``dataset`` (continuing from ``fqe`` when given)."""
    transitions = dataset.transitions()
    fqe = fqe or FittedQEvaluation(int(np.prod(dataset.observation_shape)), dataset.n_actions, gamma, seed=seed)
    return fqe.fit(transitions, np.asarray(target(transitions["next_observations"]), dtype=np.float64),
                   iterations=iterations)


def policy_probabilities(reference: str, n_actions: int, env_id: str | None = None) -> Probabilities:
    """The target policy's action probabilities for a batch of observations: ``random`` (uniform), a trained policy
    (its ``probabilities`` output, else probability 1 on its action) or a baseline by name."""
    from rlops.policies.probabilities import action_probabilities

    return action_probabilities(reference, n_actions, env_id)[0]
