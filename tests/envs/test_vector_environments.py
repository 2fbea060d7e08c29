"""The batched environments are their single-copy versions, stepped together (rlops.envs.vector)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import rlops.envs  # noqa: F401
from rlops.envs.vector import AutoScalingVectorEnv, make_vector


def _compare(vector, singles, seed: int, steps: int, sample) -> int:
    """Step ``vector`` and ``singles`` (copy i seeded seed + i) with the same random actions; returns the episodes
    that ended. Gymnasium's next-step autoreset: the step after an end resets that copy."""
    observations, _ = vector.reset(seed=seed)
    expected = np.stack([env.reset(seed=seed + i)[0] for i, env in enumerate(singles)])
    np.testing.assert_array_equal(observations, expected)
    pending = [False] * len(singles)
    ended = 0
    for t in range(steps):
        actions = sample()
        observations, rewards, terminated, truncated, _ = vector.step(actions)
        for i, env in enumerate(singles):
            if pending[i]:
                obs, reward, term, trunc = env.reset()[0], 0.0, False, False
            else:
                obs, reward, term, trunc, _ = env.step(actions[i])
            pending[i] = term or trunc
            ended += pending[i]
            assert np.array_equal(obs, observations[i]), (t, i)
            assert (reward, term, trunc) == (rewards[i], terminated[i], truncated[i]), (t, i)
    return ended


@pytest.mark.parametrize("seed", [0, 7, 1000, 123456])
def test_vectorised_autoscaling_equals_four_single_copies_over_10000_random_steps(seed):
    config = {"max_time_steps": 2999}  # short episodes, so autoresets are compared too
    vector = AutoScalingVectorEnv(4, **config)
    singles = [gym.make("rlops/AutoScaling-v0", **config).unwrapped for _ in range(4)]
    rng = np.random.default_rng(seed)
    ended = _compare(vector, singles, seed, 10_000, lambda: rng.integers(0, 11, (4, 2)))
    assert ended == 4 * 3  # each copy ran three whole episodes and started a fourth


def test_the_vectorised_autoscaling_refuses_what_it_cannot_reproduce():
    with pytest.raises(ValueError, match="original=True draws its random numbers one at a time"):
        AutoScalingVectorEnv(2, original=True)
    with pytest.raises(ValueError, match="num_envs must be a positive integer; got 0"):
        AutoScalingVectorEnv(0)
    env = AutoScalingVectorEnv(2)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"out of range: each of \(turn on, turn off\) must be 0 to 10"):
        env.step(np.array([[11, 0], [0, 0]]))


def test_make_vector_gives_gymnasiums_own_cart_pole_and_none_without_a_vectorised_version():
    env = make_vector("CartPole-v1", 8)
    assert type(env).__name__ == "CartPoleVectorEnv" and env.num_envs == 8
    assert make_vector("rlops/Knapsack-v0", 8) is None


def test_a_reset_option_sets_each_copys_episode_length_as_for_the_single_copy():
    vector = AutoScalingVectorEnv(3)
    vector.reset(seed=5, options={"max_time_steps": np.array([2, 4, 3])})
    single = gym.make("rlops/AutoScaling-v0").unwrapped
    single.reset(seed=6, options={"max_time_steps": 4})
    ends = [vector.step(np.zeros((3, 2), np.int64))[3] for _ in range(5)]
    assert [list(np.flatnonzero(e)) for e in ends] == [[], [], [0], [2], [1]]
    assert [single.step(np.zeros(2, np.int64))[3] for _ in range(5)] == [False] * 4 + [True]
    with pytest.raises(ValueError, match="max_time_steps must be at least 1; got 0"):
        vector.reset(options={"max_time_steps": 0})
