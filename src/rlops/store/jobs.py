"""The job store: training jobs, their status transitions and their metric data points.

One transaction per call. Status values are SageMaker's (``InProgress``, ``Completed`` ...), so
that ``describe()`` and the CLI show what users already know.
"""

from __future__ import annotations

import json
import socket
import time
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import psutil
from sqlalchemy import and_, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from rlops.exceptions import AlreadyExists, NotFound
from rlops.store.engine import get_engine, transaction
from rlops.store.schema import metrics, status_transitions, training_jobs

IN_PROGRESS, COMPLETED, FAILED, STOPPING, STOPPED = "InProgress", "Completed", "Failed", "Stopping", "Stopped"
TERMINAL_STATUSES = (COMPLETED, FAILED, STOPPED)
ACTIVE_STATUSES = (IN_PROGRESS, STOPPING)
SECONDARY_STATUSES = (
    "Starting", "Downloading", "Training", "Uploading",
    "Completed", "Failed", "Stopped", "MaxRuntimeExceeded", "Interrupted",
)
#: A supervisor on another machine that has not heartbeaten for this long is presumed dead.
HEARTBEAT_TIMEOUT_S = 60.0


@dataclass
class JobRecord:
    """One training job as the store holds it."""

    name: str
    status: str
    secondary_status: str
    failure_reason: str | None
    spec: dict[str, Any]
    work_dir: str
    log_path: str
    model_artifacts: str | None
    output_artifacts: str | None
    created_at: float
    started_at: float | None
    ended_at: float | None
    heartbeat_at: float | None
    supervisor_pid: int | None
    supervisor_started: float | None
    supervisor_host: str | None
    stop_requested: bool
    transitions: list[dict[str, Any]] = field(default_factory=list)

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES


@dataclass
class MetricPoint:
    name: str
    value: float
    timestamp: float
    host: str | None = None


def _record(row, transitions=()) -> JobRecord:
    data = dict(row._mapping)
    data["spec"] = json.loads(data["spec"])
    data["stop_requested"] = bool(data["stop_requested"])
    return JobRecord(**data, transitions=list(transitions))


class JobStore:
    """Reads and writes training jobs. ``JobStore()`` opens the store of ``RLOPS_HOME``.

    >>> store = JobStore()                                   # doctest: +SKIP
    >>> store.get("my-job").status                           # doctest: +SKIP
    'Completed'
    """

    def __init__(self, url: str | None = None):
        from rlops.settings import database_url

        self.url = url or database_url()
        self.engine = get_engine(self.url)

    # -- jobs ---------------------------------------------------------------------------------

    def create(self, name: str, spec: dict[str, Any], work_dir: str, log_path: str) -> None:
        now = time.time()
        try:
            with transaction(self.engine, write=True) as conn:
                conn.execute(insert(training_jobs).values(
                    name=name, status=IN_PROGRESS, secondary_status="Starting", spec=json.dumps(spec),
                    work_dir=work_dir, log_path=log_path, created_at=now, stop_requested=False,
                ))
                conn.execute(insert(status_transitions).values(
                    job_name=name, status="Starting", message="Launching requested ML instances", start_time=now,
                ))
        except IntegrityError:
            raise AlreadyExists(
                f"A training job named {name!r} already exists; job names must be unique. "
                "Pick another job_name, or leave it out and rlops makes one from base_job_name."
            ) from None

    def delete(self, name: str) -> None:
        """Forget a job that never started (used to leave nothing behind when a launch fails)."""
        with transaction(self.engine, write=True) as conn:
            for table in (metrics, status_transitions):
                conn.execute(delete(table).where(table.c.job_name == name))
            conn.execute(delete(training_jobs).where(training_jobs.c.name == name))

    def get(self, name: str, check_alive: bool = True) -> JobRecord:
        """The job named ``name``; a job whose supervisor has died is marked ``Failed`` first."""
        with transaction(self.engine, write=False) as conn:
            row = conn.execute(select(training_jobs).where(training_jobs.c.name == name)).first()
            if row is None:
                raise NotFound(f"No training job named {name!r}. `rlops jobs list` shows the jobs there are.")
            transitions = conn.execute(
                select(status_transitions.c.status, status_transitions.c.message, status_transitions.c.start_time)
                .where(status_transitions.c.job_name == name)
                .order_by(status_transitions.c.id)
            ).all()
        job = _record(row, [dict(t._mapping) for t in transitions])
        if check_alive and self._reap_if_dead(job):
            return self.get(name, check_alive=False)
        return job

    def list(self, status: str | None = None, name_contains: str | None = None, limit: int | None = None) -> list[JobRecord]:
        """Jobs, newest first."""
        query = select(training_jobs).order_by(training_jobs.c.created_at.desc())
        if status:
            query = query.where(training_jobs.c.status == status)
        if name_contains:
            query = query.where(training_jobs.c.name.contains(name_contains))
        if limit:
            query = query.limit(limit)
        with transaction(self.engine, write=False) as conn:
            jobs = [_record(row) for row in conn.execute(query)]
        reaped = [job.name for job in jobs if self._reap_if_dead(job)]
        return [self.get(job.name, check_alive=False) if job.name in reaped else job for job in jobs]

    # -- supervisor side ----------------------------------------------------------------------

    def set_supervisor(self, name: str, pid: int, started: float, host: str | None = None) -> None:
        self.update(name, supervisor_pid=pid, supervisor_started=started,
                     supervisor_host=host or socket.gethostname(), heartbeat_at=time.time())

    def transition(self, name: str, secondary_status: str, message: str | None = None, **fields: Any) -> None:
        """Record a secondary-status transition (and any other fields, such as ``status``)."""
        now = time.time()
        with transaction(self.engine, write=True) as conn:
            conn.execute(update(training_jobs).where(training_jobs.c.name == name)
                         .values(secondary_status=secondary_status, **fields))
            conn.execute(insert(status_transitions).values(
                job_name=name, status=secondary_status, message=message, start_time=now))

    def heartbeat(self, name: str) -> bool:
        """Record that the supervisor is alive; returns whether a stop was requested."""
        with transaction(self.engine, write=True) as conn:
            conn.execute(update(training_jobs).where(training_jobs.c.name == name).values(heartbeat_at=time.time()))
            return bool(conn.execute(
                select(training_jobs.c.stop_requested).where(training_jobs.c.name == name)).scalar())

    def request_stop(self, name: str) -> JobRecord:
        """Ask the job's supervisor to stop it (from any process). A finished job is left as it is."""
        job = self.get(name)
        if job.is_terminal:
            return job
        with transaction(self.engine, write=True) as conn:
            conn.execute(update(training_jobs)
                         .where(and_(training_jobs.c.name == name, training_jobs.c.status.in_(ACTIVE_STATUSES)))
                         .values(stop_requested=True, status=STOPPING))
        return self.get(name)

    def finish(self, name: str, status: str, secondary_status: str, message: str | None = None, **fields: Any) -> None:
        self.transition(name, secondary_status, message, status=status, ended_at=time.time(), **fields)

    def update(self, name: str, **values: Any) -> None:
        with transaction(self.engine, write=True) as conn:
            conn.execute(update(training_jobs).where(training_jobs.c.name == name).values(**values))

    def _reap_if_dead(self, job: JobRecord) -> bool:
        """Mark an active job ``Failed`` when its supervisor is gone. Returns whether it did."""
        if job.is_terminal or job.supervisor_pid is None:
            return False
        reason = _supervisor_death(job)
        if reason is None:
            return False
        with transaction(self.engine, write=True) as conn:
            changed = conn.execute(
                update(training_jobs)
                .where(and_(training_jobs.c.name == job.name, training_jobs.c.status.in_(ACTIVE_STATUSES)))
                .values(status=FAILED, secondary_status="Failed", failure_reason=reason, ended_at=time.time())
            ).rowcount
            if changed:
                conn.execute(insert(status_transitions).values(
                    job_name=job.name, status="Failed", message=reason, start_time=time.time()))
        return bool(changed)

    # -- metrics ------------------------------------------------------------------------------

    def add_metrics(self, name: str, points: Sequence[MetricPoint]) -> None:
        if not points:
            return
        with transaction(self.engine, write=True) as conn:
            conn.execute(insert(metrics), [
                {"job_name": name, "name": p.name, "value": p.value, "timestamp": p.timestamp, "host": p.host}
                for p in points
            ])

    def metrics(self, name: str, metric_names: Iterable[str] | None = None) -> list[MetricPoint]:
        """Every data point of a job, in the order they were logged."""
        query = select(metrics.c.name, metrics.c.value, metrics.c.timestamp, metrics.c.host).where(
            metrics.c.job_name == name).order_by(metrics.c.id)
        if metric_names is not None:
            query = query.where(metrics.c.name.in_(list(metric_names)))
        with transaction(self.engine, write=False) as conn:
            return [MetricPoint(*row) for row in conn.execute(query)]

    def final_metrics(self, name: str) -> list[MetricPoint]:
        """The last data point of each metric (SageMaker's ``FinalMetricDataList``)."""
        last = select(func.max(metrics.c.id)).where(metrics.c.job_name == name).group_by(metrics.c.name)
        query = select(metrics.c.name, metrics.c.value, metrics.c.timestamp, metrics.c.host).where(
            metrics.c.id.in_(last)).order_by(metrics.c.name)
        with transaction(self.engine, write=False) as conn:
            return [MetricPoint(*row) for row in conn.execute(query)]


def _supervisor_death(job: JobRecord) -> str | None:
    """Why the job's supervisor is presumed dead, or None if it is alive."""
    if job.supervisor_host == socket.gethostname():
        try:
            proc = psutil.Process(job.supervisor_pid)
            alive = abs(proc.create_time() - (job.supervisor_started or 0)) < 1.0 and proc.status() != psutil.STATUS_ZOMBIE
        except psutil.Error:
            alive = False
        if alive:
            return None
        return (f"InternalServerError: the job's supervisor process (pid {job.supervisor_pid}) exited "
                "without finishing the job; see the job's log and supervisor.log in its work folder.")
    heartbeat = job.heartbeat_at or job.created_at
    if time.time() - heartbeat > HEARTBEAT_TIMEOUT_S:
        return (f"InternalServerError: the job's supervisor on {job.supervisor_host} has not reported "
                f"for {time.time() - heartbeat:.0f} s.")
    return None
