"""Jobs that fail, overrun or are killed end in the right status with a reason."""

from __future__ import annotations

import os
import signal
import time

import psutil
import pytest

from rlops.exceptions import UnexpectedStatusException
from rlops.store import JobStore


def test_failing_script_reason_and_fit_raises(estimator_factory):
    estimator = estimator_factory("fail.py")
    with pytest.raises(UnexpectedStatusException) as info:
        estimator.fit(logs=False)
    assert info.value.actual_status == "Failed"
    reason = estimator.latest_training_job.describe()["FailureReason"]
    assert "ExecuteUserScriptError: exit code 1" in reason
    assert "Traceback" in reason and "ValueError: the data set has no column named 'reward'" in reason
    assert reason in str(info.value)
    description = estimator.latest_training_job.describe()
    assert description["SecondaryStatus"] == "Failed" and "ModelArtifacts" not in description


def test_output_failure_file_becomes_the_reason(estimator_factory):
    estimator = estimator_factory("fail.py", hyperparameters={"reason": "ClientError: reward went NaN at step 12"})
    with pytest.raises(UnexpectedStatusException):
        estimator.fit(logs=False)
    assert estimator.latest_training_job.describe()["FailureReason"] == "ClientError: reward went NaN at step 12"


def test_max_run_stops_the_job_and_keeps_the_model(estimator_factory):
    estimator = estimator_factory("long_run.py", max_run=2)
    started = time.time()
    estimator.fit(logs=False)  # a stopped job warns, as SageMaker's SDK does
    assert time.time() - started < 30
    description = estimator.latest_training_job.describe()
    assert description["TrainingJobStatus"] == "Stopped"
    assert description["SecondaryStatus"] == "MaxRuntimeExceeded"
    assert "max_run=2" in description["FailureReason"]
    assert description["ModelArtifacts"]["S3ModelArtifacts"].endswith("model.tar.gz")


def test_killed_supervisor_marks_the_job_failed(estimator_factory):
    estimator = estimator_factory("long_run.py")
    estimator.fit(wait=False)
    job = estimator.latest_training_job
    store = JobStore()
    record = store.get(job.name)
    deadline = time.time() + 30
    while "Training" not in [t["status"] for t in store.get(job.name).transitions] and time.time() < deadline:
        time.sleep(0.05)
    children = psutil.Process(record.supervisor_pid).children(recursive=True)
    assert children, "the entry point runs under the supervisor"
    os.kill(record.supervisor_pid, signal.SIGKILL)
    deadline = time.time() + 10
    while store.get(job.name).status == "InProgress" and time.time() < deadline:
        time.sleep(0.05)
    description = job.describe()
    assert description["TrainingJobStatus"] == "Failed"
    assert "supervisor process" in description["FailureReason"]
    gone, alive = psutil.wait_procs(children, timeout=10)
    assert not alive, "the entry point dies with its supervisor"
