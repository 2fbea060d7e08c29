"""The local backend: the one interface through which the SDK and the CLI run jobs.

A job is a row in the job store plus a supervisor process (:mod:`rlops.runtime.supervisor`)
started in a session of its own, so it keeps running when the caller exits. Any process that
opens the same store (``RLOPS_HOME`` or ``RLOPS_DATABASE_URL``) can read, follow or stop it.

>>> backend = LocalBackend()                               # doctest: +SKIP
>>> backend.submit(spec)                                   # doctest: +SKIP
>>> for chunk in backend.logs(spec.name, follow=True):     # doctest: +SKIP
...     print(chunk, end="")
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import psutil

from rlops.runtime.layout import ENDED_MARKER
from rlops.runtime.spec import JobSpec
from rlops.settings import jobs_dir
from rlops.store import JobRecord, JobStore

POLL_S = 0.05
#: How often a follower reads the store even without the end marker (a supervisor that died).
STATUS_POLL_S = 2.0
LOG_NAME = "job.log"


class LocalBackend:
    def __init__(self, store: JobStore | None = None):
        self.store = store or JobStore()

    def submit(self, spec: JobSpec) -> JobRecord:
        """Record the job and start its supervisor. On any failure nothing is left behind."""
        work_dir = jobs_dir() / spec.name
        log_path = work_dir / LOG_NAME
        self.store.create(spec.name, spec.to_dict(), str(work_dir), str(log_path))
        try:
            work_dir.mkdir(parents=True, exist_ok=True)
            log_path.touch()
            with open(work_dir / "supervisor.log", "ab") as supervisor_log:
                process = subprocess.Popen(
                    [sys.executable, "-m", "rlops.runtime.supervisor", spec.name],
                    stdin=subprocess.DEVNULL, stdout=supervisor_log, stderr=subprocess.STDOUT,
                    start_new_session=True, close_fds=True, env=_supervisor_env(),
                )
            started = psutil.Process(process.pid).create_time()
            self.store.set_supervisor(spec.name, process.pid, started, socket.gethostname())
        except BaseException:
            self.store.delete(spec.name)
            shutil.rmtree(work_dir, ignore_errors=True)
            raise
        return self.store.get(spec.name)

    def describe(self, name: str) -> JobRecord:
        return self.store.get(name)

    def stop(self, name: str) -> JobRecord:
        return self.store.request_stop(name)

    def wait(self, name: str, poll: float = POLL_S) -> JobRecord:
        job = self.store.get(name)
        watch = _EndWatch(self.store, job)
        while not job.is_terminal:
            time.sleep(poll)
            job = watch.poll() or job
        return job

    def logs(self, name: str, follow: bool = False, poll: float = POLL_S) -> Iterator[str]:
        """The job's log as it grows; with ``follow`` until the job has ended and all is read."""
        job = self.store.get(name)
        path = Path(job.log_path)
        watch = _EndWatch(self.store, job)
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

    def __init__(self, store: JobStore, job: JobRecord):
        self.store, self.name = store, job.name
        self.marker = Path(job.work_dir) / ENDED_MARKER
        self.next_read = time.monotonic() + STATUS_POLL_S

    def poll(self) -> JobRecord | None:
        """The job's record when it may have changed, else None."""
        if self.marker.exists() or time.monotonic() >= self.next_read:
            self.next_read = time.monotonic() + STATUS_POLL_S
            return self.store.get(self.name)
        return None


def _supervisor_env() -> dict[str, str]:
    """The caller's environment, with rlops importable even when it runs from a source tree."""
    env = dict(os.environ)
    package_root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    return env
