"""Spot-style jobs under interruption: hosts killed at random, the supervisor killed, interruptions asked for, and
checkpoints cut short; each job resumes from its latest checkpoint and ends with the right step count."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import pytest

from rlops.session import Session
from tests.conftest import wait_for
from tests.reliability.conftest import attempts, final_state, host_processes, size


def running_attempts(job) -> int:
    return len(attempts(open(job.log_path).read()))


def test_random_kills_of_the_host_lose_at_most_one_checkpoint_interval(counter_job):
    kills, every = size(5, 20), 10
    steps = size(600, 2000)
    estimator = counter_job(steps, every, step_seconds=0.01)
    name, jobs, rng = estimator.latest_training_job.name, Session().service.jobs, random.Random(7)
    for kill in range(kills):
        wait_for(lambda: running_attempts(jobs.describe(name)) == kill + 1 and host_processes(name), 60,
                 f"attempt {kill + 1} to start")
        time.sleep(rng.uniform(0.2, 0.6))  # anywhere in a checkpoint interval, writes included
        for host in host_processes(name):
            os.kill(host.pid, signal.SIGKILL)
    job = jobs.wait(name)
    assert job.status == "Completed", job.failure_reason
    assert len(job.interruptions) == kills
    assert all("killed (SIGKILL) by the system" in i["reason"] for i in job.interruptions)
    runs = attempts(open(job.log_path).read())
    assert len(runs) == kills + 1
    for (_, last_printed), (resumed_at, _) in zip(runs, runs[1:]):
        assert last_printed is not None and 0 <= last_printed - resumed_at <= every  # one interval at most
    assert final_state(job) == {"step": steps, "total": steps * (steps + 1) // 2}  # no step skipped or doubled


def test_a_lost_supervisor_is_found_by_the_next_rlops_command(counter_job, estimator_factory, rlops_home):
    spot = counter_job(400, 10, step_seconds=0.01).latest_training_job.name
    plain = estimator_factory("long_run.py", hyperparameters={"steps": 2000, "step-seconds": 0.01})
    plain.fit(wait=False)
    plain = plain.latest_training_job.name
    jobs = Session().service.jobs
    for name in (spot, plain):
        wait_for(lambda: host_processes(name), 30, f"{name} to train")
    time.sleep(0.5)
    for name in (spot, plain):  # the machine "dies": supervisors killed, their hosts go with them
        os.kill(jobs.describe(name).supervisor_pid, signal.SIGKILL)
    time.sleep(0.3)
    started = time.monotonic()
    listing = subprocess.run([sys.executable, "-m", "rlops", "jobs", "list"], capture_output=True, text=True,
                             env={**os.environ, "RLOPS_HOME": str(rlops_home)}, timeout=60)
    assert listing.returncode == 0, listing.stderr
    assert f"the spot-style job {spot} lost its supervisor; it resumes" in listing.stderr
    failed = jobs.describe(plain)
    assert failed.status == "Failed" and "supervisor lost" in failed.failure_reason
    resumed = jobs.describe(spot)
    assert resumed.status == "InProgress" and resumed.restarts == 1
    wait_for(lambda: running_attempts(jobs.describe(spot)) == 2, 30, "the resumed attempt")
    assert time.monotonic() - started < 30
    job = jobs.wait(spot)
    assert job.status == "Completed" and final_state(job) == {"step": 400, "total": 400 * 401 // 2}
    assert [i["reason"] for i in job.interruptions] == [
        "Interrupted: the job's supervisor was lost (the machine or the process died)"]


def test_interrupt_command_pauses_and_resumes_and_reports_the_savings(counter_job):
    from click.testing import CliRunner

    from rlops.cli.main import cli

    estimator = counter_job(300, 20, step_seconds=0.01)
    name = estimator.latest_training_job.name
    wait_for(lambda: host_processes(name), 30, "the job to train")
    time.sleep(0.5)
    result = CliRunner().invoke(cli, ["jobs", "interrupt", name, "--pause", "3", "--wait"])
    assert result.exit_code == 0 and "Completed" in result.output, result.output
    description = estimator.latest_training_job.describe()
    assert description["EnableManagedSpotTraining"] and description["StoppingCondition"]["MaxWaitTimeInSeconds"] == 7200
    transitions = [t["Status"] for t in description["SecondaryStatusTransitions"]]
    assert transitions[:6] == ["Starting", "Downloading", "Training", "Interrupted", "Restarting", "Downloading"]
    assert description["BillableTimeInSeconds"] <= description["TrainingTimeInSeconds"] - 2  # the pause is not billed
    shown = CliRunner().invoke(cli, ["jobs", "describe", name]).output
    saving = (1 - description["BillableTimeInSeconds"] / description["TrainingTimeInSeconds"]) * 100
    assert f"Managed Spot Training savings: {saving:.1f}%" in shown and "1 interruption(s)" in shown
    bad = CliRunner().invoke(cli, ["jobs", "interrupt", name])
    assert bad.exit_code != 0 and "is Completed; only a job in progress can be interrupted" in bad.output


def test_max_wait_ends_a_job_that_cannot_finish_in_time(counter_job):
    estimator = counter_job(5000, 50, step_seconds=0.01, max_run=4, max_wait=6)
    name, jobs = estimator.latest_training_job.name, Session().service.jobs
    wait_for(lambda: host_processes(name), 30, "the job to train")
    jobs.interrupt(name, pause=30)
    job = jobs.wait(name)
    assert job.status == "Failed" and job.secondary_status == "MaxWaitTimeExceeded"
    assert job.failure_reason.startswith("MaxWaitTimeExceeded: the job did not complete within max_wait=6 s")


def test_spot_settings_are_checked_before_anything_starts(tmp_path):
    from rlops.exceptions import UsageError
    from rlops.rl import RLEstimator

    def make(**kwargs):
        return RLEstimator(entry_point="counter.py", source_dir=str(tmp_path), toolkit="sb3", **kwargs)

    (tmp_path / "counter.py").write_text("")
    with pytest.raises(UsageError, match="use_spot_instances=True needs max_wait"):
        make(use_spot_instances=True, checkpoint_s3_uri=tmp_path.as_uri())
    with pytest.raises(UsageError, match=r"max_wait \(100 s\) must be at least max_run \(200 s\)"):
        make(use_spot_instances=True, max_wait=100, max_run=200, checkpoint_s3_uri=tmp_path.as_uri())
    with pytest.raises(UsageError, match="use_spot_instances=True needs checkpoint_s3_uri"):
        make(use_spot_instances=True, max_wait=100, max_run=100)
    with pytest.raises(UsageError, match="max_wait=50 is for spot-style training"):
        make(max_wait=50)
    assert make(train_use_spot_instances=True, train_max_wait=100, max_run=100,
                checkpoint_s3_uri=tmp_path.as_uri()).use_spot_instances  # SageMaker v1's names


def test_a_plain_job_cannot_be_interrupted(estimator_factory):
    from rlops.exceptions import UsageError

    estimator = estimator_factory("long_run.py", hyperparameters={"steps": 200, "step-seconds": 0.01})
    estimator.fit(wait=False)
    with pytest.raises(UsageError, match="is not a spot-style job"):
        Session().service.jobs.interrupt(estimator.latest_training_job.name)
    estimator.latest_training_job.stop()


def test_kills_while_checkpoints_are_written_never_leave_one_that_cannot_be_loaded(counter_job):
    """A checkpoint at every step (written, synced, renamed; the one before kept): kills land mid-write."""
    kills, steps = size(4, 15), size(300, 1000)
    estimator = counter_job(steps, 1, step_seconds=0.003)
    name, jobs, rng = estimator.latest_training_job.name, Session().service.jobs, random.Random(11)
    for kill in range(kills):
        wait_for(lambda: running_attempts(jobs.describe(name)) == kill + 1 and host_processes(name), 60,
                 f"attempt {kill + 1} to start")
        time.sleep(rng.uniform(0.05, 0.3))
        for host in host_processes(name):
            os.kill(host.pid, signal.SIGKILL)
    job = jobs.wait(name)
    assert job.status == "Completed" and len(job.interruptions) == kills
    log = open(job.log_path).read()
    assert "unreadable checkpoint" not in log  # a checkpoint is complete or absent, never half there
    runs = attempts(log)
    for (_, last_printed), (resumed_at, _) in zip(runs, runs[1:]):
        assert 0 <= last_printed - resumed_at <= 1
    assert final_state(job) == {"step": steps, "total": steps * (steps + 1) // 2}
