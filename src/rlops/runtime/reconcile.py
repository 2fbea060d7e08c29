"""Is a job's supervisor, or an endpoint's server, still alive? The runtime's question, not the store's.

Also where those processes are started (:func:`start_detached`), so that what is started and what
is checked agree on how a process is identified.

A process is identified by its pid and its creation time together, so a pid reused by another
process is not mistaken for the one rlops started. A supervisor on another machine (a store
shared through a server database) is judged by its heartbeat instead.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil

from rlops.records import SupervisedRecord

#: A supervisor on another machine that has not heartbeaten for this long is presumed dead.
HEARTBEAT_TIMEOUT_S = 60.0
#: How far a process's creation time may be from the one recorded (clock resolution).
SAME_PROCESS_S = 1.0


def _root(pid: int | None, started: float | None) -> psutil.Process | None:
    if pid is None:
        return None
    try:
        process = psutil.Process(pid)
        if abs(process.create_time() - (started or 0)) > SAME_PROCESS_S or process.status() == psutil.STATUS_ZOMBIE:
            return None
        return process
    except psutil.Error:
        return None


def is_alive(pid: int | None, started: float | None) -> bool:
    """Whether the process ``pid`` that started at ``started`` is still running."""
    return _root(pid, started) is not None


def live_processes(pid: int | None, started: float | None) -> list[psutil.Process]:
    """The process ``pid`` started at ``started`` and its descendants (root first), or [] when it is gone."""
    root = _root(pid, started)
    if root is None:
        return []
    try:
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def process_start_time(pid: int) -> float:
    """What :func:`live_processes` compares: the creation time of a process just started."""
    return psutil.Process(pid).create_time()


def supervisor_death(job: SupervisedRecord) -> str | None:
    """Why an active job's supervisor is presumed dead (a failure reason), or None if it is alive."""
    if job.is_terminal or job.supervisor_pid is None:
        return None
    if job.supervisor_host == socket.gethostname():
        if is_alive(job.supervisor_pid, job.supervisor_started):
            return None
        return (f"InternalServerError: supervisor lost: the job's supervisor process (pid {job.supervisor_pid}) "
                "exited without finishing the job (the machine or the process died); see the job's log and "
                "supervisor.log in its work folder.")
    silent = time.time() - (job.heartbeat_at or job.created_at)
    if silent > HEARTBEAT_TIMEOUT_S:
        return (f"InternalServerError: supervisor lost: the job's supervisor on {job.supervisor_host} has not "
                f"reported for {silent:.0f} s.")
    return None


def start_detached(module: str, args: list[str], output: Path) -> tuple[int, float]:
    """Start ``python -m module args`` in a session of its own (it outlives its caller), its output appended to
    ``output``. Returns its pid and creation time, which :func:`is_alive` takes."""
    env = dict(os.environ)  # with rlops importable even when it runs from a source tree
    package_root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    with open(output, "ab") as stream:
        process = subprocess.Popen([sys.executable, "-m", module, *args], stdin=subprocess.DEVNULL, stdout=stream,
                                   stderr=subprocess.STDOUT, start_new_session=True, close_fds=True, env=env)
    return process.pid, process_start_time(process.pid)
