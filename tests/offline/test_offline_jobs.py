"""Offline presets as jobs: d3rlpy's BCQ from random cart-pole episodes, off-policy estimates per epoch, the portable
policy, and datasets that do not fit."""

from __future__ import annotations

import csv
import tarfile

import numpy as np
import pytest

from rlops.datasets import collect, write_dataset
from rlops.exceptions import UnexpectedStatusException
from rlops.rl import RLEstimator, RLToolkit
from rlops.storage import resolve_uri

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def random_episodes(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "cartpole-random.csv"
    dataset = collect("CartPole-v0", "random", episodes=500, seed=0)
    write_dataset(dataset, path)
    return path, dataset


def offline_job(tmp_path, **hyperparameters):
    return RLEstimator(toolkit=RLToolkit.SB3, output_path=str(tmp_path / "out"),
                       hyperparameters={"preset": "cartpole-bcq-offline", **hyperparameters})


def test_bcq_learns_cartpole_from_random_episodes(tmp_path, random_episodes):
    from rlops.analytics import TrainingJobAnalytics
    from rlops.policies import PortablePolicy
    from rlops.toolkits.offline.algorithms import import_d3rlpy

    path, dataset = random_episodes
    assert dataset.returns().mean() < 30
    estimator = offline_job(tmp_path)
    estimator.fit({"training": str(path)}, logs=False)
    final = {m["MetricName"]: m["Value"] for m in estimator.latest_training_job.describe()["FinalMetricDataList"]}
    assert final["reward-evaluation"] >= 180  # the live environment, 10 episodes (cap 200)
    frame = TrainingJobAnalytics(estimator.latest_training_job.job_name).dataframe()
    for name in ("ope-ips", "ope-wis", "ope-dm", "ope-dr", "ope-sdr"):
        assert (frame["metric_name"] == name).sum() == 5, name  # one estimate per epoch
    job = estimator.latest_training_job.describe()
    model = resolve_uri(job["ModelArtifacts"]["S3ModelArtifacts"])
    with tarfile.open(model) as archive:
        archive.extractall(tmp_path / "model", filter="data")
    policy = PortablePolicy.load(tmp_path / "model")
    assert policy.manifest["toolkit"] == "offline" and policy.manifest["outputs"] == ["action", "q_values", "probabilities"]
    d3rlpy = import_d3rlpy()
    algo = d3rlpy.load_learnable(str(tmp_path / "model" / "model.d3"), device=False)
    observations = np.concatenate([e.observations for e in dataset])[:1000]
    outputs = policy.run(observations)
    assert (outputs["action"] == algo.predict(observations)).all()
    np.testing.assert_allclose(outputs["q_values"][np.arange(1000), outputs["action"]],
                               algo.predict_value(observations, outputs["action"]), rtol=1e-4, atol=1e-4)
    rows = list(csv.DictReader(open(next((tmp_path / "out").rglob("worker_0.batch_rl_graph*.csv")))))
    assert "Weighted Importance Sampling" in rows[0] and rows[-1]["Evaluation Reward"]


def test_a_dataset_that_does_not_fit_the_environment_fails_the_job_clearly(tmp_path):
    dataset = collect("MountainCar-v0", "random", episodes=3, max_steps=20)
    path = write_dataset(dataset, tmp_path / "mountaincar.csv")
    with pytest.raises(UnexpectedStatusException, match=r"observations have shape \(2,\), but CartPole-v0 has "
                                                        r"observations of shape \(4,\)"):
        offline_job(tmp_path).fit({"training": str(path)}, logs=False)
    with pytest.raises(UnexpectedStatusException, match="reads its dataset from the channel 'training', which this "
                                                        "job does not have"):
        offline_job(tmp_path).fit(logs=False)


def test_rlops_train_takes_the_dataset_as_an_input_channel(tmp_path, random_episodes):
    from click.testing import CliRunner

    from rlops.cli.main import cli

    path, _ = random_episodes
    result = CliRunner().invoke(cli, ["train", "--preset", "cartpole-cql-offline", "--input", f"training={path}",
                                      "--set", "training_steps=500", "--set", "rl.schedule.evaluation_every=250",
                                      "--set", "rl.schedule.evaluation_episodes=2", "--output-path", str(tmp_path)])
    assert result.exit_code == 0, result.output[-2000:]
    assert "Off-policy evaluation> IPS=" in result.output and "Evaluation summary>" in result.output
    bad = CliRunner().invoke(cli, ["train", "--preset", "cartpole-cql-offline", "--input", "cartpole.csv"])
    assert bad.exit_code == 2 and "--input takes CHANNEL=PATH" in bad.output


def test_td3_plus_bc_learns_continuous_mountain_car_from_a_controllers_logs(tmp_path):
    from rlops.analytics import TrainingJobAnalytics
    from rlops.policies import PortablePolicy
    from rlops.toolkits.offline.algorithms import import_d3rlpy

    dataset = collect("MountainCarContinuous-v0", "pump", episodes=20, epsilon=0.5)  # the hand rule, with noise
    assert dataset.returns().mean() > 85
    path = write_dataset(dataset, tmp_path / "pump.jsonl")
    estimator = RLEstimator(toolkit=RLToolkit.SB3, output_path=str(tmp_path / "out"),
                            hyperparameters={"preset": "mountaincar-continuous-td3bc-offline",
                                             "rl.schedule.evaluation_every": 2500})
    estimator.fit({"training": str(path)}, logs=False)
    job = estimator.latest_training_job
    final = {m["MetricName"]: m["Value"] for m in job.describe()["FinalMetricDataList"]}
    assert final["reward-evaluation"] >= 90  # solved: the flag reached in every live episode, at little cost
    frame = TrainingJobAnalytics(job.job_name).dataframe()
    assert (frame["metric_name"] == "ope-dm").sum() == 2 and (frame["metric_name"] == "ope-ips").sum() == 0
    with tarfile.open(resolve_uri(job.describe()["ModelArtifacts"]["S3ModelArtifacts"])) as archive:
        archive.extractall(tmp_path / "model", filter="data")
    policy = PortablePolicy.load(tmp_path / "model")
    assert policy.manifest["outputs"] == ["action"] and policy.manifest["action_space"]["type"] == "Box"
    algo = import_d3rlpy().load_learnable(str(tmp_path / "model" / "model.d3"), device=False)
    observations = np.concatenate([e.observations for e in dataset])[:1000]
    np.testing.assert_allclose(policy.run(observations)["action"], algo.predict(observations), atol=1e-5)


def test_continuous_presets_refuse_what_cannot_apply(tmp_path, random_episodes):
    path, _ = random_episodes  # discrete cart-pole episodes
    continuous = {"preset": "mountaincar-continuous-td3bc-offline"}
    with pytest.raises(UnexpectedStatusException, match=r"discrete actions, but MountainCarContinuous-v0 has "
                                                        r"continuous actions"):
        RLEstimator(toolkit=RLToolkit.SB3, output_path=str(tmp_path), hyperparameters=continuous).fit(
            {"training": str(path)}, logs=False)
    from rlops.exceptions import UsageError

    with pytest.raises(UsageError, match=r"Estimator 'IPS' in offline.estimators cannot evaluate TD3PlusBC \(continuous "
                                         r"actions have no action probabilities to weigh\); accepted: DM"):
        RLEstimator(toolkit=RLToolkit.SB3, output_path=str(tmp_path),
                    hyperparameters={**continuous, "rl.offline.estimators": ["IPS"]}).fit(
            {"training": str(path)}, logs=False)


def test_an_offline_job_resumes_from_the_checkpoint_before_a_damaged_one(tmp_path):
    dataset = collect("CartPole-v0", "random", episodes=30, seed=1)
    path = write_dataset(dataset, tmp_path / "random.csv")
    checkpoints = tmp_path / "checkpoints"
    quick = {"rl.schedule.evaluation_every": 250, "rl.schedule.evaluation_episodes": 1, "rl.offline.estimators": []}

    def job(steps: int):
        estimator = RLEstimator(toolkit=RLToolkit.SB3, output_path=str(tmp_path / "out"),
                                checkpoint_s3_uri=checkpoints.as_uri(),
                                hyperparameters={"preset": "cartpole-bcq-offline", "rl.schedule.training_steps": steps,
                                                 **quick})
        estimator.fit({"training": str(path)}, logs=False)
        return open(estimator.latest_training_job.describe()["rlops"]["LogPath"]).read()

    job(500)
    assert sorted(p.name for p in checkpoints.glob("offline-checkpoint-*.d3")) == [
        "offline-checkpoint-250.d3", "offline-checkpoint-500.d3"]
    (checkpoints / "offline-checkpoint-500.d3").write_bytes(b"cut short")
    log = job(750)
    assert "Warning: skipping the unreadable checkpoint offline-checkpoint-500.d3" in log
    assert "Resuming from offline-checkpoint-250.d3 at step 250" in log and "Steps=750" in log
