"""The REST API of ``rlops server``: the runtime service (:mod:`rlops.runtime.service`) as JSON over HTTP.

Each route is one service operation; :class:`rlops.runtime.remote.RemoteRuntime` is its client.
Records are sent as the dataclasses' fields; an error is ``{"error": message, "type": class}``
with the status of :data:`STATUS_OF` (404 for a missing job, 400 for a bad body naming the field).
FastAPI describes every route at ``/openapi.json`` (and draws them at ``/docs``).

What a request asks the server to write (a job's output and checkpoints, a transform's result,
captured traffic) must lie under the server's ``RLOPS_HOME`` or a folder the operator allowed
(``rlops server --allow-path DIR``); anything else is refused with 400 before it is started.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import time
import types
import typing
from pathlib import Path
from typing import Any, Iterable

import orjson
from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse

from rlops import __version__, exceptions
from rlops.exceptions import RlopsError, UsageError
from rlops.runtime.remote import API_VERSION, PASSTHROUGH_HEADER
from rlops.runtime.service import RuntimeService
from rlops.runtime.spec import JobSpec, TuningSpec
from rlops.storage import resolve_uri

#: The HTTP status of each error (the first class in the error's ancestry that is listed).
STATUS_OF: dict[type[RlopsError], int] = {
    exceptions.UsageError: 400,
    exceptions.NotFound: 404,
    exceptions.AlreadyExists: 409,
    exceptions.SchemaOutOfDate: 503,
    exceptions.StoreError: 503,
    exceptions.EndpointFailed: 502,
    exceptions.PredictionError: 502,
    RlopsError: 500,
}
log = logging.getLogger("rlops.server")
#: Longest a long-polling ``wait`` holds a request.
MAX_WAIT_S = 60.0
#: Most of a log one tail request returns.
TAIL_BYTES = 256 * 1024


def status_of(exc: RlopsError) -> int:
    return next(STATUS_OF[kind] for kind in type(exc).__mro__ if kind in STATUS_OF)


def public_kind(exc: RlopsError) -> str:
    """The name of the most specific :mod:`rlops.exceptions` class ``exc`` is (``PolicyError`` is a ``UsageError``),
    which the client raises again."""
    return next(kind.__name__ for kind in type(exc).__mro__ if getattr(exceptions, kind.__name__, None) is kind)


def json_response(value: Any, status: int = 200) -> Response:
    """``value`` (records, lists of them, plain data) as JSON; dataclasses by their fields."""
    return Response(orjson.dumps(value, default=_default, option=orjson.OPT_NON_STR_KEYS), status_code=status, media_type="application/json")


def _default(value: Any) -> Any:  # orjson writes dataclasses and enums itself
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot send {type(value).__name__} as JSON")


def error_body(message: str, kind: str) -> dict[str, str]:
    return {"error": message, "type": kind}


# -- request bodies ------------------------------------------------------------------------------


@dataclasses.dataclass
class EndpointRequest:
    name: str
    model: str
    workers: int = 1
    port: int | None = None
    wait: bool = True
    answer_format: str = "rlops"
    handler: str | None = None
    data_capture: dict | None = None


@dataclasses.dataclass
class InterruptRequest:
    reason: str | None = None
    pause: float = 0.0


@dataclasses.dataclass
class TransformRequest:
    model: str
    source: str
    target: str
    join_source: bool = False
    batch_size: int = 10_000


#: The JSON types of a field by its annotation's name (a float may be written as an integer).
_SIMPLE = {"str": str, "int": int, "float": (int, float), "bool": bool, "dict": dict, "list": list}


def from_body(cls, body: Any, what: str):
    """``cls`` (a dataclass) from a JSON body, or ``UsageError`` naming the field that is missing, unknown or of the
    wrong type."""
    if not isinstance(body, dict):
        raise UsageError(f"The body of {what} must be a JSON object; got {type(body).__name__}.")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(body) - set(fields))
    if unknown:
        raise UsageError(f"{what}: unknown field(s) {', '.join(map(repr, unknown))}; accepted: {', '.join(fields)}.")
    hints = typing.get_type_hints(cls)
    for name, field in fields.items():
        required = field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
        if name not in body:
            if required:
                raise UsageError(f"{what}: the field {name!r} is required.")
            continue
        expected = _expected_types(hints[name])
        value = body[name]
        if expected and not isinstance(value, expected):
            raise UsageError(f"{what}: the field {name!r} must be {_type_name(hints[name])}; got {value!r} "
                             f"({type(value).__name__}).")
    return cls(**body) if not hasattr(cls, "from_dict") else cls.from_dict(body)


def _expected_types(hint) -> tuple | None:
    """The Python types a JSON value of the annotation ``hint`` may have, or None for anything."""
    union = typing.get_origin(hint) in (typing.Union, types.UnionType)
    accepted: list[type] = []
    for option in typing.get_args(hint) if union else (hint,):
        simple = _SIMPLE.get(getattr(typing.get_origin(option) or option, "__name__", ""))
        if option is type(None):
            simple = type(None)
        if simple is None:
            return None  # Any: checked where it is used
        accepted.extend(simple if isinstance(simple, tuple) else (simple,))
    return tuple(accepted)


def _type_name(hint) -> str:
    return getattr(hint, "__name__", None) or str(hint).replace("typing.", "").replace("NoneType", "null")


def check_writes(places: Iterable[tuple[str, str | None]], allowed: list[Path]) -> None:
    """Refuse a request that would make the server write outside ``allowed`` folders: ``places`` are
    ``(field, path or URI)`` pairs."""
    for field, place in places:
        if not place:
            continue
        path = resolve_uri(place, field)
        if not any(path == root or path.is_relative_to(root) for root in allowed):
            raise UsageError(f"{field} {place!r} lies outside the folders this server writes to "
                             f"({', '.join(map(str, allowed))}); use a path under one of them, or an s3:// URI "
                             "(rlops server --allow-path DIR allows another folder).")


def _job_writes(job: dict[str, Any], prefix: str = "") -> list[tuple[str, str | None]]:
    return [(prefix + "output_path", job.get("output_path")), (prefix + "checkpoint_uri", job.get("checkpoint_uri"))]


# -- the app -------------------------------------------------------------------------------------


def create_api(service: RuntimeService, allowed: list[Path]) -> APIRouter:
    """The routes of the REST API over ``service``; requests may write under ``allowed`` folders only."""
    api = APIRouter(prefix="/api")

    @api.get("/version")
    def version() -> dict:
        """This server's rlops and API versions (a client checks them first)."""
        return {"rlops": __version__, "api": API_VERSION, "store": service.location}

    # jobs

    @api.post("/jobs", status_code=201)
    async def create_job(request: Request):
        """Record a training job (a JobSpec's fields) and start it."""
        body = await _json(request)
        spec = from_body(JobSpec, body, "a training job")
        check_writes(_job_writes(body), allowed)
        return json_response(await _in_thread(service.jobs.create, spec), 201)

    @api.get("/jobs")
    def list_jobs(status: str | None = None, name_contains: str | None = None, limit: int | None = Query(None, ge=1)):
        """Training jobs, newest first."""
        return json_response(service.jobs.list(parse_status(status), name_contains, limit))

    @api.post("/jobs/recover")
    def recover_jobs():
        """Resume spot-style jobs whose supervisor died; record the others Failed."""
        return json_response(service.jobs.recover())

    @api.get("/jobs/{name}")
    def describe_job(name: str):
        return json_response(service.jobs.describe(name))

    @api.get("/jobs/{name}/logs")
    def job_logs(name: str, follow: bool = False):
        """The job's log as plain text; with ``follow``, streamed until the job has ended."""
        service.jobs.describe(name)  # a missing job is 404 before anything streams
        chunks = service.jobs.logs(name, follow=follow)
        return StreamingResponse((chunk.encode() for chunk in chunks), media_type="text/plain; charset=utf-8")

    @api.get("/jobs/{name}/log-tail")
    def job_log_tail(name: str, offset: int = Query(0, ge=0)):
        """The log from byte ``offset`` (at most 256 KiB): ``{"text", "offset", "status"}``, for pages that tail it."""
        job = service.jobs.describe(name)
        path = Path(job.log_path)
        with open(path, "rb") as stream:
            size = os.fstat(stream.fileno()).st_size
            offset = min(offset, size) if offset <= size else 0
            if size - offset > TAIL_BYTES:
                offset = size - TAIL_BYTES
            stream.seek(offset)
            data = stream.read(TAIL_BYTES)
        complete = data[:data.rfind(b"\n") + 1] if job.status.is_active else data
        return {"text": complete.decode("utf-8", errors="replace"), "offset": offset + len(complete),
                "status": job.status.value, "secondary_status": job.secondary_status}

    @api.post("/jobs/{name}/wait")
    def wait_job(name: str, timeout: float = Query(MAX_WAIT_S, ge=0, le=MAX_WAIT_S)):
        """The job once it has ended, or as it is after ``timeout`` seconds (clients call again)."""
        return json_response(_wait(service.jobs.describe, name, timeout))

    @api.post("/jobs/{name}/stop")
    def stop_job(name: str):
        return json_response(service.jobs.stop(name))

    @api.post("/jobs/{name}/interrupt")
    async def interrupt_job(name: str, request: Request):
        asked = from_body(InterruptRequest, await _json(request, default={}), "an interruption")
        return json_response(await _in_thread(service.jobs.interrupt, name, asked.reason, asked.pause))

    @api.get("/jobs/{name}/metrics")
    def job_metrics(name: str, metric: list[str] | None = Query(None, alias="name"), offset: int = Query(0, ge=0)):
        """The job's metric data points in order, from the ``offset``-th (pages poll with the offset they got)."""
        points = service.jobs.metrics(name, metric)
        return json_response({"points": points[offset:], "offset": len(points)})

    @api.get("/jobs/{name}/final-metrics")
    def final_metrics(name: str):
        return json_response(service.jobs.final_metrics(name))

    # endpoints

    @api.post("/endpoints", status_code=201)
    async def create_endpoint(request: Request):
        """Check a model, record the endpoint and start its server."""
        asked = from_body(EndpointRequest, await _json(request), "an endpoint")
        if asked.data_capture:
            check_writes([("data_capture.destination", asked.data_capture.get("destination"))], allowed)
        record = await _in_thread(service.endpoints.create, asked.name, asked.model, asked.workers, asked.port,
                                  asked.wait, asked.answer_format, asked.handler, asked.data_capture)
        return json_response(record, 201)

    @api.get("/endpoints")
    def list_endpoints():
        return json_response(service.endpoints.list())

    @api.get("/endpoints/{name}")
    def describe_endpoint(name: str):
        return json_response(service.endpoints.describe(name))

    @api.get("/endpoints/{name}/processes")
    def endpoint_processes(name: str):
        return json_response(service.endpoints.processes(name))

    @api.get("/endpoints/{name}/logs", response_class=PlainTextResponse)
    def endpoint_logs(name: str):
        return service.endpoints.logs(name)

    @api.post("/endpoints/{name}/restart")
    def restart_endpoint(name: str, wait: bool = True):
        return json_response(service.endpoints.restart(name, wait))

    @api.delete("/endpoints/{name}", status_code=204)
    def delete_endpoint(name: str):
        service.endpoints.delete(name)
        return Response(status_code=204)

    @api.post("/endpoints/{name}/call")
    async def call_endpoint(name: str, request: Request, path: str = "/invocations"):
        """POST the body to ``path`` on the endpoint's server; its answer and headers are passed through."""
        if path not in ("/invocations", "/rewards"):
            raise UsageError(f"path {path!r} is not one an endpoint answers POSTs on; accepted: /invocations, /rewards.")
        body = await request.body()
        passed = {k: v for k, v in request.headers.items() if k.startswith(("x-amzn-", "accept"))}
        try:
            answer, headers = await _in_thread(service.endpoints.call, name, path, body,
                                               request.headers.get("content-type", "application/json"), passed)
        except exceptions.PredictionError as exc:
            payload = exc.body if isinstance(exc.body, (dict, list)) else {"error": str(exc.body)}
            return JSONResponse(payload, status_code=exc.status, headers={PASSTHROUGH_HEADER: "1"})
        kept = {k: v for k, v in headers.items() if k.startswith("x-") or k == "warning"}
        return Response(answer, media_type=headers.get("content-type", "application/json"), headers=kept)

    # tuning jobs

    @api.post("/tuning", status_code=201)
    async def create_tuning(request: Request):
        body = await _json(request)
        spec = from_body(TuningSpec, body, "a tuning job")
        check_writes(_job_writes(body.get("job") or {}, "job."), allowed)
        return json_response(await _in_thread(service.tuning.create, spec), 201)

    @api.get("/tuning")
    def list_tuning(status: str | None = None, name_contains: str | None = None, limit: int | None = Query(None, ge=1)):
        return json_response(service.tuning.list(parse_status(status), name_contains, limit))

    @api.get("/tuning/{name}")
    def describe_tuning(name: str):
        return json_response(service.tuning.describe(name))

    @api.get("/tuning/{name}/trials")
    def tuning_trials(name: str):
        return json_response(service.tuning.trials(name))

    @api.post("/tuning/{name}/stop")
    def stop_tuning(name: str):
        return json_response(service.tuning.stop(name))

    @api.post("/tuning/{name}/wait")
    def wait_tuning(name: str, timeout: float = Query(MAX_WAIT_S, ge=0, le=MAX_WAIT_S)):
        return json_response(_wait(service.tuning.describe, name, timeout))

    @api.get("/tuning/{name}/logs", response_class=PlainTextResponse)
    def tuning_logs(name: str):
        return service.tuning.logs(name)

    # the rest

    @api.post("/transform")
    async def transform(request: Request):
        """Batch transform a file of observations on the server; ``{"count"}`` answered."""
        asked = from_body(TransformRequest, await _json(request), "a batch transform")
        check_writes([("target", asked.target)], allowed)
        count = await _in_thread(service.transform, asked.model, Path(asked.source), Path(asked.target),
                                 asked.join_source, asked.batch_size)
        return {"count": count}

    @api.post("/store/upgrade")
    def upgrade_store():
        before, after = service.upgrade_store()
        return {"before": before, "after": after}

    return api


def install_error_handlers(app: FastAPI) -> None:
    """rlops's errors as ``{"error", "type"}`` with their status; FastAPI's validation errors as 400 naming the
    field."""

    @app.exception_handler(RlopsError)
    async def rlops_error(_request: Request, exc: RlopsError):
        return JSONResponse(error_body(str(exc), public_kind(exc)), status_code=status_of(exc))

    @app.exception_handler(Exception)
    async def unforeseen(_request: Request, exc: Exception):
        log.exception("rlops server: a request failed")
        return JSONResponse(error_body(f"The server failed: {type(exc).__name__}: {exc} (its log has the traceback).",
                                       "RlopsError"), status_code=500)

    @app.exception_handler(RequestValidationError)
    async def bad_request(_request: Request, exc: RequestValidationError):
        problems = []
        for error in exc.errors():
            where = ".".join(str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path"))
            problems.append(f"{where or 'the body'}: {error.get('msg')} (got {error.get('input')!r})")
        return JSONResponse(error_body("; ".join(problems), "UsageError"), status_code=400)


async def _json(request: Request, default: Any = dataclasses.MISSING) -> Any:
    body = await request.body()
    if not body and default is not dataclasses.MISSING:
        return default
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise UsageError(f"The request body is not JSON: {exc}.") from None


async def _in_thread(function, *args):
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(function, *args)


def parse_status(status: str | None) -> str | None:
    """A ``status`` filter as the store spells it, or ``UsageError`` naming the accepted values."""
    from rlops.records import JobStatus

    if status is None:
        return None
    try:
        return JobStatus(status).value
    except ValueError:
        raise UsageError(f"Unknown status {status!r}; accepted: {', '.join(s.value for s in JobStatus)}."
                         + exceptions.did_you_mean(status, [s.value for s in JobStatus])) from None


def _wait(describe, name: str, timeout: float):
    deadline = time.monotonic() + timeout
    record = describe(name)
    while not record.is_terminal and time.monotonic() < deadline:
        time.sleep(0.1)
        record = describe(name)
    return record
