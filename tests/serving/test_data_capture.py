"""Endpoint data capture: sampled requests and answers written in SageMaker's capture format, rewards joined by
event id, across a server restart."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from rlops.exceptions import UsageError
from rlops.model_monitor import DataCaptureConfig
from rlops.rl import RLEstimator, RLToolkit
from rlops.session import Session

OBS = [0.01, -0.02, 0.03, 0.04]


def captured(folder: Path, kind: str = "AllTraffic") -> list[dict]:
    return [json.loads(line) for path in sorted(folder.rglob("*.jsonl")) if kind in path.parts
            for line in path.read_text().splitlines()]


@pytest.mark.slow
def test_capture_writes_what_was_served_and_survives_a_restart(trained, tmp_path):
    destination = tmp_path / "capture"
    predictor = trained.deploy(1, "local", endpoint_name="captured", data_capture_config=DataCaptureConfig(
        enable_capture=True, sampling_percentage=100, destination_s3_uri=str(destination)))
    answers = [predictor.predict(OBS, custom_attributes="episode=1") for _ in range(5)]
    events = [predictor.last_event_id]
    predictor.report_reward(events[0], 1.5, done=True)
    Session().service.endpoints.restart("captured")
    answers.append(predictor.predict(OBS, inference_id="my-id-7"))
    assert predictor.last_event_id == "my-id-7"
    predictor.delete_endpoint()  # the server flushes what it queued when it stops
    records = captured(destination / "captured")
    assert len(records) == 6
    first = records[0]
    assert first["eventVersion"] == "0" and first["captureData"]["endpointInput"]["mode"] == "INPUT"
    assert json.loads(first["captureData"]["endpointInput"]["data"]) == OBS
    assert [json.loads(r["captureData"]["endpointOutput"]["data"]) for r in records] == answers
    assert records[0]["eventMetadata"]["customAttributes"] == "episode=1"
    assert records[-1]["eventMetadata"]["eventId"] == "my-id-7"
    assert len({str(p.parent) for p in (destination / "captured" / "AllTraffic").rglob("*.jsonl")}) == 1  # one hour
    assert len(list((destination / "captured" / "AllTraffic").rglob("*.jsonl"))) == 2  # one file per server start
    rewards = captured(destination / "captured", "Rewards")
    assert rewards[0]["eventId"] == events[0] and rewards[0]["reward"] == 1.5 and rewards[0]["done"] is True


@pytest.mark.slow
def test_sampling_keeps_a_share_and_no_capture_answers_the_same(trained, tmp_path):
    predictor = trained.deploy(1, "local", endpoint_name="sampled", data_capture_config=DataCaptureConfig(
        enable_capture=True, sampling_percentage=0, destination_s3_uri=str(tmp_path / "none")))
    plain = trained.deploy(1, "local", endpoint_name="plain")
    assert predictor.predict(OBS) == plain.predict(OBS) and predictor.last_event_id is None
    with pytest.raises(UsageError, match="no data capture"):
        plain.report_reward("some-id", 1.0)
    predictor.delete_endpoint()
    plain.delete_endpoint()
    assert captured(tmp_path / "none") == []


def test_bad_capture_settings_are_refused():
    with pytest.raises(UsageError, match="sampling_percentage is a percentage from 0 to 100; got 150"):
        DataCaptureConfig(sampling_percentage=150)
    with pytest.raises(UsageError, match="Unknown capture option 'BODY'"):
        DataCaptureConfig(capture_options=["BODY"])


@pytest.mark.slow
def test_captured_episodes_and_rewards_become_a_dataset(trained, tmp_path):
    import gymnasium as gym
    import numpy as np
    from click.testing import CliRunner

    from rlops.cli.main import cli
    from rlops.datasets import read_dataset

    predictor = trained.deploy(1, "local", endpoint_name="traffic", data_capture_config=DataCaptureConfig(
        enable_capture=True, sampling_percentage=100, destination_s3_uri=str(tmp_path / "capture")))
    env = gym.make("CartPole-v1", max_episode_steps=12)
    played = []
    for episode in range(3):
        obs, _ = env.reset(seed=episode)
        steps = []
        while True:
            answer = predictor.predict(obs.tolist(), custom_attributes=f"episode={episode}")
            next_obs, reward, terminated, truncated, _ = env.step(answer["action"])
            predictor.report_reward(predictor.last_event_id, reward, done=terminated)
            steps.append((obs, answer["action"]))
            obs = next_obs
            if terminated or truncated:
                break
        played.append((steps, terminated))
    predictor.predict(obs.tolist())  # no episode: not a step of any
    time.sleep(1.5)  # the server writes what it captured every second
    out = tmp_path / "traffic.jsonl"
    result = CliRunner().invoke(cli, ["datasets", "from-capture", "traffic", "--out", str(out)])
    assert result.exit_code == 0, result.output
    predictor.delete_endpoint()
    dataset = read_dataset(out)
    assert len(dataset) == 3
    for (steps, terminated), episode in zip(played, dataset):
        kept = steps if terminated else steps[:-1]  # a cut episode's last step gives its final observation
        np.testing.assert_allclose(episode.observations, [o for o, _ in kept], rtol=1e-6)
        assert episode.actions.tolist() == [a for _, a in kept] and episode.terminated == terminated
    # ... which the offline presets train on, as they do on any dataset
    offline = RLEstimator(toolkit=RLToolkit.SB3, output_path=str(tmp_path / "offline"), hyperparameters={
        "preset": "cartpole-bcq-offline", "training_steps": 200, "rl.schedule.evaluation_every": 100,
        "rl.schedule.evaluation_episodes": 1, "rl.env.id": "CartPole-v1", "rl.offline.train_to_eval_ratio": 0.67})
    offline.fit({"training": str(out)}, logs=False)
    final = {m["MetricName"] for m in offline.latest_training_job.describe()["FinalMetricDataList"]}
    assert {"reward-evaluation", "ope-wis", "ope-sdr"} <= final
