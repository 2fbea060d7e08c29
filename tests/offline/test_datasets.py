"""Datasets: SageMaker's batch-RL CSV read into exactly the transitions SPEC describes, JSON lines, collection, and
clear errors for files rlops cannot learn from."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rlops.datasets import collect, read_dataset, write_dataset
from rlops.exceptions import InvalidDataset

HEADER = "action,all_action_probabilities,episode_id,reward,cumulative_rewards,state_feature_0,state_feature_1\n"
ROWS = [  # two episodes, written as SageMaker's notebook wrote them; episode 7's rows are not all together
    '1,"[0.5, 0.5]",7,1.0,0,0.1,0.2',
    '0,"[0.5, 0.5]",7,1.0,0,0.3,0.4',
    '1,"[0.25, 0.75]",8,0.5,0,1.0,1.1',
    '0,"[0.5, 0.5]",7,1.0,3.0,0.5,0.6',
    '1,"[0.25, 0.75]",8,2.0,2.5,1.2,1.3',
]


def write(tmp_path, rows, header=HEADER, name="data.csv"):
    path = tmp_path / name
    path.write_text(header + "\n".join(rows) + "\n")
    return path


def test_csv_rows_become_the_transitions_spec_describes(tmp_path):
    dataset = read_dataset(write(tmp_path, ROWS))
    assert [e.episode_id for e in dataset] == ["7", "8"] and dataset.n_actions == 2
    data = dataset.transitions()
    # the state is the one before the action; the next state is the next row of the same episode; the last row of
    # an episode ends it
    np.testing.assert_allclose(data["observations"], [[0.1, 0.2], [0.3, 0.4], [0.5, 0.6], [1.0, 1.1], [1.2, 1.3]])
    np.testing.assert_allclose(data["next_observations"], [[0.3, 0.4], [0.5, 0.6], [0, 0], [1.2, 1.3], [0, 0]])
    assert data["actions"].tolist() == [1, 0, 0, 1, 1]
    assert data["rewards"].tolist() == [1.0, 1.0, 1.0, 0.5, 2.0]
    assert data["done"].tolist() == [False, False, True, False, True]
    np.testing.assert_allclose(data["probabilities"][3], [0.25, 0.75])
    assert dataset.returns().tolist() == [3.0, 2.5]
    summary = dataset.describe()
    assert summary["episodes"] == 2 and summary["steps"] == 5 and summary["behaviour"].startswith("stochastic")


def test_csv_and_json_lines_round_trip_a_collected_dataset(tmp_path):
    dataset = collect("CartPole-v0", "random", episodes=30, seed=1)
    assert dataset.describe()["behaviour"] == "uniform random" and 10 < dataset.returns().mean() < 40
    for name in ("d.csv", "d.jsonl"):
        again = read_dataset(write_dataset(dataset, tmp_path / name))
        assert len(again) == 30 and again.n_actions == 2
        for a, b in zip(dataset, again):
            np.testing.assert_array_equal(a.observations, b.observations)
            assert a.actions.tolist() == b.actions.tolist() and a.rewards.tolist() == b.rewards.tolist()
    line = json.loads((tmp_path / "d.jsonl").read_text().splitlines()[0])
    assert line["all_action_probabilities"] == [0.5, 0.5] and "state_feature_3" in line


def test_a_truncated_episode_keeps_its_last_observation(tmp_path):
    dataset = collect("CartPole-v1", "random", episodes=3, max_steps=5)
    assert all(not e.terminated for e in dataset)
    again = read_dataset(write_dataset(dataset, tmp_path / "cut.jsonl"))
    following, done = again.episodes[0].next_observations()
    np.testing.assert_array_equal(following[-1], dataset.episodes[0].final_observation)
    assert not done[-1]


BAD = [
    (HEADER.replace("reward,", ""), ROWS, r"data.csv: missing column\(s\) reward\. Found: action,"),
    (HEADER, [ROWS[0].replace('"[0.5, 0.5]"', '"[0.5; 0.5]"')], r"data.csv, line 2: all_action_probabilities '\[0.5; 0.5\]'"),
    (HEADER, [ROWS[0].replace("0.5, 0.5", "0.5, 0.4")], r"data.csv, line 2: .* sum to 0.9, not 1"),
    (HEADER, ROWS[:1] + [ROWS[1].replace("0,", "2,", 1)], r"episode 7, step 1: action 2 is outside the action space \(0 to 1\)"),
    (HEADER, ROWS[:2] + [ROWS[2]], r"episode 8 has 1 step\(s\); an episode needs at least 2"),
    (HEADER, [ROWS[0], ROWS[1].replace("0.3,0.4", "0.3,abc")], r"line 3: a state feature 'abc' is not a number"),
    (HEADER, [ROWS[0], ROWS[1].replace('"[0.5, 0.5]"', '"[0.2, 0.3, 0.5]"')], r"line 3: 3 action probabilities; earlier rows have 2"),
    (HEADER, [ROWS[0].replace("1.0,0,0.1", "x,0,0.1")], r"line 2: reward 'x' is not a number"),
]


@pytest.mark.parametrize("header, rows, message", BAD, ids=[m[:40] for _, _, m in BAD])
def test_bad_files_name_the_file_the_row_and_the_problem(tmp_path, header, rows, message):
    with pytest.raises(InvalidDataset, match=message):
        read_dataset(write(tmp_path, rows, header))


def test_a_dataset_that_does_not_fit_the_environment_is_refused(tmp_path):
    dataset = read_dataset(write(tmp_path, ROWS))
    with pytest.raises(InvalidDataset, match=r"observations have shape \(2,\), but CartPole-v0 has observations of "
                                             r"shape \(4,\)"):
        dataset.check((4,), 2, what="CartPole-v0")


def test_a_failed_write_leaves_nothing_behind(tmp_path):
    dataset = read_dataset(write(tmp_path, ROWS))
    with pytest.raises(InvalidDataset, match="use a .csv or .jsonl"):
        write_dataset(dataset, tmp_path / "out.parquet")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv"]


def test_datasets_and_ope_commands(tmp_path):
    from click.testing import CliRunner

    from rlops.cli.main import cli

    runner = CliRunner()
    out = tmp_path / "random.csv"
    collected = runner.invoke(cli, ["datasets", "collect", "--env", "CartPole-v0", "--episodes", "40", "--out", str(out)])
    assert collected.exit_code == 0 and "40 episodes" in collected.output and "uniform random" in collected.output
    summary = json.loads(runner.invoke(cli, ["datasets", "describe", str(out), "--json"]).output)
    assert summary["episodes"] == 40 and summary["actions"] == 2 and summary["behaviour"] == "uniform random"
    assert "return" in runner.invoke(cli, ["datasets", "describe", str(out)]).output
    estimates = json.loads(runner.invoke(cli, ["ope", "random", "--dataset", str(out), "--estimator", "IPS",
                                               "--estimator", "WIS", "--gamma", "1", "--json"]).output)
    assert estimates["IPS"]["value"] == pytest.approx(summary["return"]["mean"])  # the target is the behaviour
    bad = runner.invoke(cli, ["datasets", "describe", str(tmp_path / "missing.csv")])
    assert bad.exit_code == 2 and "does not exist" in bad.output


def test_a_local_minari_dataset_reads_as_episodes(tmp_path, monkeypatch):
    minari = pytest.importorskip("minari")  # installed with the test extra (Python 3.11 and later)
    import gymnasium as gym
    from minari.data_collector import EpisodeBuffer

    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "minari"))
    env = gym.make("CartPole-v1", max_episode_steps=30)
    logged = collect("CartPole-v1", "random", episodes=4, max_steps=30, seed=5)
    buffers = []
    for i, episode in enumerate(logged):
        last = episode.final_observation if episode.final_observation is not None else np.zeros(4, np.float32)
        n = len(episode)
        buffers.append(EpisodeBuffer(id=i, seed=5 + i, observations=np.concatenate([episode.observations, last[None]]),
                                     actions=episode.actions, rewards=episode.rewards.tolist(),
                                     terminations=[False] * (n - 1) + [episode.terminated],
                                     truncations=[False] * (n - 1) + [not episode.terminated], infos={}))
    minari.create_dataset_from_buffers("rlops/cartpole/random-v0", buffers, env=env, algorithm_name="random",
                                       data_format="hdf5")
    dataset = read_dataset("minari:rlops/cartpole/random-v0")
    assert len(dataset) == 4 and dataset.n_actions == 2
    for a, b in zip(logged, dataset):
        np.testing.assert_array_equal(a.observations, b.observations)
        assert a.actions.tolist() == b.actions.tolist() and a.terminated == b.terminated
    with pytest.raises(InvalidDataset, match="minari:nobody/none-v0: not a Minari dataset installed here"):
        read_dataset("minari:nobody/none-v0")


def test_continuous_actions_round_trip_without_probabilities(tmp_path):
    dataset = collect("MountainCarContinuous-v0", "random", episodes=3, max_steps=40, seed=2)
    assert dataset.continuous and dataset.n_actions == 1 and dataset.episodes[0].actions.shape == (40, 1)
    assert all(e.probabilities is None for e in dataset)
    for name in ("c.csv", "c.jsonl"):
        again = read_dataset(write_dataset(dataset, tmp_path / name))
        assert again.continuous and again.n_actions == 1
        for a, b in zip(dataset, again):
            np.testing.assert_array_equal(a.actions, b.actions)
            np.testing.assert_array_equal(a.observations, b.observations)
    summary = dataset.describe()
    assert summary["actions"] == "continuous, length 1" and -1 <= summary["action_min"][0] <= summary["action_max"][0] <= 1
    with pytest.raises(InvalidDataset, match=r"continuous actions, but CartPole-v0 has discrete actions"):
        dataset.check((2,), 2, what="CartPole-v0")
    header = "action,all_action_probabilities,episode_id,reward,state_feature_0\n"
    mixed = write(tmp_path, ['"[0.5]",,1,0.0,0.1', '1,"[0.5, 0.5]",1,0.0,0.2'], header, "mixed.csv")
    with pytest.raises(InvalidDataset, match=r"mixed.csv, line 3: action '1' is a number; earlier rows have lists"):
        read_dataset(mixed)
    both = write(tmp_path, ['"[0.5]","[1.0]",1,0.0,0.1', '"[0.1]",,1,0.0,0.2'], header, "both.csv")
    with pytest.raises(InvalidDataset, match=r"both.csv, line 2: all_action_probabilities given with a continuous"):
        read_dataset(both)
    infinite = write(tmp_path, ['"[0.5]",,1,0.0,0.1', '"[1e999]",,1,0.0,0.2'], header, "inf.csv")
    with pytest.raises(InvalidDataset, match=r"inf.csv, line 3: an action value is inf; values must be finite"):
        read_dataset(infinite)
