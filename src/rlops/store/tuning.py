"""The tuning store: hyperparameter tuning jobs and their trials (the training jobs they started).

Optuna's study (what the search has learnt) lives in the same database, in Optuna's own tables;
this store keeps what rlops shows: each tuning job's status and spec, and which training job each
trial ran, with the values it tried and the objective it reached.
"""

from __future__ import annotations

import json
import socket
import time
from typing import Any

from sqlalchemy import and_, insert, outerjoin, select, update
from sqlalchemy.exc import IntegrityError

from rlops.exceptions import AlreadyExists, NotFound
from rlops.records import ObjectiveStatus, TrialRecord, TuningJobRecord, TuningJobStatus
from rlops.store.engine import claim_restart, column_values, get_engine, newest_first, transaction
from rlops.store.schema import training_jobs, tuning_jobs, tuning_trials

_ACTIVE = [TuningJobStatus.IN_PROGRESS.value, TuningJobStatus.STOPPING.value]


def _record(row) -> TuningJobRecord:
    data = dict(row._mapping)
    data["spec"] = json.loads(data["spec"])
    data["stop_requested"] = bool(data["stop_requested"])
    return TuningJobRecord(**data)


def _trial(row) -> TrialRecord:
    data = dict(row._mapping)
    data["hyperparameters"] = json.loads(data["hyperparameters"])
    data["early_stopped"] = bool(data["early_stopped"])
    return TrialRecord(**data)


class TuningStore:
    """Reads and writes tuning jobs and trials. ``TuningStore()`` opens the store of ``RLOPS_HOME``."""

    def __init__(self, url: str | None = None):
        from rlops.settings import database_url

        self.url = url or database_url()
        self.engine = get_engine(self.url)

    # -- tuning jobs --------------------------------------------------------------------------

    def create(self, name: str, spec: dict[str, Any], work_dir: str, log_path: str) -> None:
        try:
            with transaction(self.engine, write=True) as conn:
                conn.execute(insert(tuning_jobs).values(
                    name=name, status=TuningJobStatus.IN_PROGRESS.value, spec=json.dumps(spec), work_dir=work_dir,
                    log_path=log_path, created_at=time.time(), stop_requested=False, restarts=0))
        except IntegrityError:
            raise AlreadyExists(f"A tuning job named {name!r} already exists; tuning job names must be unique. Pick "
                                "another job_name, or leave it out and rlops makes one from base_tuning_job_name.") from None

    def delete(self, name: str) -> None:
        """Forget a tuning job whose tuner never started (nothing is left behind when a launch fails)."""
        with transaction(self.engine, write=True) as conn:
            conn.execute(tuning_trials.delete().where(tuning_trials.c.tuning_job_name == name))
            conn.execute(tuning_jobs.delete().where(tuning_jobs.c.name == name))

    def get(self, name: str) -> TuningJobRecord:
        with transaction(self.engine, write=False) as conn:
            row = conn.execute(select(tuning_jobs).where(tuning_jobs.c.name == name)).first()
        if row is None:
            raise NotFound(f"No tuning job named {name!r}. `rlops tuning list` shows the tuning jobs there are.")
        return _record(row)

    def list(self, status: str | None = None, name_contains: str | None = None,
             limit: int | None = None) -> list[TuningJobRecord]:
        """Tuning jobs, newest first."""
        query = newest_first(tuning_jobs, TuningJobStatus(status).value if status else None, name_contains, limit)
        with transaction(self.engine, write=False) as conn:
            return [_record(row) for row in conn.execute(query)]

    def update(self, name: str, **values: Any) -> None:
        with transaction(self.engine, write=True) as conn:
            conn.execute(update(tuning_jobs).where(tuning_jobs.c.name == name).values(**column_values(values)))

    def set_supervisor(self, name: str, pid: int, started: float) -> None:
        self.update(name, supervisor_pid=pid, supervisor_started=started, supervisor_host=socket.gethostname(),
                    heartbeat_at=time.time())

    def claim_restart(self, name: str, pid: int | None, started: float | None) -> bool:
        """Take the right to start a dead tuner again (:func:`rlops.store.engine.claim_restart`); the winner records
        the new tuner with :meth:`set_supervisor`."""
        return claim_restart(self.engine, tuning_jobs, name, pid, started, _ACTIVE)

    def heartbeat(self, name: str) -> bool:
        """Record that the tuner is alive; returns whether a stop was requested."""
        with transaction(self.engine, write=True) as conn:
            conn.execute(update(tuning_jobs).where(tuning_jobs.c.name == name).values(heartbeat_at=time.time()))
            return bool(conn.execute(select(tuning_jobs.c.stop_requested).where(tuning_jobs.c.name == name)).scalar())

    def request_stop(self, name: str) -> TuningJobRecord:
        """Ask the tuner to stop its search and its running jobs. A finished tuning job is left as it is."""
        with transaction(self.engine, write=True) as conn:
            conn.execute(update(tuning_jobs).where(and_(tuning_jobs.c.name == name, tuning_jobs.c.status.in_(_ACTIVE)))
                         .values(stop_requested=True, status=TuningJobStatus.STOPPING.value))
        return self.get(name)

    def finish(self, name: str, status: TuningJobStatus, failure_reason: str | None = None) -> None:
        self.update(name, status=status, failure_reason=failure_reason, ended_at=time.time())

    def fail_if_active(self, name: str, reason: str) -> bool:
        """Mark a tuning job ``Failed`` with ``reason`` unless it has ended. Returns whether it did."""
        with transaction(self.engine, write=True) as conn:
            return bool(conn.execute(
                update(tuning_jobs).where(and_(tuning_jobs.c.name == name, tuning_jobs.c.status.in_(_ACTIVE)))
                .values(status=TuningJobStatus.FAILED.value, failure_reason=reason, ended_at=time.time())
            ).rowcount)

    # -- trials -------------------------------------------------------------------------------

    def add_trial(self, tuning_job: str, training_job: str, number: int, hyperparameters: dict[str, Any]) -> None:
        with transaction(self.engine, write=True) as conn:
            conn.execute(insert(tuning_trials).values(
                training_job_name=training_job, tuning_job_name=tuning_job, trial_number=number,
                hyperparameters=json.dumps(hyperparameters), objective_status=ObjectiveStatus.PENDING.value,
                early_stopped=False, created_at=time.time()))

    def delete_trial(self, training_job: str) -> None:
        """Forget a trial whose training job was never started."""
        with transaction(self.engine, write=True) as conn:
            conn.execute(tuning_trials.delete().where(tuning_trials.c.training_job_name == training_job))

    def update_trial(self, training_job: str, **values: Any) -> None:
        with transaction(self.engine, write=True) as conn:
            conn.execute(update(tuning_trials).where(tuning_trials.c.training_job_name == training_job)
                         .values(**column_values(values)))

    def trials(self, tuning_job: str) -> list[TrialRecord]:
        """The tuning job's trials in the order they started, with their training jobs' status and times."""
        joined = outerjoin(tuning_trials, training_jobs, tuning_trials.c.training_job_name == training_jobs.c.name)
        query = (select(tuning_trials, training_jobs.c.status.label("job_status"), training_jobs.c.started_at,
                        training_jobs.c.ended_at, training_jobs.c.failure_reason)
                 .select_from(joined).where(tuning_trials.c.tuning_job_name == tuning_job)
                 .order_by(tuning_trials.c.trial_number))
        with transaction(self.engine, write=False) as conn:
            return [_trial(row) for row in conn.execute(query)]
