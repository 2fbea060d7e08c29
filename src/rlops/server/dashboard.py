"""The dashboard: plain server-rendered pages (Jinja2) over the runtime service, with live curves drawn by
uPlot (a 50 kB charting library shipped in ``static/``, MIT licence beside it); no build step.

``/jobs`` lists training jobs with status, duration and final metrics, filterable by status and
name; ``/jobs/NAME`` shows a job's reward and loss curves (polled twice a second from the metrics
API, so a point is drawn within about a second of being logged), its hyperparameters, its log as
it is written, its artifacts, the pictures it produced and its evaluation, with a button that
compares the trained policy with the environment's hand-written baselines; ``/endpoints`` lists
endpoints, each with a form that sends an observation; ``/tuning`` and ``/tuning/NAME`` show
tuning jobs, their trials and the objective curve.
"""

from __future__ import annotations

import json
import logging
import mimetypes
import tarfile
import threading
import time
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from rlops.exceptions import NotFound, UsageError
from rlops.records import JobStatus
from rlops.runtime.service import RuntimeService
from rlops.server.api import parse_status
from rlops.settings import rlops_home
from rlops.storage import resolve_uri

log = logging.getLogger("rlops.server")
LOGIN_PATH = "/login"
STATUSES = [s.value for s in JobStatus]
TOKEN_COOKIE = "rlops_token"
#: Newest jobs a list page shows unless asked for more.
PAGE_JOBS = 100
PICTURES = (".png", ".gif", ".svg", ".jpg", ".jpeg")
#: Episodes each policy plays when the job page compares it with the baselines.
BASELINE_EPISODES = 5

_templates = Environment(loader=FileSystemLoader(Path(__file__).with_name("templates")),
                         autoescape=select_autoescape(["html"]))


def render(template: str, **context: Any) -> HTMLResponse:
    return HTMLResponse(_templates.get_template(template).render(**context))


def login_page() -> str:
    return _templates.get_template("login.html").render()


def duration(record) -> str:
    start = getattr(record, "started_at", None) or record.created_at
    end = record.ended_at or time.time()
    seconds = max(0, int(end - start))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}" if seconds >= 3600 else \
        f"{seconds // 60}:{seconds % 60:02d}"


def when(timestamp: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(timestamp)) if timestamp else ""


_templates.filters["duration"] = duration
_templates.filters["when"] = when


def archive_members(uri: str | None) -> list[tarfile.TarInfo]:
    """The files of a job's archive (``model.tar.gz``, ``output.tar.gz``), or [] while it is not written."""
    if not uri:
        return []
    path = resolve_uri(uri, "archive")
    if not path.is_file():
        return []
    with tarfile.open(path) as archive:
        return [m for m in archive.getmembers() if m.isfile()]


def read_member(uri: str, member: str) -> bytes:
    with tarfile.open(resolve_uri(uri, "archive")) as archive:
        info = next((m for m in archive.getmembers() if m.isfile() and m.name == member), None)
        if info is None:
            raise NotFound(f"{member!r} is not a file of {uri}.")
        return archive.extractfile(info).read()


def evaluations_dir() -> Path:
    """Where the dashboard keeps the baseline comparisons it ran (one JSON file per job)."""
    return rlops_home() / "dashboard" / "evaluations"


def create_dashboard(service: RuntimeService) -> APIRouter:
    pages = APIRouter(include_in_schema=False)

    @pages.get("/")
    def home():
        return RedirectResponse("/jobs")

    @pages.get(LOGIN_PATH)
    def login(token: str | None = None):
        if not token:
            return HTMLResponse(login_page())
        answer = RedirectResponse("/jobs", status_code=303)
        answer.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="strict")
        return answer

    @pages.get("/jobs")
    def jobs_page(status: str | None = None, q: str | None = None, limit: int = Query(PAGE_JOBS, ge=1)):
        jobs = service.jobs.list(parse_status(status or None), q or None, limit)
        finals = service.jobs.final_metrics_of([job.name for job in jobs])
        return render("jobs.html", jobs=jobs, finals=finals, status=status or "", q=q or "",
                      statuses=STATUSES, page="jobs")

    @pages.get("/jobs/{name}")
    def job_page(name: str):
        job = service.jobs.describe(name)
        locations = service.jobs.locations(name)
        output = archive_members(locations.output_data)
        model = archive_members(locations.model_data if locations.has_model else None)
        pictures = [m.name for m in output if m.name.lower().endswith(PICTURES)]
        evaluation = _evaluation(locations.output_data, output)
        baselines_file = evaluations_dir() / f"{name}.json"
        baselines = json.loads(baselines_file.read_text()) if baselines_file.is_file() else None
        return render("job.html", job=job, spec=job.spec, hyperparameters=_hyperparameters(job.spec),
                      output=output, model=model, pictures=pictures, locations=locations, evaluation=evaluation,
                      baselines=baselines, comparing=_comparing.get(name), page="jobs")

    @pages.get("/jobs/{name}/artifact/{archive}/{member:path}")
    def artifact(name: str, archive: str, member: str):
        """A file of the job's ``model`` or ``output`` archive, read from it without unpacking."""
        locations = service.jobs.locations(name)
        uri = {"model": locations.model_data if locations.has_model else None, "output": locations.output_data}.get(archive)
        if uri is None:
            raise NotFound(f"Job {name} has no {archive!r} archive; it has: model, output.")
        media = mimetypes.guess_type(member)[0] or "application/octet-stream"
        return Response(read_member(uri, member), media_type=media,
                        headers={"Content-Disposition": f'inline; filename="{Path(member).name}"'})

    @pages.post("/jobs/{name}/baselines")
    def compare_with_baselines(name: str):
        """Start playing the job's trained policy and its environment's baselines (tuned on training seeds first)
        for a few seeded episodes, in the background; the job page shows the table once it is there."""
        if not service.jobs.locations(name).has_model:
            raise UsageError(f"Job {name} has no trained model yet; compare it once it has completed.")
        with _comparing_lock:
            if name not in _comparing:
                _comparing[name] = time.time()
                threading.Thread(target=_compare_in_background, args=(service, name), daemon=True).start()
        return RedirectResponse(f"/jobs/{name}#evaluation", status_code=303)

    @pages.get("/endpoints")
    def endpoints_page():
        return render("endpoints.html", endpoints=service.endpoints.list(), page="endpoints")

    @pages.get("/tuning")
    def tuning_page():
        return render("tuning.html", tuning_jobs=service.tuning.list(), page="tuning")

    @pages.get("/tuning/{name}")
    def tuning_job_page(name: str):
        record = service.tuning.describe(name)
        trials = service.tuning.trials(name)
        curve = [[t.trial_number, t.final_objective] for t in trials if t.final_objective is not None]
        return render("tuning_job.html", tuning=record, trials=trials, curve=curve,
                      maximize=record.spec.get("objective_type", "Maximize") == "Maximize", page="tuning")

    return pages


def _hyperparameters(spec: dict[str, Any]) -> dict[str, Any]:
    from rlops.contract import user_hyperparameters

    return user_hyperparameters(spec.get("hyperparameters") or {})


def _evaluation(output_uri: str, members: list[tarfile.TarInfo]) -> dict | None:
    member = next((m.name for m in members if Path(m.name).name == "evaluation.json"), None)
    if member is None:
        return None
    try:
        return json.loads(read_member(output_uri, member))
    except ValueError:
        return None


_comparing: dict[str, float] = {}  # jobs being compared with their baselines now, and since when
_comparing_lock = threading.Lock()


def _compare_in_background(service: RuntimeService, name: str) -> None:
    """The comparison's table (or its error) written atomically beside the others, for the job page to show."""
    from rlops.storage import write_text

    folder = evaluations_dir()
    folder.mkdir(parents=True, exist_ok=True)
    try:
        result = {"rows": _compare(service, name), "at": time.time()}
    except Exception as exc:  # shown on the page: the thread has no caller to raise to
        log.exception("rlops dashboard: comparing %s with its baselines failed", name)
        result = {"error": f"{type(exc).__name__}: {exc}", "at": time.time()}
    try:
        write_text(folder / f"{name}.json", json.dumps(result, indent=2))
    finally:
        with _comparing_lock:
            _comparing.pop(name, None)


def _compare(service: RuntimeService, name: str) -> list[dict[str, Any]]:
    from rlops.policies import FOR_ENVIRONMENT, PortablePolicy, load_policy
    from rlops.policies.evaluation import evaluate

    locations = service.jobs.locations(name)
    if not locations.has_model:
        raise UsageError(f"Job {name} has no trained model yet; compare it once it has completed.")
    policy = PortablePolicy.load(str(resolve_uri(locations.model_data, "model")))
    env_id, env_kwargs = policy.env_id, dict(policy.manifest.get("env_kwargs") or {})
    baselines = FOR_ENVIRONMENT.get(env_id, [])
    if not baselines:
        raise UsageError(f"The environment {env_id!r} of {name} has no hand-written baselines; environments with "
                         f"baselines: {', '.join(sorted(FOR_ENVIRONMENT))}.")
    compared = {f"{name} (trained)": policy}
    for baseline in baselines:
        candidate = load_policy(baseline, env_id, env_kwargs)
        compared[candidate.describe() if hasattr(candidate, "describe") else baseline] = candidate
    reports = evaluate(compared, env_id, env_kwargs, episodes=BASELINE_EPISODES, seed=0)
    return [report.summary() for report in reports]
