"""The supervisor on its own, in this process: steps, host outputs merged, failures, and bad channels.

Jobs are recorded in the store as the runtime service would, then ``Supervisor.run()`` runs them
here, so each test sees exactly what the supervisor recorded and wrote.
"""

from __future__ import annotations

import io
import os
import signal
import tarfile
import time

import psutil
import pytest

from rlops.runtime.layout import ENDED_MARKER
from rlops.runtime.supervisor import Supervisor
from rlops.session import Session
from rlops.settings import jobs_dir
from rlops.storage import resolve_uri
from rlops.store import JobStore

pytestmark = pytest.mark.slow


def recorded(estimator_factory, script, inputs=None, **kwargs):
    """A job recorded in the store (as the service does before starting its supervisor), and its spec."""
    spec = estimator_factory(script, **kwargs)._job_spec(inputs, None)
    work = jobs_dir() / spec.name
    work.mkdir(parents=True)
    store = JobStore()
    store.create(spec.name, spec.to_dict(), str(work), str(work / "job.log"))
    return store, spec


def supervise(store: JobStore, name: str):
    previous = signal.getsignal(signal.SIGTERM)  # run() handles SIGTERM; give pytest its handler back
    try:
        Supervisor(name, store).run()
    finally:
        signal.signal(signal.SIGTERM, previous)
    return store.get(name)


def members(uri: str) -> dict[str, str]:
    with tarfile.open(resolve_uri(uri)) as archive:
        return {m.name: archive.extractfile(m).read().decode() for m in archive.getmembers() if m.isfile()}


def test_every_step_is_recorded_and_host_outputs_are_merged(estimator_factory):
    store, spec = recorded(estimator_factory, "hosts.py", instance_count=2)
    job = supervise(store, spec.name)

    assert job.status == "Completed" and job.failure_reason is None
    assert [t["status"] for t in job.transitions] == ["Starting", "Downloading", "Training", "Uploading", "Completed"]
    assert job.model_artifacts == spec.model_archive.as_uri()
    model = members(job.model_artifacts)
    assert model == {"algo-1.txt": "algo-1", "algo-2.txt": "algo-2", "shared.txt": "algo-1"}  # the first host wins
    assert members(job.output_artifacts) == {"data-algo-1.txt": "algo-1", "data-algo-2.txt": "algo-2"}
    log = open(job.log_path).read()
    assert "algo-1 | hello from algo-1" in log and "algo-2 | hello from algo-2" in log
    assert log.rstrip().endswith("Completed - Training job completed")
    assert (jobs_dir() / spec.name / ENDED_MARKER).exists()  # followers notice the end from it


def test_a_failing_host_names_itself_and_the_others_are_stopped(estimator_factory):
    store, spec = recorded(estimator_factory, "hosts.py", instance_count=2, hyperparameters={"fail-on": "algo-2"})
    started = time.monotonic()
    job = supervise(store, spec.name)

    assert time.monotonic() - started < 30, "algo-1 (sleeping 60 s) was stopped, not waited for"
    assert job.status == "Failed" and job.secondary_status == "Failed"
    assert job.failure_reason.startswith("AlgorithmError: ExecuteUserScriptError: exit code 1 on algo-2")
    assert "RuntimeError: algo-2 could not reach its parameter server" in job.failure_reason
    assert job.model_artifacts is None  # a failed job's model is not packaged ...
    assert "data-algo-2.txt" in members(job.output_artifacts)  # ... its output is, for the post-mortem


def test_an_unsafe_channel_archive_is_a_client_error_and_writes_nothing_outside(estimator_factory, tmp_path):
    archive = tmp_path / "data.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        payload = b"pwned"
        info = tarfile.TarInfo("../../../../escaped.txt")
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
    store, spec = recorded(estimator_factory, "contract.py", inputs={"training": str(archive)})
    job = supervise(store, spec.name)

    assert job.status == "Failed" and job.failure_reason.startswith("ClientError: Refused to unpack")
    assert "'../../../../escaped.txt'" in job.failure_reason
    assert not list(tmp_path.parent.rglob("escaped.txt")) and not list(jobs_dir().rglob("escaped.txt"))


def test_a_vanished_channel_is_a_client_error(estimator_factory, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    store, spec = recorded(estimator_factory, "contract.py", inputs={"training": str(data)})
    data.rmdir()  # gone between submission and start
    job = supervise(store, spec.name)
    assert job.status == "Failed"
    assert job.failure_reason.startswith("ClientError: The input of channel 'training'")


def test_the_service_not_the_store_notices_a_dead_supervisor(estimator_factory):
    jobs = Session().service.jobs
    estimator = estimator_factory("long_run.py")
    estimator.fit(wait=False)
    name = estimator.latest_training_job.name
    deadline = time.time() + 30
    while "Training" not in [t["status"] for t in jobs.describe(name).transitions] and time.time() < deadline:
        time.sleep(0.05)
    pid = jobs.describe(name).supervisor_pid
    children = psutil.Process(pid).children(recursive=True)
    os.kill(pid, signal.SIGKILL)
    psutil.wait_procs([psutil.Process(pid)], timeout=10)

    assert JobStore().get(name).status == "InProgress"  # the store only stores ...
    job = jobs.describe(name)  # ... the service checks the supervisor and records what it found
    assert job.status == "Failed" and "supervisor process" in job.failure_reason
    assert JobStore().get(name).status == "Failed"
    assert [j.status for j in jobs.list()] == ["Failed"]
    _, alive = psutil.wait_procs(children, timeout=10)
    assert not alive, "the entry point dies with its supervisor"
