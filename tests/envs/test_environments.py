"""The sample environments: Gymnasium's checker, reproducibility, the documented dynamics, bad config."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import rlops.envs
from rlops.envs.knapsack import KnapsackEnv


@pytest.mark.parametrize("env_id", list(rlops.envs.ENVIRONMENTS))
def test_passes_gymnasiums_checker_and_documents_itself(env_id):
    env = gym.make(env_id)
    check_env(env.unwrapped, skip_render_check=True)
    if env_id.startswith(("rlops/AutoScaling", "rlops/Knapsack")):
        doc = type(env.unwrapped).__doc__
        for heading in ("## Description", "## Action Space", "## Observation Space", "## Rewards",
                        "## Starting State", "## Episode End", "## Arguments"):
            assert heading in doc


@pytest.mark.parametrize("env_id", ["rlops/AutoScaling-v0", "rlops/KnapsackHard-v0"])
def test_seeded_episodes_are_reproducible(env_id):
    def rollout(seed):
        env = gym.make(env_id)
        obs, _ = env.reset(seed=seed)
        env.action_space.seed(seed)
        rows = [obs]
        for _ in range(300):
            obs, reward, terminated, truncated, _ = env.step(env.action_space.sample())
            rows.append(np.append(obs, reward))
            if terminated or truncated:
                obs, _ = env.reset()
        return rows

    first, second, other = rollout(3), rollout(3), rollout(4)
    assert all(np.array_equal(a, b) for a, b in zip(first, second))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other))


def _hold(env_id="rlops/AutoScaling-v0", episodes=20, **config):
    env = gym.make(env_id, **config)
    returns, loads, infos = [], [], []
    for episode in range(episodes):
        env.reset(seed=1000 + episode)
        total, done, steps = 0.0, False, 0
        while not done:
            _, reward, terminated, truncated, info = env.step(np.array([0, 0]))
            total += reward
            loads.append(info["load"])
            steps += 1
            done = terminated or truncated
        returns.append(total)
        infos.append(info)
    return np.array(returns), np.array(loads), infos, steps


@pytest.mark.slow
def test_autoscaling_original_dynamics_match_the_reference_points():
    # SPEC section 5: 50 machines doing nothing ~ +17,900 per episode; mean load ~ 4,770 tpm
    returns, loads, infos, steps = _hold(original=True)
    assert steps == 10001
    assert 14_000 < returns.mean() < 21_000
    assert 4_200 < loads.mean() < 5_300 and 8_000 < loads.max() < 16_000
    thirty, _, thirty_infos, _ = _hold(original=True, initial_machines=30)
    assert thirty.mean() < -20_000  # reference: about -49,700 (spikes make it vary a lot)
    assert all(i["downtime_minutes"] > 0 for i in thirty_infos)
    info = infos[0]
    assert info["machine_minutes"] == 50 * 10001
    assert {"load", "capacity", "active_machines", "failed", "downtime", "failed_transactions"} <= set(info)


def test_autoscaling_weekly_variation():
    env = gym.make("rlops/AutoScaling-v0", max_time_steps=7 * 1440)
    env.reset(seed=5)
    days = [[] for _ in range(8)]
    minute = 0
    done = False
    while not done:
        _, _, _, done, info = env.step([0, 0])
        minute += 1
        days[minute // 1440].append(info["load"])
    weekday = env.unwrapped.load.first_weekday
    means = [np.mean(d) for d in days[:7]]
    weekend = [i for i in range(7) if (weekday + i) % 7 >= 5]
    weekdays = [i for i in range(7) if i not in weekend]
    assert np.mean([means[i] for i in weekend]) < 0.9 * np.mean([means[i] for i in weekdays])


def test_autoscaling_actions_and_original_box():
    env = gym.make("rlops/AutoScaling-v0", action_type="box")
    assert isinstance(env.action_space, gym.spaces.Box)
    env.reset(seed=0)
    for _ in range(5):
        _, _, _, _, info = env.step(np.array([9.9, 0.0]))  # truncated with int(), as the original did
    assert info["warming_machines"] == 5 * 9 and info["active_machines"] == 50
    _, _, _, _, info = env.step(np.array([0.0, 3.0]))  # the first 9 are warm; 3 are turned off
    assert info["active_machines"] == 50 - 3 + 9 and info["warming_machines"] == 4 * 9


def test_autoscaling_net_action_is_one_choice_for_the_same_dynamics():
    net = gym.make("rlops/AutoScaling-v0", action_type="net").unwrapped
    pair = gym.make("rlops/AutoScaling-v0").unwrapped
    assert net.action_space == gym.spaces.Discrete(21)
    net.reset(seed=3)
    pair.reset(seed=3)
    for k in [20, 17, 10, 0, 4, 13] * 20:  # +10, +7, nothing, -10, -6, +3
        on, off = max(k - 10, 0), max(10 - k, 0)
        a, b = net.step(k), pair.step(np.array([on, off]))
        assert np.array_equal(a[0], b[0]) and a[1:4] == b[1:4] and a[4] == b[4]
    with pytest.raises(ValueError, match=r"AutoScaling action 21 is out of range: accepted 0 to 20 \(the net change plus 10\)"):
        net.step(21)

    # the baselines steer it as they steer the pair of choices: the same returns
    from rlops.policies import load_policy
    from rlops.policies.evaluation import evaluate

    returns = [evaluate({"tt": load_policy("target-tracking:0.7", "rlops/AutoScaling-v0", kwargs)}, "rlops/AutoScaling-v0",
                        kwargs, episodes=2, seed=1000)[0].summary()["mean"]
               for kwargs in ({"max_time_steps": 500}, {"max_time_steps": 500, "action_type": "net"})]
    assert returns[0] == returns[1]


@pytest.mark.parametrize("config, field", [
    ({"warmup_latency": -1}, "warmup_latency"), ({"initial_machines": 0}, "initial_machines"),
    ({"downtime_percent": 120}, "downtime_percent"), ({"action_type": "discrete"}, "action_type"),
])
def test_autoscaling_refuses_out_of_range_config(config, field):
    with pytest.raises(ValueError, match=f"{field}.*(out of range|accepted)"):
        gym.make("rlops/AutoScaling-v0", **config)


def test_knapsack_rewards_and_masks():
    env = KnapsackEnv(horizon=5, capacity_range=(100, 101), weight_range=(60, 61), value_range=(7, 8))
    obs, info = env.reset(seed=0)
    assert list(obs) == [100, 0, 0, 60, 7, 5] and len(info["items"]["value"]) == 5
    assert list(env.action_masks()) == [True, True]
    assert env.step(1)[1] == 7.0  # fits: its value
    assert list(env.action_masks()) == [True, False]
    assert env.step(1)[1] == -10.0  # does not fit: lost
    assert env.step(0)[1] == -10.0  # thrown away
    env.step(0)
    _, _, terminated, _, _ = env.step(0)
    assert terminated


def test_knapsack_hard_items_leave_after_their_stay():
    env = gym.make("rlops/KnapsackHard-v0").unwrapped
    env.reset(seed=1)
    env.step(1)  # in at step 0 ...
    value = env.bag_value
    for _ in range(3):
        env.step(0)
    assert env.bag_value == value
    env.step(0)  # ... out 5 steps later
    assert env.bag_value == 0 and env.bag_size.sum() == 0


@pytest.mark.parametrize("config, field", [
    ({"capacity_range": (10, 20)}, "capacity_range"), ({"horizon": 0}, "horizon"), ({"weight_range": (5, 5)}, "weight_range"),
])
def test_knapsack_refuses_out_of_range_config(config, field):
    with pytest.raises(ValueError, match=f"{field}.*out of range"):
        KnapsackEnv(**config)


def test_patient_mountain_cars_have_10000_steps():
    assert gym.spec("rlops/PatientMountainCar-v0").max_episode_steps == 10_000
    assert gym.spec("rlops/PatientMountainCarContinuous-v0").max_episode_steps == 10_000


@pytest.mark.parametrize("env_id", ["rlops/AutoScaling-v0", "rlops/Knapsack-v0"])
def test_unknown_config_names_the_accepted_ones(env_id):
    with pytest.raises(TypeError, match=r"Unknown \w+ config 'horizn'\. Accepted: .*"):
        gym.make(env_id, horizn=3)
