"""Metrics from the default Coach and Ray regexes and from custom ones, readable while the job runs."""

from __future__ import annotations


import pytest

from rlops.analytics import TrainingJobAnalytics
from rlops.rl import RLToolkit
from tests.conftest import wait_for

# every test here starts job or server processes; each runs on the local store and through an rlops server
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("service_mode")]


def test_coach_defaults_are_read_while_the_job_runs(estimator_factory, tmp_path):
    gate = tmp_path / "gate"
    estimator = estimator_factory("emit_metrics.py", hyperparameters={"gate": str(gate)})
    estimator.fit(wait=False)
    job = estimator.latest_training_job
    analytics = TrainingJobAnalytics(job.name)

    wait_for(lambda: analytics.dataframe().shape[0] >= 6)
    assert job.describe()["TrainingJobStatus"] == "InProgress"  # read while the script is still running
    gate.write_text("go")
    job.wait(logs=False)

    frame = analytics.dataframe(force_refresh=True)
    assert list(frame.columns) == ["timestamp", "metric_name", "value"]
    training = frame[frame.metric_name == "reward-training"]["value"].tolist()
    testing = frame[frame.metric_name == "reward-testing"]["value"].tolist()
    assert training == [-100.0, -90.0, -80.0] and testing == [-95.0, -85.0, -75.0]
    assert frame["timestamp"].min() == 0 and frame["timestamp"].is_monotonic_increasing
    final = {m["MetricName"]: m["Value"] for m in job.describe()["FinalMetricDataList"]}
    assert final["reward-training"] == -80.0


def test_ray_default_regexes(estimator_factory):
    # toolkit=RAY with an image_uri: the Ray defaults apply whether or not image_uri is given
    import sys

    estimator = estimator_factory("emit_metrics.py", toolkit=RLToolkit.RAY, image_uri=sys.executable)
    number = r"[-+]?[0-9]*[.]?[0-9]+([eE][-+]?[0-9]+)?"  # SPEC section 3, exactly
    assert estimator._metric_definitions() == [
        {"Name": "episode_reward_mean", "Regex": f"episode_reward_mean: ({number})"},
        {"Name": "episode_reward_max", "Regex": f"episode_reward_max: ({number})"},
    ]
    estimator.fit(logs=False)
    frame = estimator.training_job_analytics.dataframe()
    assert frame[frame.metric_name == "episode_reward_mean"]["value"].tolist() == [-50.0, -45.0, -40.0]
    assert frame[frame.metric_name == "episode_reward_max"]["value"].tolist() == pytest.approx([-99.999, -89.999, -79.999])


def test_custom_definitions_replace_the_defaults(estimator_factory):
    definitions = [{"Name": "loss", "Regex": r"custom: loss=([0-9.]+)"}]
    estimator = estimator_factory("emit_metrics.py", metric_definitions=definitions)
    estimator.fit(logs=False)
    frame = estimator.training_job_analytics.dataframe()
    assert set(frame.metric_name) == {"loss"}
    assert frame["value"].tolist() == [1.0, 0.5, 0.3333]
    assert estimator.latest_training_job.describe()["AlgorithmSpecification"]["MetricDefinitions"] == definitions


def test_period_averages_and_csv_export(estimator_factory, tmp_path):
    estimator = estimator_factory("emit_metrics.py", hyperparameters={"episodes": 4})
    estimator.fit(logs=False)
    name = estimator.latest_training_job.name
    averaged = TrainingJobAnalytics(name, metric_names=["reward-training"], period=3600).dataframe()
    assert averaged["value"].tolist() == [-85.0]
    TrainingJobAnalytics(name).export_csv(tmp_path / "m.csv")
    assert (tmp_path / "m.csv").read_text().splitlines()[0] == "timestamp,metric_name,value"
