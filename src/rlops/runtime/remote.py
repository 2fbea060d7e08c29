"""The runtime service of an ``rlops server``, reached over HTTP: what the SDK and the CLI use when
``RLOPS_SERVER`` (or ``Session(server=...)``) names one.

Every operation of :class:`rlops.runtime.service.RuntimeService` is one request to the server's
REST API (:mod:`rlops.server.api`); records travel as JSON and come back as the same dataclasses,
and an error comes back as the same :mod:`rlops.exceptions` class, so user code cannot tell a
remote service from the local one. The first request checks that the server answers and speaks
this client's API version; a server that is down or of another version is one clear error naming
its address and both versions.

>>> runtime = RemoteRuntime("http://127.0.0.1:8765")             # doctest: +SKIP
>>> runtime.jobs.describe("my-job").status                       # doctest: +SKIP
<JobStatus.COMPLETED: 'Completed'>
"""

from __future__ import annotations

import dataclasses
import functools
import os
import threading
from pathlib import Path
from typing import Any, Iterable, Iterator
from urllib.parse import quote, urlsplit

from rlops import __version__, exceptions
from rlops.exceptions import PredictionError, RlopsError
from rlops.records import EndpointRecord, JobRecord, MetricPoint, TrialRecord, TuningJobRecord
from rlops.runtime.service import EndpointService, JobService, RuntimeService, TuningService
from rlops.runtime.spec import JobSpec, TuningSpec
from rlops.settings import SERVER_ENV

#: The REST API's version: a client and a server agree on it, or the client refuses to go on.
API_VERSION = 1
#: The header an answer carries when it is an endpoint's own refusal, passed through (PredictionError).
PASSTHROUGH_HEADER = "x-rlops-passthrough"
#: How long one long-polling wait asks the server to hold the request.
WAIT_S = 20.0
TIMEOUT_S = 120.0
#: For requests that do long work on the server (a batch transform, starting an endpoint's server).
LONG_S = 3600.0


class ServerUnavailable(RlopsError):
    """No rlops server answers at the address, or it speaks another API version."""


def error_from(status: int, payload: Any) -> RlopsError:
    """The exception a server's error answer stands for: the class it names in ``type`` (an
    :mod:`rlops.exceptions` class), with its message."""
    if not isinstance(payload, dict):
        return RlopsError(f"The rlops server answered {status}: {payload}")
    kind = getattr(exceptions, str(payload.get("type")), None)
    message = payload.get("error", "")
    if isinstance(kind, type) and issubclass(kind, RlopsError) and kind is not PredictionError:
        try:
            return kind(message)
        except TypeError:  # an exception with fields of its own (UnexpectedStatusException)
            return RlopsError(message)
    return RlopsError(f"The rlops server answered {status}: {message}")


class _Client:
    """One HTTP client per service, checked against the server's version on first use."""

    def __init__(self, url: str, token: str | None):
        import httpx

        from rlops.auth import TOKEN_ENV, client_headers

        self.url = url.rstrip("/")
        headers = {"User-Agent": f"rlops/{__version__}"}
        token = token or os.environ.get(TOKEN_ENV)
        headers.update({"Authorization": f"Bearer {token}"} if token else client_headers(urlsplit(self.url).hostname or ""))
        self.http = httpx.Client(base_url=self.url, headers=headers, timeout=TIMEOUT_S)
        self._checked = False
        self._lock = threading.Lock()

    def check(self) -> dict[str, Any]:
        """The server's ``/api/version`` answer; ``ServerUnavailable`` if it is down or of another version."""
        import httpx

        try:
            answer = self.http.get("/api/version", timeout=10.0)
        except httpx.HTTPError as exc:
            raise ServerUnavailable(
                f"No rlops server answers at {self.url} ({SERVER_ENV}): {exc}. Start one with `rlops server`, or "
                f"unset {SERVER_ENV} to use this machine's store.") from None
        if answer.status_code == 401:
            raise ServerUnavailable(f"The rlops server at {self.url} wants its token: set RLOPS_TOKEN to the token "
                                    "it printed when it first started (RLOPS_HOME/server-token on its machine).")
        try:
            version = answer.json()
            server_api, server_version = version["api"], version["rlops"]
        except (ValueError, KeyError, TypeError):
            raise ServerUnavailable(f"{self.url} ({SERVER_ENV}) answered /api/version with {answer.status_code} "
                                    f"{answer.text[:200]!r}: it is not an rlops server.") from None
        if server_api != API_VERSION:
            raise ServerUnavailable(
                f"The rlops server at {self.url} runs rlops {server_version} (API {server_api}); this client is rlops "
                f"{__version__} (API {API_VERSION}). Install the same rlops on both.")
        return version

    def ensure_checked(self) -> None:
        if not self._checked:
            with self._lock:
                if not self._checked:
                    self.check()
                    self._checked = True

    def request(self, method: str, path: str, *, json_body: Any = None, params: dict | None = None,
                timeout: float = TIMEOUT_S):
        import httpx

        self.ensure_checked()
        try:
            answer = self.http.request(method, path, json=json_body, params=params, timeout=timeout)
        except httpx.HTTPError as exc:
            raise ServerUnavailable(f"The rlops server at {self.url} did not answer {method} {path}: {exc}") from None
        if answer.status_code >= 400:
            raise error_from(answer.status_code, _payload(answer))
        return answer

    def json(self, method: str, path: str, **kwargs) -> Any:
        return self.request(method, path, **kwargs).json()


def _payload(answer) -> Any:
    try:
        return answer.json()
    except ValueError:
        return answer.text


def _name(name: str) -> str:
    return quote(name, safe="")


def _asdict(spec) -> dict[str, Any]:
    return dataclasses.asdict(spec)


class RemoteRuntime(RuntimeService):
    """The runtime service of the rlops server at ``url`` (``RLOPS_SERVER``); ``token`` for one beyond loopback
    (default: ``RLOPS_TOKEN``, else, for a server not on loopback, this account's ``RLOPS_HOME/server-token``)."""

    def __init__(self, url: str, token: str | None = None):
        if "://" not in url:
            url = "http://" + url
        self.client = _Client(url, token)

    @functools.cached_property
    def jobs(self) -> RemoteJobs:
        return RemoteJobs(self.client)

    @functools.cached_property
    def endpoints(self) -> RemoteEndpoints:
        return RemoteEndpoints(self.client)

    @functools.cached_property
    def tuning(self) -> RemoteTuning:
        return RemoteTuning(self.client)

    @property
    def location(self) -> str:
        return f"the rlops server at {self.client.url}"

    def transform(self, model: str, source: Path, target: Path, join_source: bool = False,
                  batch_size: int = 10_000) -> int:
        body = {"model": str(model), "source": str(Path(source).resolve()), "target": str(Path(target).resolve()),
                "join_source": join_source, "batch_size": batch_size}
        return self.client.json("POST", "/api/transform", json_body=body, timeout=LONG_S)["count"]

    def upgrade_store(self) -> tuple[str | None, str]:
        answer = self.client.json("POST", "/api/store/upgrade")
        return answer["before"], answer["after"]


class RemoteJobs(JobService):
    def __init__(self, client: _Client):
        self.client = client

    def create(self, spec: JobSpec) -> JobRecord:
        return JobRecord(**self.client.json("POST", "/api/jobs", json_body=_asdict(spec)))

    def describe(self, name: str) -> JobRecord:
        return JobRecord(**self.client.json("GET", f"/api/jobs/{_name(name)}"))

    def list(self, status: str | None = None, name_contains: str | None = None,
             limit: int | None = None) -> list[JobRecord]:
        params = {k: v for k, v in (("status", status), ("name_contains", name_contains), ("limit", limit)) if v}
        return [JobRecord(**job) for job in self.client.json("GET", "/api/jobs", params=params)]

    def logs(self, name: str, follow: bool = False) -> Iterator[str]:
        import httpx

        self.client.ensure_checked()
        path = f"/api/jobs/{_name(name)}/logs"
        try:
            with self.client.http.stream("GET", path, params={"follow": str(follow).lower()}, timeout=None) as answer:
                if answer.status_code >= 400:
                    answer.read()
                    raise error_from(answer.status_code, _payload(answer))
                pending = ""
                for text in answer.iter_text():
                    pending += text
                    complete, newline, pending = pending.rpartition("\n")
                    if newline:
                        yield complete + "\n"
                if pending:
                    yield pending
        except httpx.HTTPError as exc:
            raise ServerUnavailable(f"The rlops server at {self.client.url} stopped sending {name}'s log: {exc}") \
                from None

    def wait(self, name: str) -> JobRecord:
        while True:  # long polls, so that no request is held past a proxy's patience
            job = JobRecord(**self.client.json("POST", f"/api/jobs/{_name(name)}/wait", params={"timeout": WAIT_S},
                                               timeout=WAIT_S + TIMEOUT_S))
            if job.is_terminal:
                return job

    def stop(self, name: str) -> JobRecord:
        return JobRecord(**self.client.json("POST", f"/api/jobs/{_name(name)}/stop"))

    def interrupt(self, name: str, reason: str | None = None, pause: float = 0.0) -> JobRecord:
        return JobRecord(**self.client.json("POST", f"/api/jobs/{_name(name)}/interrupt",
                                            json_body={"reason": reason, "pause": pause}))

    def recover(self) -> list[JobRecord]:
        return [JobRecord(**job) for job in self.client.json("POST", "/api/jobs/recover")]

    def metrics(self, name: str, metric_names: Iterable[str] | None = None) -> list[MetricPoint]:
        params = {"name": list(metric_names)} if metric_names is not None else None
        points = self.client.json("GET", f"/api/jobs/{_name(name)}/metrics", params=params)["points"]
        return [MetricPoint(**point) for point in points]

    def final_metrics(self, name: str) -> list[MetricPoint]:
        return [MetricPoint(**point) for point in self.client.json("GET", f"/api/jobs/{_name(name)}/final-metrics")]


class RemoteEndpoints(EndpointService):
    def __init__(self, client: _Client):
        self.client = client

    def create(self, name: str, model: str, workers: int = 1, port: int | None = None,
               wait: bool = True, answer_format: str = "rlops", handler: str | None = None,
               data_capture: dict | None = None) -> EndpointRecord:
        body = {"name": name, "model": str(model), "workers": workers, "port": port, "wait": wait,
                "answer_format": answer_format, "handler": str(Path(handler).resolve()) if handler else None,
                "data_capture": data_capture}
        return EndpointRecord(**self.client.json("POST", "/api/endpoints", json_body=body, timeout=LONG_S))

    def describe(self, name: str) -> EndpointRecord:
        return EndpointRecord(**self.client.json("GET", f"/api/endpoints/{_name(name)}"))

    def list(self) -> list[EndpointRecord]:
        return [EndpointRecord(**e) for e in self.client.json("GET", "/api/endpoints")]

    def processes(self, name: str) -> list[int]:
        return self.client.json("GET", f"/api/endpoints/{_name(name)}/processes")

    def logs(self, name: str) -> str:
        return self.client.request("GET", f"/api/endpoints/{_name(name)}/logs").text

    def restart(self, name: str, wait: bool = True) -> EndpointRecord:
        return EndpointRecord(**self.client.json("POST", f"/api/endpoints/{_name(name)}/restart",
                                                 params={"wait": str(wait).lower()}, timeout=LONG_S))

    def delete(self, name: str) -> None:
        self.client.request("DELETE", f"/api/endpoints/{_name(name)}")

    def call(self, name: str, path: str, body: bytes, content_type: str = "application/json",
             headers: dict[str, str] | None = None) -> tuple[bytes, dict[str, str]]:
        import httpx

        self.client.ensure_checked()
        try:
            answer = self.client.http.post(f"/api/endpoints/{_name(name)}/call", params={"path": path}, content=body,
                                           headers={"Content-Type": content_type, **(headers or {})})
        except httpx.HTTPError as exc:
            raise ServerUnavailable(f"The rlops server at {self.client.url} did not answer for {name}: {exc}") \
                from None
        if answer.status_code >= 400:
            payload = _payload(answer)
            if answer.headers.get(PASSTHROUGH_HEADER):
                raise PredictionError(answer.status_code, payload)
            raise error_from(answer.status_code, payload)
        return answer.content, {k.lower(): v for k, v in answer.headers.items()}


class RemoteTuning(TuningService):
    def __init__(self, client: _Client):
        self.client = client

    def create(self, spec: TuningSpec) -> TuningJobRecord:
        return TuningJobRecord(**self.client.json("POST", "/api/tuning", json_body=_asdict(spec)))

    def describe(self, name: str) -> TuningJobRecord:
        return TuningJobRecord(**self.client.json("GET", f"/api/tuning/{_name(name)}"))

    def list(self, status: str | None = None, name_contains: str | None = None,
             limit: int | None = None) -> list[TuningJobRecord]:
        params = {k: v for k, v in (("status", status), ("name_contains", name_contains), ("limit", limit)) if v}
        return [TuningJobRecord(**t) for t in self.client.json("GET", "/api/tuning", params=params)]

    def trials(self, name: str) -> list[TrialRecord]:
        return [TrialRecord(**t) for t in self.client.json("GET", f"/api/tuning/{_name(name)}/trials")]

    def stop(self, name: str) -> TuningJobRecord:
        return TuningJobRecord(**self.client.json("POST", f"/api/tuning/{_name(name)}/stop"))

    def wait(self, name: str) -> TuningJobRecord:
        while True:
            record = TuningJobRecord(**self.client.json("POST", f"/api/tuning/{_name(name)}/wait",
                                                        params={"timeout": WAIT_S}, timeout=WAIT_S + TIMEOUT_S))
            if record.is_terminal:
                return record

    def logs(self, name: str) -> str:
        return self.client.request("GET", f"/api/tuning/{_name(name)}/logs").text
