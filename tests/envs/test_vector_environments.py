"""The batched environments are their single-copy versions, stepped together (rlops.envs.vector)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import rlops.envs  # noqa: F401
from rlops.envs.vector import AutoScalingVectorEnv, KnapsackVectorEnv, make_vector


def _compare(vector, singles, seed: int, steps: int, sample) -> int:
    """Step ``vector`` and ``singles`` (copy i seeded seed + i) with the same random actions; returns the episodes
    that ended. ``sample(observations)`` gives the actions. Gymnasium's next-step autoreset: the step after an end resets that copy."""
    observations, _ = vector.reset(seed=seed)
    expected = np.stack([env.reset(seed=seed + i)[0] for i, env in enumerate(singles)])
    np.testing.assert_array_equal(observations, expected)
    pending = [False] * len(singles)
    ended = 0
    for t in range(steps):
        actions = sample(observations)
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


@pytest.mark.parametrize("action_type", ["multidiscrete", "net"])
@pytest.mark.parametrize("seed", [0, 7, 1000, 123456])
def test_vectorised_autoscaling_equals_four_single_copies_over_10000_random_steps(seed, action_type):
    config = {"max_time_steps": 2999, "action_type": action_type}  # short episodes: autoresets are compared too
    vector = AutoScalingVectorEnv(4, **config)
    singles = [gym.make("rlops/AutoScaling-v0", **config).unwrapped for _ in range(4)]
    rng = np.random.default_rng(seed)
    shape = (4, 2) if action_type == "multidiscrete" else (4,)
    ended = _compare(vector, singles, seed, 10_000, lambda _: rng.integers(0, 21 if action_type == "net" else 11, shape))
    assert ended == 4 * 3  # each copy ran three whole episodes and started a fourth


@pytest.mark.parametrize("env_id", ["rlops/Knapsack-v0", "rlops/KnapsackMedium-v0", "rlops/KnapsackHard-v0"])
@pytest.mark.parametrize("seed", [0, 7, 1000, 123456])
def test_vectorised_knapsacks_equal_four_single_copies_over_10000_random_steps(env_id, seed):
    vector = make_vector(env_id, 4)
    singles = [gym.make(env_id).unwrapped for _ in range(4)]
    rng = np.random.default_rng(seed)
    masks = []

    def sample(_):  # mostly "put", so bags fill up, items leave (hard) and puts that do not fit happen
        mask = vector.action_masks()
        assert np.array_equal(mask, [env.action_masks() for env in singles])  # the masks agree too
        masks.append(mask[:, 1].mean())
        return (rng.random(4) < 0.8).astype(np.int64)

    horizon = singles[0].config.horizon
    ended = _compare(vector, singles, seed, 10_000, sample)
    assert ended == 4 * (10_000 // (horizon + 1))
    assert 0.05 < np.mean(masks) < 0.95  # both full and roomy bags were met


@pytest.mark.parametrize("env_id", ["MountainCar-v0", "rlops/PatientMountainCar-v0"])
@pytest.mark.parametrize("seed", [0, 7, 1000, 123456])
def test_vectorised_mountain_cars_equal_four_single_copies_over_10000_steps(env_id, seed):
    vector = make_vector(env_id, 4)
    singles = [gym.make(env_id) for _ in range(4)]  # with Gymnasium's TimeLimit
    rng = np.random.default_rng(seed)

    def sample(observations):  # pushing along the velocity, with some random pushes, reaches the flag
        pump = np.where(observations[:, 1] >= 0, 2, 0)
        return np.where(rng.random(4) < 0.3, rng.integers(0, 3, 4), pump)

    assert _compare(vector, singles, seed, 10_000, sample) >= 4 * 20  # episodes reached the flag


@pytest.mark.parametrize("env_id", ["MountainCarContinuous-v0", "rlops/PatientMountainCarContinuous-v0"])
@pytest.mark.parametrize("seed", [0, 7, 1000, 123456])
def test_vectorised_continuous_mountain_cars_equal_four_single_copies_over_10000_steps(env_id, seed):
    """Gymnasium's continuous car computes in float32 from its second step, and clips forces, speed and position
    into Python floats: the batched one reproduces each rounding (float32 and float64 actions, clipped or not)."""
    vector = make_vector(env_id, 4)
    singles = [gym.make(env_id) for _ in range(4)]
    rng = np.random.default_rng(seed)

    def sample(observations):
        force = np.where(observations[:, 1] >= 0, 1.0, -1.0) * rng.uniform(0.2, 1.6, 4)  # some beyond [-1, 1]
        force = np.where(rng.random(4) < 0.3, rng.uniform(-1.5, 1.5, 4), force)
        return force.reshape(4, 1).astype(np.float64 if rng.random() < 0.2 else np.float32)

    assert _compare(vector, singles, seed, 10_000, sample) >= 4 * 20


def test_the_vectorised_autoscaling_refuses_what_it_cannot_reproduce():
    with pytest.raises(ValueError, match="original=True draws its random numbers one at a time"):
        AutoScalingVectorEnv(2, original=True)
    with pytest.raises(ValueError, match="num_envs must be a positive integer; got 0"):
        AutoScalingVectorEnv(0)
    env = AutoScalingVectorEnv(2)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"out of range: each of \(turn on, turn off\) must be 0 to 10"):
        env.step(np.array([[11, 0], [0, 0]]))
    net = AutoScalingVectorEnv(2, action_type="net")
    net.reset(seed=0)
    with pytest.raises(ValueError, match=r"AutoScaling actions \[21\] are out of range: accepted 0 to 20 \(the net change plus 10\)"):
        net.step(np.array([21, 10]))


def test_make_vector_gives_gymnasiums_own_cart_pole_and_none_without_a_vectorised_version():
    env = make_vector("CartPole-v1", 8)
    assert type(env).__name__ == "CartPoleVectorEnv" and env.num_envs == 8
    assert make_vector("Acrobot-v1", 8) is None
    assert isinstance(make_vector("rlops/KnapsackHard-v0", 2), KnapsackVectorEnv)
    assert make_vector("rlops/PatientMountainCar-v0", 2).max_episode_steps == 10_000
    assert make_vector("MountainCar-v0", 2).max_episode_steps == 200


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
