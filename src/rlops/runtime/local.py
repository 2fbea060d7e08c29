"""The local runtime: jobs and endpoints as processes on this machine, recorded in an embedded store.

A job is a row in the job store plus a supervisor process (:mod:`rlops.runtime.supervisor`)
started in a session of its own, so it keeps running when the caller exits. Any process that
opens the same store (``RLOPS_HOME`` or ``RLOPS_DATABASE_URL``) can read, follow or stop it.
Before a job is shown, its supervisor is checked (:mod:`rlops.runtime.reconcile`): a job whose
supervisor died is recorded ``Failed`` with the reason.

>>> runtime = LocalRuntime()                                    # doctest: +SKIP
>>> runtime.jobs.create(spec)                                   # doctest: +SKIP
>>> for chunk in runtime.jobs.logs(spec.name, follow=True):     # doctest: +SKIP
...     print(chunk, end="")
"""

from __future__ import annotations

import functools
import logging
import shutil
import socket
import time
from pathlib import Path
from typing import Iterable, Iterator

from rlops.exceptions import UsageError
from rlops.records import ACTIVE_STATUSES, JobRecord, JobStatus, MetricPoint
from rlops.runtime.endpoints import LocalEndpoints
from rlops.runtime.layout import ENDED_MARKER
from rlops.runtime.reconcile import start_detached, supervisor_death
from rlops.runtime.service import JobService, RuntimeService, TuningService
from rlops.runtime.spec import JobSpec
from rlops.settings import database_url, jobs_dir
from rlops.store import EndpointStore, JobStore, TuningStore

POLL_S = 0.05
#: How often a follower reads the store even without the end marker (a supervisor that died).
STATUS_POLL_S = 2.0
LOG_NAME = "job.log"
log = logging.getLogger("rlops")
_RECOVERED: set[str] = set()
#: How many times a spot-style job's lost supervisor is replaced before the job is recorded as failed.
MAX_RESTARTS = 100


class LocalRuntime(RuntimeService):
    """The runtime service on this machine, over the store at ``database_url`` (default: ``RLOPS_HOME``'s)."""

    def __init__(self, database_url: str | None = None):
        self.database_url = database_url

    # The store is opened (and its schema checked) on first use, so that upgrade_store() can run first.
    @functools.cached_property
    def jobs(self) -> LocalJobs:
        jobs = LocalJobs(JobStore(self.database_url))
        if jobs.store.url not in _RECOVERED:  # once per process and store: jobs left running by a machine that died
            _RECOVERED.add(jobs.store.url)
            for job in jobs.recover():
                if job.status == JobStatus.IN_PROGRESS:
                    log.warning("rlops: the spot-style job %s lost its supervisor; it resumes from its latest "
                                "checkpoint (restart %d).", job.name, job.restarts)
                else:
                    log.warning("rlops: the job %s was still recorded as running; %s", job.name, job.failure_reason)
        return jobs

    @functools.cached_property
    def endpoints(self) -> LocalEndpoints:
        return LocalEndpoints(EndpointStore(self.database_url))

    @functools.cached_property
    def tuning(self) -> TuningService:
        from rlops.runtime.tuning import LocalTuning

        return LocalTuning(TuningStore(self.database_url))

    @property
    def location(self) -> str:
        from sqlalchemy import make_url

        return make_url(self.database_url or database_url()).render_as_string(hide_password=True)

    def transform(self, model: str, source: Path, target: Path, join_source: bool = False,
                  batch_size: int = 10_000) -> int:
        from rlops.serving.batch import transform_file

        return transform_file(model, source, target, join_source, batch_size)

    def upgrade_store(self) -> tuple[str | None, str]:
        from rlops.store.engine import upgrade_database

        return upgrade_database(self.database_url or database_url())


class LocalJobs(JobService):
    def __init__(self, store: JobStore | None = None):
        self.store = store or JobStore()

    def create(self, spec: JobSpec) -> JobRecord:
        work_dir = jobs_dir() / spec.name
        log_path = work_dir / LOG_NAME
        self.store.create(spec.name, spec.to_dict(), str(work_dir), str(log_path))
        try:
            work_dir.mkdir(parents=True, exist_ok=True)
            log_path.touch()
            self._start_supervisor(spec.name, work_dir)
        except BaseException:
            self.store.delete(spec.name)
            shutil.rmtree(work_dir, ignore_errors=True)
            raise
        return self.store.get(spec.name)

    def describe(self, name: str) -> JobRecord:
        return self._reconciled(self.store.get(name))

    def list(self, status: str | None = None, name_contains: str | None = None,
             limit: int | None = None) -> list[JobRecord]:
        return [self._reconciled(job) for job in self.store.list(status, name_contains, limit)]

    def _start_supervisor(self, name: str, work_dir: Path, resume: bool = False) -> None:
        pid, started = start_detached("rlops.runtime.supervisor",
                                      [name, "--store", self.store.url, *(["--resume"] if resume else [])],
                                      work_dir / "supervisor.log")
        self.store.set_supervisor(name, pid, started, socket.gethostname())

    def _reconciled(self, job: JobRecord) -> JobRecord:
        """The job, after a look at its supervisor: one that died is replaced, resuming the job from its
        checkpoints, for a spot-style job still in progress (at most ``MAX_RESTARTS`` times); any other job is
        recorded ``Failed`` with the reason ("supervisor lost")."""
        reason = supervisor_death(job)
        if reason is None:
            return job
        spot = job.spec.get("use_spot") and job.status == JobStatus.IN_PROGRESS and job.restarts < MAX_RESTARTS
        if spot:
            if self.store.claim_restart(job.name, job.supervisor_pid, job.supervisor_started):
                self._start_supervisor(job.name, Path(job.work_dir), resume=True)
        else:
            if job.spec.get("use_spot") and job.restarts >= MAX_RESTARTS:
                reason += f" Its supervisor was started again {job.restarts} times already; rlops gives up."
            self.store.fail_if_active(job.name, reason)
        return self.store.get(job.name)

    def recover(self) -> list[JobRecord]:
        """Look at every job still recorded as running (after the machine or a supervisor died): spot-style jobs
        resume, others are recorded ``Failed``. Run when an rlops command or a session starts; returns the jobs
        this changed."""
        changed = []
        for job in (job for status in ACTIVE_STATUSES for job in self.store.list(status.value)):
            after = self._reconciled(job)
            if (after.status, after.restarts) != (job.status, job.restarts):
                changed.append(after)
        return changed

    def interrupt(self, name: str, reason: str | None = None, pause: float = 0.0) -> JobRecord:
        """Interrupt a running spot-style job as a reclaimed machine would (its hosts killed, no grace period); it
        resumes from its latest checkpoint after ``pause`` seconds."""
        job = self.describe(name)
        if not job.spec.get("use_spot"):
            raise UsageError(f"{name} is not a spot-style job (use_spot_instances=True); only those are interrupted "
                             "and resumed. Stop it instead: rlops jobs stop " + name)
        if job.status != JobStatus.IN_PROGRESS:
            raise UsageError(f"{name} is {job.status}; only a job in progress can be interrupted.")
        if pause < 0:
            raise UsageError(f"pause is a number of seconds, 0 or more; got {pause!r}.")
        return self.store.request_interrupt(name, reason or "Interrupted: rlops jobs interrupt (asked for)", pause)

    def stop(self, name: str) -> JobRecord:
        self.describe(name)  # a job whose supervisor died is not left Stopping forever
        return self.store.request_stop(name)

    def metrics(self, name: str, metric_names: Iterable[str] | None = None) -> list[MetricPoint]:
        return self.store.metrics(name, metric_names)

    def final_metrics(self, name: str) -> list[MetricPoint]:
        return self.store.final_metrics(name)

    def final_metrics_of(self, names: list[str]) -> dict[str, list[MetricPoint]]:
        return self.store.final_metrics_of(names)

    def wait(self, name: str, poll: float = POLL_S) -> JobRecord:
        job = self.describe(name)
        watch = _EndWatch(self, job)
        while not job.is_terminal:
            time.sleep(poll)
            job = watch.poll() or job
        return job

    def logs(self, name: str, follow: bool = False, poll: float = POLL_S) -> Iterator[str]:
        job = self.describe(name)
        path = Path(job.log_path)
        watch = _EndWatch(self, job)
        with open(path, "rb") as stream:
            pending = b""
            while True:
                finished = job.is_terminal  # read the status before the data, so nothing is missed
                data = stream.read()
                if data:
                    pending += data
                    complete, _, pending = pending.rpartition(b"\n")
                    if complete:
                        yield (complete + b"\n").decode("utf-8", errors="replace")
                    continue
                if not follow or finished:
                    if pending:
                        yield pending.decode("utf-8", errors="replace")
                    return
                time.sleep(poll)
                job = watch.poll() or job


class _EndWatch:
    """Tells a follower when a job has ended, reading the store only when it must.

    The supervisor touches a marker in the job's folder once the outcome is recorded; checking
    for a file costs a system call, reading the store a query (and, polled many times a second,
    CPU the training job could use). The store is still read every ``STATUS_POLL_S`` so that a
    job whose supervisor died is noticed.
    """

    def __init__(self, jobs: LocalJobs, job: JobRecord):
        self.jobs, self.name = jobs, job.name
        self.marker = Path(job.work_dir) / ENDED_MARKER
        self.next_read = time.monotonic() + STATUS_POLL_S

    def poll(self) -> JobRecord | None:
        """The job's record when it may have changed, else None."""
        if self.marker.exists() or time.monotonic() >= self.next_read:
            self.next_read = time.monotonic() + STATUS_POLL_S
            return self.jobs.describe(self.name)
        return None

