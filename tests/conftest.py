"""Every test gets its own RLOPS_HOME: a fresh SQLite job store and job folders under tmp_path."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from rlops.store.engine import dispose_engines

SCRIPTS = Path(__file__).parent / "scripts"


@pytest.fixture(autouse=True)
def rlops_home(tmp_path, monkeypatch):
    home = tmp_path / "rlops-home"
    monkeypatch.setenv("RLOPS_HOME", str(home))
    for name in ("RLOPS_DATABASE_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID",
                 "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"):  # also undoes what default_bucket() sets
        monkeypatch.delenv(name, raising=False)
    import boto3

    boto3.DEFAULT_SESSION = None  # boto3 caches the keys of the first endpoint it met; each test has its own
    yield home
    _kill_what_is_left(home)
    if (home / "s3-endpoint.json").exists():
        from rlops.runtime.s3 import stop_endpoint

        stop_endpoint()
    dispose_engines()


def _kill_what_is_left(home: Path) -> None:
    """Jobs and servers outlive their caller by design; a test that failed or timed out must not leave
    them running (they would slow every test after it)."""
    if not (home / "rlops.db").exists():
        return
    import signal

    import psutil

    from rlops.exceptions import StoreError
    from rlops.store import EndpointStore, JobStore, TuningStore

    try:
        pids = [(t.supervisor_pid, t.supervisor_started) for t in TuningStore().list() if not t.is_terminal]
        pids += [(j.supervisor_pid, j.supervisor_started) for j in JobStore().list() if not j.is_terminal]
        pids += [(e.pid, e.pid_started) for e in EndpointStore().list()]
    except StoreError:  # a test left the store unreadable on purpose (an old schema): it started nothing
        return
    for pid, started in pids:
        try:
            if pid and abs(psutil.Process(pid).create_time() - (started or 0)) < 1.0:
                os.killpg(pid, signal.SIGKILL)  # its own process group: the server's workers go too
        except (psutil.Error, ProcessLookupError, PermissionError):
            pass


@pytest.fixture
def scripts() -> Path:
    return SCRIPTS


@pytest.fixture
def estimator_factory(tmp_path):
    """RLEstimator for a script in tests/scripts, with output under tmp_path."""
    from rlops.rl import RLEstimator

    def make(script: str, **kwargs):
        kwargs.setdefault("toolkit", "sb3")
        kwargs.setdefault("instance_type", "local")
        kwargs.setdefault("output_path", str(tmp_path / "output"))
        return RLEstimator(entry_point=script, source_dir=str(SCRIPTS), **kwargs)

    return make


def wait_for(condition, timeout: float = 30.0, what: str = "a condition", poll: float = 0.05):
    """``condition()``'s first true value, polled until ``timeout``; an AssertionError naming ``what`` after it."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(poll)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def run_python(code: str, env_home: Path, timeout: float = 60, check: bool = True):
    """Run ``code`` in a fresh Python process that shares the test's job store."""
    import os
    import subprocess

    env = {**os.environ, "RLOPS_HOME": str(env_home)}
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"subprocess failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc
