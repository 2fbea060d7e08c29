"""Jobs on an existing Ray cluster (``instance_type="ray"``): a real Ray head on loopback, Ray's Jobs API."""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import sys
import tarfile
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from rlops.policies import PortablePolicy
from rlops.rl import RLEstimator, RLToolkit
from rlops.runtime.endpoints import free_port
from rlops.session import Session
from rlops.storage import resolve_uri
from tests.toolkits.sb3_helpers import SCRIPTS

pytest.importorskip("ray.dashboard", reason="the ray extra (ray[default]) is part of the test install")
pytestmark = pytest.mark.slow



@pytest.fixture(scope="module")
def ray_cluster(tmp_path_factory):
    """A one-node Ray cluster with its dashboard (the Jobs API) on loopback, as a user's running cluster."""
    from rlops.toolkits.rllib.cluster import start_node, stop_node

    folder = tmp_path_factory.mktemp("ray-cluster")
    temp_dir = tempfile.mkdtemp(prefix="rlops-ray-")  # short: Ray's socket paths must fit in 107 bytes
    token = secrets.token_hex(32)
    port, dashboard = free_port(), free_port()
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"  # the cluster's `python` is this one
    os.environ["PATH"], saved_path = path, os.environ["PATH"]
    try:
        head = start_node(["--head", f"--port={port}", "--num-cpus=2", f"--temp-dir={temp_dir}",
                           "--include-dashboard=true", "--dashboard-host=127.0.0.1", f"--dashboard-port={dashboard}"],
                          token, folder / "head.log")
    finally:
        os.environ["PATH"] = saved_path
    address = f"http://127.0.0.1:{dashboard}"
    deadline = time.monotonic() + 90
    while True:  # the Jobs API answers once the dashboard is up
        try:
            request = urllib.request.Request(f"{address}/api/version", headers={"Authorization": f"Bearer {token}"})
            urllib.request.urlopen(request, timeout=2).read()
            break
        except OSError:
            assert head.poll() is None and time.monotonic() < deadline, (folder / "head.log").read_text()[-2000:]
            time.sleep(0.5)
    yield address, token
    stop_node(head)
    shutil.rmtree(temp_dir, ignore_errors=True)


@pytest.fixture
def on_cluster(ray_cluster, monkeypatch):
    """This test's jobs go to the loopback cluster, with its token (as a user's RAY_AUTH_TOKEN)."""
    address, token = ray_cluster
    monkeypatch.setenv("RLOPS_RAY_ADDRESS", address)
    monkeypatch.setenv("RAY_AUTH_MODE", "token")
    monkeypatch.setenv("RAY_AUTH_TOKEN", token)
    return address


def ray_job_status(address: str, name: str) -> str:
    """Ray's own record of a job, asked of the cluster."""
    from ray.job_submission import JobSubmissionClient

    headers = {"Authorization": f"Bearer {os.environ['RAY_AUTH_TOKEN']}"}
    return JobSubmissionClient(address, headers=headers).get_job_status(name).value


def test_a_job_on_an_existing_cluster_completes_with_metrics_and_a_model(on_cluster, tmp_path):
    estimator = RLEstimator(entry_point="ray_cartpole.py", source_dir=str(SCRIPTS), toolkit=RLToolkit.RAY,
                            instance_type="ray", output_path=str(tmp_path / "out"),
                            checkpoint_uri=str(tmp_path / "checkpoints"),
                            hyperparameters={"rl.training.stop.training_iteration": 3, "rl.evaluation_episodes": 2})
    estimator.fit(logs=False)
    name = estimator.latest_training_job.name
    log = "".join(Session().service.jobs.logs(name))

    assert f"rlops: submitted Ray job {name} to {on_cluster}" in log
    assert f"rlops: Ray job {name} SUCCEEDED" in log
    assert ray_job_status(on_cluster, name) == "SUCCEEDED"  # Ray's own record of the job
    assert f"cluster at {on_cluster}: 1 node(s), 2 CPU(s) for env runners" in log
    frame = estimator.training_job_analytics.dataframe()  # the Ray lines, extracted into the store as it ran
    assert set(frame["metric_name"]) >= {"episode_reward_mean", "episode_reward_max"}
    iterations = len(re.findall(r"^training_iteration: \d+$", log, re.M))  # 3, or fewer if evaluation hit 495
    assert iterations >= 1 and len(frame[frame["metric_name"] == "episode_reward_mean"]) == iterations
    description = estimator.latest_training_job.describe()
    assert description["TrainingJobStatus"] == "Completed" and description["ResourceConfig"]["InstanceType"] == "ray"
    assert PortablePolicy.load(estimator.model_data).manifest["toolkit"] == "rllib"
    assert (tmp_path / "checkpoints" / "latest.json").is_file()  # synced from the job's folders, as for local jobs
    with tarfile.open(resolve_uri(estimator.model_data).parent / "output.tar.gz") as archive:
        placement = json.load(archive.extractfile("placement.json"))
    assert sum(placement["env_runners"].values()) == 2  # every CPU of the cluster
    assert all(node.startswith("127.0.0.1/") for node in placement["env_runners"])


def test_stopping_a_job_stops_the_ray_job(on_cluster, tmp_path):
    estimator = RLEstimator(entry_point="ray_cartpole.py", source_dir=str(SCRIPTS), toolkit=RLToolkit.RAY,
                            instance_type=f"ray:{on_cluster}", output_path=str(tmp_path / "out"), stop_grace_period=20,
                            hyperparameters={"rl.training.stop.training_iteration": 500})
    estimator.fit(wait=False)
    jobs, name = Session().service.jobs, estimator.latest_training_job.name
    deadline = time.monotonic() + 120
    while "training_iteration: 1\n" not in "".join(jobs.logs(name)):
        assert time.monotonic() < deadline, "".join(jobs.logs(name))[-3000:]
        time.sleep(0.3)
    estimator.latest_training_job.stop()
    job = jobs.wait(name)
    assert job.status == "Stopped"
    assert ray_job_status(on_cluster, name) == "STOPPED"
    assert f"rlops: stopping Ray job {name}" in "".join(jobs.logs(name))


def test_a_failing_script_fails_the_job_with_its_error(on_cluster, tmp_path):
    estimator = RLEstimator(entry_point="ray_cartpole.py", source_dir=str(SCRIPTS), toolkit=RLToolkit.RAY,
                            instance_type="ray", output_path=str(tmp_path / "out"),
                            hyperparameters={"rl.training.config.num_sgd_iters": 3})
    with pytest.raises(Exception):
        estimator.fit(logs=False)
    job = Session().service.jobs.describe(estimator.latest_training_job.name)
    assert job.status == "Failed" and "num_sgd_iters" in job.failure_reason
    assert ray_job_status(on_cluster, job.name) == "FAILED"
