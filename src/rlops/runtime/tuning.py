"""Tuning jobs on this machine: a recorded tuning job plus a tuner process (:mod:`rlops.runtime.tuner`).

The tuner runs in a session of its own, like a training job's supervisor, so closing the notebook
that called ``tuner.fit()`` does not stop the search. Its trials are ordinary training jobs, each
with a supervisor of its own, so they too outlive the tuner. A tuner that died (killed, or its
machine rebooted) is started again the next time anyone looks at its tuning job: Optuna's study
and the trial table are in the store, so it goes on where it was, adopting the jobs still running
and never repeating a finished trial.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from rlops.records import TrialRecord, TuningJobRecord
from rlops.runtime.reconcile import start_detached, supervisor_death
from rlops.runtime.service import TuningService
from rlops.runtime.spec import TuningSpec
from rlops.settings import rlops_home
from rlops.store import TuningStore

LOG_NAME = "tuner.log"
#: How many times a tuner that died is started again before its tuning job is marked Failed.
MAX_RESTARTS = 3
POLL_S = 0.2


def tuning_dir() -> Path:
    """Working folders of tuning jobs: one per tuning job, holding the tuner's log."""
    return rlops_home() / "tuning"


class LocalTuning(TuningService):
    def __init__(self, store: TuningStore):
        self.store = store

    def create(self, spec: TuningSpec) -> TuningJobRecord:
        work_dir = tuning_dir() / spec.name
        self.store.create(spec.name, spec.to_dict(), str(work_dir), str(work_dir / LOG_NAME))
        try:
            work_dir.mkdir(parents=True, exist_ok=True)
            (work_dir / LOG_NAME).touch()
            self._start(spec.name, work_dir)
        except BaseException:
            self.store.delete(spec.name)
            shutil.rmtree(work_dir, ignore_errors=True)
            raise
        return self.store.get(spec.name)

    def _start(self, name: str, work_dir: Path) -> None:
        pid, started = start_detached("rlops.runtime.tuner", [name, "--store", self.store.url],
                                      work_dir / "tuner-process.log")
        self.store.set_supervisor(name, pid, started)

    def describe(self, name: str) -> TuningJobRecord:
        return self._reconciled(self.store.get(name))

    def list(self, status: str | None = None, name_contains: str | None = None,
             limit: int | None = None) -> list[TuningJobRecord]:
        return [self._reconciled(t) for t in self.store.list(status, name_contains, limit)]

    def _reconciled(self, record: TuningJobRecord) -> TuningJobRecord:
        """The tuning job, its tuner started again first if it died (at most ``MAX_RESTARTS`` times)."""
        reason = supervisor_death(record)
        if reason is None:
            return record
        if record.restarts >= MAX_RESTARTS:
            self.store.fail_if_active(record.name, (
                f"InternalServerError: the tuner process exited {record.restarts + 1} times without finishing the "
                f"tuning job (the last: pid {record.supervisor_pid}); see tuner-process.log in {record.work_dir}."))
        elif self.store.claim_restart(record.name, record.supervisor_pid, record.supervisor_started):
            self._start(record.name, Path(record.work_dir))
        return self.store.get(record.name)

    def trials(self, name: str) -> list[TrialRecord]:
        self.store.get(name)  # NotFound for a tuning job that does not exist
        return self.store.trials(name)

    def stop(self, name: str) -> TuningJobRecord:
        self.describe(name)  # a dead tuner is started again, and it carries the stop out
        return self.store.request_stop(name)

    def wait(self, name: str, poll: float = POLL_S) -> TuningJobRecord:
        record = self.describe(name)
        while not record.is_terminal:
            time.sleep(poll)
            record = self.describe(name)
        return record

    def logs(self, name: str) -> str:
        path = Path(self.store.get(name).log_path)
        return path.read_text(errors="replace") if path.is_file() else ""
