"""``rlops jobs ...`` through click's in-process runner, on real jobs."""

from __future__ import annotations

import re

import json

import pytest
from click.testing import CliRunner

from rlops.cli.main import cli


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def finished_job(estimator_factory):
    estimator = estimator_factory("emit_metrics.py")
    estimator.fit(logs=False, job_name="cli-job")
    return estimator


def test_help_explains_the_tool(runner):
    result = runner.invoke(cli, ["--help"])
    assert result.exit_code == 0
    assert "without Docker" in result.output and "rlops jobs logs JOB --follow" in result.output
    assert "--follow" in runner.invoke(cli, ["jobs", "logs", "--help"]).output


@pytest.mark.slow
def test_list_table_and_json(runner, finished_job):
    table = runner.invoke(cli, ["jobs", "list"])
    assert table.exit_code == 0
    header, row = table.output.splitlines()[:2]
    assert header.split() == ["NAME", "STATUS", "SECONDARY", "TOOLKIT", "CREATED", "DURATION"]
    assert row.split()[:4] == ["cli-job", "Completed", "Completed", "sb3"]
    data = json.loads(runner.invoke(cli, ["jobs", "list", "--json"]).output)
    assert data[0]["TrainingJobName"] == "cli-job" and data[0]["TrainingJobStatus"] == "Completed"
    assert json.loads(runner.invoke(cli, ["jobs", "list", "--status", "Failed", "--json"]).output) == []


@pytest.mark.slow
def test_describe(runner, finished_job):
    text = runner.invoke(cli, ["jobs", "describe", "cli-job"]).output
    assert "Completed (Completed)" in text and "reward-training" in text and "Uploading" in text
    data = json.loads(runner.invoke(cli, ["jobs", "describe", "cli-job", "--json"]).output)
    assert data["TrainingJobStatus"] == "Completed"
    assert data["ModelArtifacts"]["S3ModelArtifacts"] == finished_job.model_data
    assert [t["Status"] for t in data["SecondaryStatusTransitions"]] == [
        "Starting", "Downloading", "Training", "Uploading", "Completed"]


@pytest.mark.slow
def test_logs_and_metrics(runner, finished_job):
    logs = runner.invoke(cli, ["jobs", "logs", "cli-job"]).output
    assert "Training> Name=main_level/agent" in logs and "finished" in logs
    summary = runner.invoke(cli, ["jobs", "metrics", "cli-job"]).output.splitlines()
    assert summary[0].split() == ["METRIC", "POINTS", "LAST", "MIN", "MAX", "MEAN"]
    assert summary[1].split()[:5] == ["reward-testing", "3", "-75", "-95", "-75"]
    points = json.loads(runner.invoke(cli, ["jobs", "metrics", "cli-job", "--json", "-m", "reward-training"]).output)
    assert [p["value"] for p in points] == [-100.0, -90.0, -80.0]
    every = runner.invoke(cli, ["jobs", "metrics", "cli-job", "--all"]).output
    assert every.splitlines()[0].split() == ["SECONDS", "METRIC", "VALUE", "HOST"]


@pytest.mark.slow
def test_logs_follow_until_the_end(runner, estimator_factory):
    estimator = estimator_factory("long_run.py", hyperparameters={"steps": 20, "step-seconds": 0.02})
    estimator.fit(wait=False)
    result = runner.invoke(cli, ["jobs", "logs", estimator.latest_training_job.name, "--follow"])
    assert "step 19" in result.output and "Completed - Training job completed\nTraining seconds: " in result.output
    assert re.search(r"\nBillable seconds: \d+\n$", result.output)  # SageMaker's closing lines, once the job ended


@pytest.mark.slow
def test_stop_a_finished_job_and_unknown_job(runner, finished_job):
    assert "already ended: Completed" in runner.invoke(cli, ["jobs", "stop", "cli-job"]).output
    missing = runner.invoke(cli, ["jobs", "describe", "ghost"])
    assert missing.exit_code == 1 and "No training job named 'ghost'" in missing.output


def test_db_upgrade(runner):
    from rlops.store.engine import HEAD_REVISION

    result = runner.invoke(cli, ["db", "upgrade"])
    assert result.exit_code == 0 and f"upgraded empty -> {HEAD_REVISION}" in result.output


@pytest.mark.slow
def test_python_dash_m_rlops_is_the_same_command():
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "rlops", "jobs", "list"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "No training jobs yet" in proc.stdout
    assert "Usage: rlops" in subprocess.run([sys.executable, "-m", "rlops", "--help"], capture_output=True,
                                            text=True, timeout=120).stdout
