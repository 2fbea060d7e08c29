"""The job store: training jobs, their status transitions and their metric data points.

One transaction per call. The store stores: whether a job's supervisor is still alive is the
runtime service's question (:mod:`rlops.runtime.reconcile`), which records the answer here.
"""

from __future__ import annotations

import json
import socket
import time
from typing import Any, Iterable, NamedTuple, Sequence

from sqlalchemy import and_, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from rlops.exceptions import AlreadyExists, NotFound
from rlops.records import ACTIVE_STATUSES, JobRecord, JobStatus, MetricPoint, SecondaryStatus
from rlops.store.engine import claim_restart, column_values, get_engine, newest_first, transaction
from rlops.store.schema import metrics, status_transitions, training_jobs

_ACTIVE = [s.value for s in ACTIVE_STATUSES]


class Requests(NamedTuple):
    """What was asked of a job's supervisor, read at each heartbeat."""

    stop: bool
    interrupt: dict[str, Any] | None  # {"reason", "pause"}


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
                    name=name, status=JobStatus.IN_PROGRESS.value, secondary_status=SecondaryStatus.STARTING.value,
                    spec=json.dumps(spec), work_dir=work_dir, log_path=log_path, created_at=now, stop_requested=False,
                ))
                conn.execute(insert(status_transitions).values(
                    job_name=name, status=SecondaryStatus.STARTING.value, message="Launching requested ML instances", start_time=now,
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

    def get(self, name: str) -> JobRecord:
        """The job named ``name``, with its status transitions."""
        with transaction(self.engine, write=False) as conn:
            row = conn.execute(select(training_jobs).where(training_jobs.c.name == name)).first()
            if row is None:
                raise NotFound(f"No training job named {name!r}. `rlops jobs list` shows the jobs there are.")
            transitions = conn.execute(
                select(status_transitions.c.status, status_transitions.c.message, status_transitions.c.start_time)
                .where(status_transitions.c.job_name == name)
                .order_by(status_transitions.c.id)
            ).all()
        return _record(row, [dict(t._mapping) for t in transitions])

    def list(self, status: str | None = None, name_contains: str | None = None, limit: int | None = None) -> list[JobRecord]:
        """Jobs, newest first."""
        query = newest_first(training_jobs, JobStatus(status).value if status else None, name_contains, limit)
        with transaction(self.engine, write=False) as conn:
            return [_record(row) for row in conn.execute(query)]

    # -- supervisor side ----------------------------------------------------------------------

    def set_supervisor(self, name: str, pid: int, started: float, host: str | None = None) -> None:
        self.update(name, supervisor_pid=pid, supervisor_started=started,
                     supervisor_host=host or socket.gethostname(), heartbeat_at=time.time())

    def transition(self, name: str, secondary_status: str, message: str | None = None, **fields: Any) -> None:
        """Record a secondary-status transition (and any other fields, such as ``status``)."""
        now = time.time()
        with transaction(self.engine, write=True) as conn:
            conn.execute(update(training_jobs).where(training_jobs.c.name == name)
                         .values(secondary_status=str(secondary_status), **column_values(fields)))
            conn.execute(insert(status_transitions).values(
                job_name=name, status=str(secondary_status), message=message, start_time=now))

    def heartbeat(self, name: str) -> Requests:
        """Record that the supervisor is alive; returns what was asked of it (a stop, an interruption)."""
        with transaction(self.engine, write=True) as conn:
            conn.execute(update(training_jobs).where(training_jobs.c.name == name).values(heartbeat_at=time.time()))
            row = conn.execute(select(training_jobs.c.stop_requested, training_jobs.c.interrupt_requested)
                               .where(training_jobs.c.name == name)).first()
        return Requests(bool(row.stop_requested), json.loads(row.interrupt_requested) if row.interrupt_requested else None)

    def request_interrupt(self, name: str, reason: str, pause: float = 0.0) -> JobRecord:
        """Ask the job's supervisor to interrupt it as a reclaimed spot machine would: its hosts killed at once, the
        job resumed from its checkpoints after ``pause`` seconds. A job that is not running is left as it is."""
        with transaction(self.engine, write=True) as conn:
            conn.execute(update(training_jobs)
                         .where(and_(training_jobs.c.name == name, training_jobs.c.status == JobStatus.IN_PROGRESS.value))
                         .values(interrupt_requested=json.dumps({"reason": reason, "pause": pause})))
        return self.get(name)

    def claim_restart(self, name: str, pid: int | None, started: float | None) -> bool:
        """Take the right to start a lost supervisor again (:func:`rlops.store.engine.claim_restart`); the winner
        records the new supervisor with :meth:`set_supervisor`."""
        return claim_restart(self.engine, training_jobs, name, pid, started, _ACTIVE)

    def request_stop(self, name: str) -> JobRecord:
        """Ask the job's supervisor to stop it (from any process). A finished job is left as it is."""
        with transaction(self.engine, write=True) as conn:
            conn.execute(update(training_jobs)
                         .where(and_(training_jobs.c.name == name, training_jobs.c.status.in_(_ACTIVE)))
                         .values(stop_requested=True, status=JobStatus.STOPPING.value))
        return self.get(name)

    def finish(self, name: str, status: str, secondary_status: str, message: str | None = None, **fields: Any) -> None:
        self.transition(name, secondary_status, message, status=status, ended_at=time.time(), **fields)

    def update(self, name: str, **values: Any) -> None:
        with transaction(self.engine, write=True) as conn:
            conn.execute(update(training_jobs).where(training_jobs.c.name == name).values(**column_values(values)))

    def fail_if_active(self, name: str, reason: str) -> bool:
        """Mark a job ``Failed`` with ``reason`` unless it has already ended. Returns whether it did."""
        now = time.time()
        with transaction(self.engine, write=True) as conn:
            changed = conn.execute(
                update(training_jobs)
                .where(and_(training_jobs.c.name == name, training_jobs.c.status.in_(_ACTIVE)))
                .values(status=JobStatus.FAILED.value, secondary_status=SecondaryStatus.FAILED.value,
                        failure_reason=reason, ended_at=now)
            ).rowcount
            if changed:
                conn.execute(insert(status_transitions).values(
                    job_name=name, status=SecondaryStatus.FAILED.value, message=reason, start_time=now))
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
        return self.final_metrics_of([name])[name]

    def final_metrics_of(self, names: Sequence[str]) -> dict[str, list[MetricPoint]]:
        """:meth:`final_metrics` of several jobs in one query (a page listing jobs)."""
        last = (select(func.max(metrics.c.id)).where(metrics.c.job_name.in_(list(names)))
                .group_by(metrics.c.job_name, metrics.c.name))
        query = select(metrics.c.job_name, metrics.c.name, metrics.c.value, metrics.c.timestamp, metrics.c.host).where(
            metrics.c.id.in_(last)).order_by(metrics.c.job_name, metrics.c.name)
        found: dict[str, list[MetricPoint]] = {name: [] for name in names}
        with transaction(self.engine, write=False) as conn:
            for job, *point in conn.execute(query):
                found[job].append(MetricPoint(*point))
        return found

