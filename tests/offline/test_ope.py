"""Off-policy estimators against a tiny MDP whose answer is computed by hand."""

from __future__ import annotations

import numpy as np
import pytest

from rlops.datasets import Dataset
from rlops.datasets.episodes import make_episode
from rlops.ope import ESTIMATORS, evaluate

# Three states (one-hot), two steps: from s0, action 0 pays 1 and leads to s1, action 1 pays 0 and leads to s2;
# in s1 action 1 pays 2; in s2 action 0 pays 1; then the episode ends.
STATES = np.eye(3, dtype=np.float32)
REWARD = {0: (1.0, 0.0), 1: (0.0, 2.0), 2: (1.0, 0.0)}
TARGET = np.array([[0.8, 0.2], [0.1, 0.9], [0.7, 0.3]])
GAMMA = 0.9
# V(s1) = 0.9 * 2 = 1.8; V(s2) = 0.7 * 1 = 0.7; V(s0) = 0.8 (1 + 0.9 * 1.8) + 0.2 (0 + 0.9 * 0.7)
TRUE_VALUE = 0.8 * (1 + GAMMA * 1.8) + 0.2 * (GAMMA * 0.7)


def target(observations: np.ndarray) -> np.ndarray:
    return TARGET[np.argmax(observations, axis=1)]


def logged(episodes: int, behaviour: np.ndarray, noise: float = 0.5, seed: int = 0) -> Dataset:
    rng = np.random.default_rng(seed)
    result = []
    for i in range(episodes):
        first = int(rng.choice(2, p=behaviour[0]))
        second_state = 1 if first == 0 else 2
        second = int(rng.choice(2, p=behaviour[second_state]))
        rewards = [REWARD[0][first] + rng.normal(0, noise), REWARD[second_state][second] + rng.normal(0, noise)]
        result.append(make_episode(str(i), STATES[[0, second_state]], [first, second], rewards,
                                   behaviour[[0, second_state]], "chain", n_actions=2))
    return Dataset(result, 2, source="chain")


def test_every_estimator_recovers_the_true_value_of_the_target_policy():
    assert TRUE_VALUE == pytest.approx(2.222)
    uniform = np.full((3, 2), 0.5)
    estimates = evaluate(logged(4000, uniform), target, gamma=GAMMA, bootstrap=300)
    assert list(estimates) == list(ESTIMATORS)
    for estimate in estimates.values():
        assert estimate.value == pytest.approx(TRUE_VALUE, abs=0.08), estimate
        assert estimate.low <= TRUE_VALUE <= estimate.high or abs(estimate.value - TRUE_VALUE) < 0.03, estimate
        assert estimate.low <= estimate.value <= estimate.high  # DM's is one model's value at the one start state
    # the model-based estimators have far less spread than importance sampling on the same data
    width = {name: e.high - e.low for name, e in estimates.items()}
    assert width["DM"] < width["IPS"] / 2 and width["SDR"] < width["IPS"]


def test_ips_equals_the_on_policy_average_when_target_is_behaviour():
    dataset = logged(500, TARGET, seed=3)
    estimates = evaluate(dataset, target, gamma=1.0, estimators=["IPS", "WIS"], bootstrap=50)
    assert estimates["IPS"].value == pytest.approx(dataset.returns().mean(), rel=1e-12)
    assert estimates["WIS"].value == pytest.approx(dataset.returns().mean(), rel=1e-12)


def test_unknown_estimator_and_bad_discount_are_refused():
    from rlops.exceptions import UsageError

    with pytest.raises(UsageError, match="Unknown estimator 'PDIS'.*IPS, WIS, DM, DR, SDR"):
        evaluate(logged(10, np.full((3, 2), 0.5)), target, estimators=["PDIS"])
    with pytest.raises(UsageError, match=r"gamma is a discount in \(0, 1\]; got 1.5"):
        evaluate(logged(10, np.full((3, 2), 0.5)), target, gamma=1.5)
