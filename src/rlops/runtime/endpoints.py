"""Local endpoints: model-server processes on 127.0.0.1, recorded in the store and supervised.

>>> endpoints = LocalEndpoints()                                        # doctest: +SKIP
>>> record = endpoints.create("my-endpoint", "file:///.../model.tar.gz")  # doctest: +SKIP
>>> record.url                                                           # doctest: +SKIP
'http://127.0.0.1:50123'
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil

from rlops.exceptions import RlopsError
from rlops.policies.portable import PortablePolicy, unpack_model
from rlops.runtime.storage import resolve_uri
from rlops.settings import rlops_home
from rlops.store.endpoints import CREATING, DELETING, FAILED, IN_SERVICE, EndpointRecord, EndpointStore

HOST = "127.0.0.1"
START_TIMEOUT_S = 60.0
STOP_GRACE_S = 5.0


class EndpointFailed(RlopsError):
    pass


def free_port(host: str = HOST) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


class LocalEndpoints:
    def __init__(self, store: EndpointStore | None = None):
        self.store = store or EndpointStore()

    def create(self, name: str, model: str, workers: int = 1, port: int | None = None, wait: bool = True) -> EndpointRecord:
        """Unpack and check the model, record the endpoint, start its server; with ``wait`` until it answers."""
        folder_root = rlops_home() / "endpoints" / name
        staging = Path(tempfile.mkdtemp(prefix="rlops-endpoint-"))
        try:  # unpacked once, and checked: not a policy is refused before anything is recorded
            PortablePolicy(unpack_model(resolve_uri(model, "model_data"), into=staging))
            if port is not None:
                from rlops.serving.server import check_port

                check_port(HOST, port)
            self.store.create(name, str(model), "", HOST, port or free_port(), workers, str(folder_root / "server.log"))
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        try:
            folder_root.mkdir(parents=True, exist_ok=True)
            model_dir = folder_root / "model"
            shutil.rmtree(model_dir, ignore_errors=True)
            shutil.move(staging, model_dir)
            self.store.update(name, model_dir=str(model_dir))
            self._start(name)
        except BaseException:
            self.delete(name)
            raise
        return self.wait(name) if wait else self.describe(name)

    def _start(self, name: str) -> None:
        record = self.store.get(name)
        with open(record.log_path, "ab") as log:
            process = subprocess.Popen([sys.executable, "-m", "rlops.serving.endpoint", name], stdin=subprocess.DEVNULL,
                                       stdout=log, stderr=subprocess.STDOUT, start_new_session=True, close_fds=True)
        self.store.update(name, pid=process.pid, pid_started=psutil.Process(process.pid).create_time(),
                          machine=socket.gethostname(), status=CREATING, failure_reason=None)

    def wait(self, name: str, timeout: float = START_TIMEOUT_S) -> EndpointRecord:
        """Block until the endpoint answers ``/ping`` (``InService``) or its server exits (``Failed``)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            record = self.store.get(name)
            if _ping(record):
                self.store.update(name, status=IN_SERVICE)
                return self.store.get(name)
            if not record.processes():
                reason = "The model server exited while starting:\n" + _tail(record.log_path)
                self.store.update(name, status=FAILED, failure_reason=reason)
                raise EndpointFailed(f"Endpoint {name!r} failed to start. {reason}")
            time.sleep(0.05)
        raise EndpointFailed(f"Endpoint {name!r} did not answer /ping within {timeout:.0f} s; see {record.log_path}.")

    def describe(self, name: str) -> EndpointRecord:
        """The endpoint; one whose processes are gone is shown ``Failed`` with the reason."""
        record = self.store.get(name)
        if record.status in (IN_SERVICE, CREATING) and record.pid is not None and not record.processes():
            self.store.update(name, status=FAILED,
                              failure_reason=f"The model server's processes are gone (pid {record.pid}); "
                                             f"`rlops endpoints restart {name}` starts them again.")
            record = self.store.get(name)
        return record

    def list(self) -> list[EndpointRecord]:
        return [self.describe(r.name) for r in self.store.list()]

    def restart(self, name: str, wait: bool = True) -> EndpointRecord:
        """Start an endpoint's server again (after its processes died), on the same port."""
        self._stop(self.store.get(name))
        self._start(name)
        return self.wait(name) if wait else self.describe(name)

    def delete(self, name: str) -> None:
        """Stop the server (SIGTERM, a grace period, SIGKILL) and forget the endpoint."""
        record = self.store.get(name)
        self.store.update(name, status=DELETING)
        self._stop(record)
        self.store.delete(name)
        shutil.rmtree(Path(record.log_path).parent, ignore_errors=True)

    def _stop(self, record: EndpointRecord) -> None:
        processes = record.processes()
        if not processes:
            return
        try:
            os.killpg(processes[0].pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        _, alive = psutil.wait_procs(processes, timeout=STOP_GRACE_S)
        for process in alive:
            process.kill()


def _ping(record: EndpointRecord) -> bool:
    try:
        with urllib.request.urlopen(f"{record.url}/ping", timeout=0.5) as response:
            return response.status == 200
    except OSError:
        return False


def _tail(path: str, lines: int = 15) -> str:
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
