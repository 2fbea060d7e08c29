"""Jobs that fail, overrun or are killed end in the right status with a reason."""

from __future__ import annotations

import time

import pytest

from rlops.exceptions import UnexpectedStatusException

# every test here starts job or server processes; each runs on the local store and through an rlops server
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("service_mode")]


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
