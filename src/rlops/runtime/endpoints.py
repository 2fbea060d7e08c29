"""Local endpoints: model-server processes on 127.0.0.1, recorded in the store and supervised.

An endpoint's model is checked and unpacked once, into its own folder under ``RLOPS_HOME``;
its server (:mod:`rlops.serving.endpoint`) is started as a process named by a string, given its
model folder and address on the command line. Before an endpoint is shown, its processes are
checked (:mod:`rlops.runtime.reconcile`): one whose server died is recorded ``Failed``.

>>> endpoints = LocalEndpoints()                                        # doctest: +SKIP
>>> record = endpoints.create("my-endpoint", "file:///.../model.tar.gz")  # doctest: +SKIP
>>> record.url                                                           # doctest: +SKIP
'http://127.0.0.1:50123'
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil

from rlops.exceptions import EndpointFailed, PredictionError, UsageError
from rlops.policies.portable import PortablePolicy, copy_policy
from rlops.records import EndpointRecord, EndpointStatus
from rlops.runtime.reconcile import live_processes, process_start_time
from rlops.runtime.service import EndpointService
from rlops.serving.codec import ANSWER_FORMATS
from rlops.serving.server import SERVING_FILE
from rlops.settings import rlops_home
from rlops.storage import resolve_uri
from rlops.store import EndpointStore

HOST = "127.0.0.1"
START_TIMEOUT_S = 60.0
STOP_GRACE_S = 5.0
INVOKE_TIMEOUT_S = 60.0


def free_port(host: str = HOST) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


class LocalEndpoints(EndpointService):
    def __init__(self, store: EndpointStore | None = None):
        self.store = store or EndpointStore()
        self._urls: dict[str, str] = {}  # invoke() looks an endpoint's address up once

    def create(self, name: str, model: str, workers: int = 1, port: int | None = None, wait: bool = True,
               answer_format: str = "rlops", handler: str | None = None,
               data_capture: dict | None = None) -> EndpointRecord:
        folder_root = rlops_home() / "endpoints" / name
        staging = Path(tempfile.mkdtemp(prefix="rlops-endpoint-"))
        try:  # unpacked once, and checked: what is not a policy is refused before anything is recorded
            if answer_format not in ANSWER_FORMATS:
                raise UsageError(f"Unknown answer format {answer_format!r}; accepted: {', '.join(ANSWER_FORMATS)}.")
            PortablePolicy(copy_policy(model, staging))
            settings = {"answer_format": answer_format} if answer_format != "rlops" else {}
            if handler:  # SageMaker's model.tar.gz kept an inference handler in code/
                (staging / "code").mkdir(exist_ok=True)
                shutil.copy2(handler, staging / "code" / Path(handler).name)
                settings["handler"] = f"code/{Path(handler).name}"
            if data_capture:  # the server writes under <destination>/<endpoint>/, as SageMaker's did
                folder = resolve_uri(data_capture["destination"], "destination_s3_uri") / name
                settings["capture"] = {**data_capture, "folder": str(folder)}
            if settings:
                (staging / SERVING_FILE).write_text(json.dumps(settings))
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
        command = [sys.executable, "-m", "rlops.serving.endpoint", record.model_dir, "--host", record.host,
                   "--port", str(record.port), "--workers", str(record.workers)]
        with open(record.log_path, "ab") as log:
            process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                       start_new_session=True, close_fds=True)
        self.store.update(name, pid=process.pid, pid_started=process_start_time(process.pid),
                          machine=socket.gethostname(), status=EndpointStatus.CREATING, failure_reason=None)

    def wait(self, name: str, timeout: float = START_TIMEOUT_S) -> EndpointRecord:
        """Block until the endpoint answers ``/ping`` (``InService``) or its server exits (``Failed``)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            record = self.store.get(name)
            if _ping(record):
                self.store.update(name, status=EndpointStatus.IN_SERVICE)
                return self.store.get(name)
            if not _processes(record):
                reason = "The model server exited while starting:\n" + _tail(record.log_path)
                self.store.update(name, status=EndpointStatus.FAILED, failure_reason=reason)
                raise EndpointFailed(f"Endpoint {name!r} failed to start. {reason}")
            time.sleep(0.05)
        raise EndpointFailed(f"Endpoint {name!r} did not answer /ping within {timeout:.0f} s; see {record.log_path}.")

    def describe(self, name: str) -> EndpointRecord:
        return self._reconciled(self.store.get(name))

    def list(self) -> list[EndpointRecord]:
        return [self._reconciled(r) for r in self.store.list()]

    def _reconciled(self, record: EndpointRecord) -> EndpointRecord:
        """The endpoint, recorded ``Failed`` first if its server's processes are gone."""
        running = record.status in (EndpointStatus.IN_SERVICE, EndpointStatus.CREATING)
        if running and record.pid is not None and not _processes(record):
            self.store.update(record.name, status=EndpointStatus.FAILED,
                              failure_reason=f"The model server's processes are gone (pid {record.pid}); "
                                             f"`rlops endpoints restart {record.name}` starts them again.")
            return self.store.get(record.name)
        return record

    def processes(self, name: str) -> list[int]:
        return [p.pid for p in _processes(self.store.get(name))]

    def logs(self, name: str) -> str:
        return Path(self.describe(name).log_path).read_text(errors="replace")

    def restart(self, name: str, wait: bool = True) -> EndpointRecord:
        self._stop(self.store.get(name))
        self._start(name)
        return self.wait(name) if wait else self.describe(name)

    def delete(self, name: str) -> None:
        """Stop the server (SIGTERM, a grace period, SIGKILL) and forget the endpoint."""
        record = self.store.get(name)
        self.store.update(name, status=EndpointStatus.DELETING)
        self._stop(record)
        self.store.delete(name)
        self._urls.pop(name, None)
        shutil.rmtree(Path(record.log_path).parent, ignore_errors=True)

    def call(self, name: str, path: str, body: bytes, content_type: str = "application/json",
             headers: dict[str, str] | None = None) -> tuple[bytes, dict[str, str]]:
        url = self._urls.get(name)
        if url is None:
            url = self._urls[name] = self.describe(name).url
        request = urllib.request.Request(f"{url}{path}", data=body, method="POST",
                                         headers={"Content-Type": content_type, **(headers or {})})
        try:
            with urllib.request.urlopen(request, timeout=INVOKE_TIMEOUT_S) as response:
                return response.read(), {k.lower(): v for k, v in response.headers.items()}
        except urllib.error.HTTPError as exc:
            payload = exc.read()
            try:
                parsed = json.loads(payload)
            except ValueError:
                parsed = payload.decode(errors="replace")
            raise PredictionError(exc.code, parsed) from None
        except OSError as exc:
            self._urls.pop(name, None)
            record = self.describe(name)
            raise EndpointFailed(f"Endpoint {name!r} at {url} did not answer ({exc}); it is {record.status}"
                                 + (f": {record.failure_reason}" if record.failure_reason else ".")) from None

    def _stop(self, record: EndpointRecord) -> None:
        processes = _processes(record)
        if not processes:
            return
        try:
            os.killpg(processes[0].pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        _, alive = psutil.wait_procs(processes, timeout=STOP_GRACE_S)
        for process in alive:
            process.kill()


def _processes(record: EndpointRecord) -> list[psutil.Process]:
    return live_processes(record.pid, record.pid_started)


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
