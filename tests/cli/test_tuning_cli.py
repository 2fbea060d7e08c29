"""``rlops tuning ...`` through click's in-process runner, on a real tuning job."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from rlops.cli.main import cli
from rlops.tuner import ContinuousParameter, HyperparameterTuner


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def tuned(estimator_factory):
    estimator = estimator_factory("tunable.py", hyperparameters={"steps": 3},
                                  metric_definitions=[{"Name": "score", "Regex": r"score=(\S+)"}])
    tuner = HyperparameterTuner(estimator, "score", {"x": ContinuousParameter(0.0, 1.0)}, strategy="Random",
                                max_jobs=3, max_parallel_jobs=3, random_seed=4)
    tuner.fit(job_name="cli-tuning")
    return tuner


@pytest.mark.slow
def test_tuning_commands(runner, tuned, tmp_path):
    best = tuned.best_training_job()
    listed = runner.invoke(cli, ["tuning", "list"])
    assert listed.exit_code == 0
    assert listed.output.splitlines()[1].split()[:5] == ["cli-tuning", "Completed", "Random", "score", "3/3"]
    described = runner.invoke(cli, ["tuning", "describe", "cli-tuning"])
    assert described.exit_code == 0 and f"* {best}" in described.output and "x 0.0..1.0 (Auto)" in described.output
    assert json.loads(runner.invoke(cli, ["tuning", "describe", "cli-tuning", "--json"]).output)[
        "BestTrainingJob"]["TrainingJobName"] == best
    assert runner.invoke(cli, ["tuning", "best", "cli-tuning"]).stdout.strip() == best
    picture = tmp_path / "t.png"
    plotted = runner.invoke(cli, ["tuning", "plot", "cli-tuning", "-o", str(picture)])
    assert plotted.exit_code == 0 and picture.stat().st_size > 10_000
    assert "Tuning job Completed; best training job" in runner.invoke(cli, ["tuning", "logs", "cli-tuning"]).output
    assert "had already ended: Completed" in runner.invoke(cli, ["tuning", "stop", "cli-tuning"]).output
    jobs = runner.invoke(cli, ["jobs", "list"]).output  # the trials are ordinary jobs
    assert sum(line.startswith("cli-tuning-00") for line in jobs.splitlines()) == 3


def test_unknown_tuning_job_is_a_clear_error(runner):
    result = runner.invoke(cli, ["tuning", "describe", "ghost"])
    assert result.exit_code == 1 and "No tuning job named 'ghost'" in result.output
    assert "No tuning jobs yet" in runner.invoke(cli, ["tuning", "list"]).output
