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
    for name in ("RLOPS_DATABASE_URL", "RLOPS_SERVER", "RLOPS_TOKEN", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID",
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


class ServerProcess:
    """An ``rlops server`` started for a test: its address, its process and its log."""

    def __init__(self, home: Path, allowed: list[Path], database_url: str | None = None, host: str = "127.0.0.1",
                 env: dict[str, str] | None = None):
        import subprocess
        import urllib.request

        from rlops.runtime.endpoints import free_port

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = home.parent / f"server-{self.port}.log"
        variables = {**os.environ, "RLOPS_HOME": str(home), **(env or {})}
        variables.pop("RLOPS_SERVER", None)
        if database_url:
            variables["RLOPS_DATABASE_URL"] = database_url
        command = [sys.executable, "-m", "rlops.cli.main", "server", "--host", host, "--port", str(self.port),
                   *(arg for path in allowed for arg in ("--allow-path", str(path)))]
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(command, env=variables, stdout=log, stderr=subprocess.STDOUT)

        def answers() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"rlops server exited with {self.process.returncode}:\n{self.log.read_text()}")
            try:
                urllib.request.urlopen(f"{self.url}/api/version", timeout=1).close()
                return True
            except urllib.error.HTTPError:
                return True  # it answers (401 beyond loopback without the token)
            except OSError:
                return False

        wait_for(answers, timeout=60, what="rlops server to answer")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except Exception:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def rlops_server(rlops_home, tmp_path, monkeypatch):
    """A live ``rlops server`` on loopback over the test's store, used by the SDK and the CLI (``RLOPS_SERVER``);
    it may write under the test's tmp_path."""
    server = ServerProcess(rlops_home, [tmp_path])
    monkeypatch.setenv("RLOPS_SERVER", server.url)
    yield server
    server.stop()


@pytest.fixture(params=["local", "server"])
def service_mode(request):
    """Runs a test twice: on this machine's store, then through a live ``rlops server`` (the same results)."""
    if request.param == "server":
        request.getfixturevalue("rlops_server")
    return request.param


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
