"""The rlops server with a full store: API latency on SQLite and Postgres, and how soon the dashboard draws a point.

1. **API latency.** A store with ``--jobs`` completed jobs (1,000) holding ``--points`` metric data points in all
   (1,000,000: 1,000 per job, five metrics), on SQLite (the server's RLOPS_HOME) and on a real Postgres
   (Debian's, started here), each behind a live ``rlops server`` on loopback. Sequential requests on a
   keep-alive connection, ``--requests`` of each: the job list (all jobs, as ``rlops jobs list`` asks; and the
   50 newest), one job's metrics (its 1,000 points, as the dashboard's first poll asks; and a poll that finds
   nothing new), its final metrics, and the dashboard's jobs page (100 newest, with final metrics). p50 and p99.
2. **Point to picture.** A job through the server prints a reward line every 0.25 s, each with the time it was
   printed; headless Chromium (Debian's, driven by Playwright) shows the job page, and for each line the time
   from its printing until the page's reward chart holds it is recorded (the supervisor reading the log, the
   store, the page's once-a-second poll and the drawing together). Median and maximum.

    python benchmarks/server.py [--jobs 1000] [--points 1000000] [--requests 200] [--backends sqlite,postgres]

Targets (issue 15, on 2 cores): list p50 at most 50 ms; a point visible within 2 s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the tests' helpers: a server process, a throwaway Postgres
sys.path.insert(0, str(ROOT / "benchmarks"))
from requirements import require  # noqa: E402

METRICS = ("reward-training", "reward-testing", "loss", "entropy", "value-loss")


def fill(url: str, jobs: int, points: int) -> None:
    """``jobs`` completed jobs with ``points`` data points in all, written straight into the store."""
    from sqlalchemy import insert, update

    from rlops.records import JobStatus, SecondaryStatus
    from rlops.store import JobStore
    from rlops.store.engine import transaction
    from rlops.store.schema import metrics, training_jobs

    store = JobStore(url)
    per_job = points // jobs
    spec = {"name": "", "entry_point": "train.py", "source_dir": "/tmp", "python": sys.executable,
            "output_path": "/tmp", "hyperparameters": {"preset": '"cartpole-ppo"'}, "toolkit": "sb3",
            "instance_count": 1, "instance_type": "local"}
    started = time.time() - 10 * 86400
    for j in range(jobs):
        name = f"bench-{j:05d}"
        store.create(name, {**spec, "name": name}, f"/tmp/{name}", f"/tmp/{name}/job.log")
        at = started + j * 60
        rows = [{"job_name": name, "name": METRICS[i % len(METRICS)], "value": float(i), "timestamp": at + i,
                 "host": "algo-1"} for i in range(per_job)]
        with transaction(store.engine, write=True) as conn:
            conn.execute(insert(metrics), rows)
            conn.execute(update(training_jobs).where(training_jobs.c.name == name).values(
                status=JobStatus.COMPLETED.value, secondary_status=SecondaryStatus.COMPLETED.value,
                created_at=at, started_at=at, ended_at=at + per_job))
        if (j + 1) % 100 == 0:
            print(f"  filled {j + 1}/{jobs} jobs", file=sys.stderr, flush=True)


def latencies(client, path: str, requests: int, **params) -> dict[str, float]:
    client.get(path, params=params).raise_for_status()  # warm
    times = []
    for _ in range(requests):
        start = time.perf_counter()
        answer = client.get(path, params=params)
        times.append((time.perf_counter() - start) * 1000)
        answer.raise_for_status()
    times.sort()
    return {"p50_ms": statistics.median(times), "p99_ms": times[min(len(times) - 1, int(len(times) * 0.99))],
            "bytes": len(answer.content)}


def api_latency(backend: str, database_url: str | None, home: Path, args) -> dict[str, dict]:
    import httpx

    from tests.conftest import ServerProcess

    os.environ["RLOPS_HOME"] = str(home)
    url = database_url or f"sqlite:///{home / 'rlops.db'}"
    began = time.perf_counter()
    fill(url, args.jobs, args.points)
    print(f"{backend}: {args.jobs} jobs and {args.points:,} points written in {time.perf_counter() - began:.0f} s",
          file=sys.stderr)
    server = ServerProcess(home, [home], database_url=database_url)
    try:
        client = httpx.Client(base_url=server.url, timeout=60)
        job = f"bench-{args.jobs // 2:05d}"
        every = client.get(f"/api/jobs/{job}/metrics").json()["offset"]
        results = {
            f"GET /api/jobs ({args.jobs} jobs)": latencies(client, "/api/jobs", args.requests),
            "GET /api/jobs?limit=50": latencies(client, "/api/jobs", args.requests, limit=50),
            f"GET /api/jobs/JOB/metrics ({every} points)": latencies(client, f"/api/jobs/{job}/metrics",
                                                                     args.requests),
            "GET /api/jobs/JOB/metrics?offset=N (nothing new)": latencies(client, f"/api/jobs/{job}/metrics",
                                                                          args.requests, offset=every),
            "GET /api/jobs/JOB/final-metrics": latencies(client, f"/api/jobs/{job}/final-metrics", args.requests),
            "GET /jobs (page: 100 newest with final metrics)": latencies(client, "/jobs", max(20, args.requests // 5)),
        }
    finally:
        server.stop()
    return results


def point_to_picture(home: Path, episodes: int) -> dict[str, float]:
    """Seconds from a reward line's printing to the job page's chart holding it, for each line."""
    from playwright.sync_api import sync_playwright

    from rlops.rl import RLEstimator
    from tests.conftest import ServerProcess

    os.environ["RLOPS_HOME"] = str(home)
    server = ServerProcess(home, [home])
    os.environ["RLOPS_SERVER"] = server.url
    try:
        estimator = RLEstimator(entry_point="slow_metrics.py", source_dir=str(ROOT / "tests" / "scripts"),
                                toolkit="sb3", output_path=str(home / "out"),
                                hyperparameters={"episodes": episodes, "interval": 0.25, "stamp": "true"},
                                metric_definitions=[{"Name": "reward", "Regex": "Total reward=(-?[0-9.]+)"}])
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), headless=True,
                                                 args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page()
            estimator.fit(wait=False)
            name = estimator.latest_training_job.name
            page.goto(f"{server.url}/jobs/{name}")
            seen = {}
            for k in range(1, episodes + 1):
                page.wait_for_function(
                    f"(document.querySelector('.chart[data-metric=\"reward\"]') || {{dataset: {{}}}})"
                    f".dataset.points >= {k}", timeout=60_000, polling="raf")
                seen[k - 1] = time.time()
            browser.close()
        estimator.latest_training_job.wait(logs=False)
        log = Path(estimator.sagemaker_session.service.jobs.describe(name).log_path).read_text()
    finally:
        server.stop()
        os.environ.pop("RLOPS_SERVER", None)
    printed = {}
    for line in log.splitlines():
        if "Total reward=" in line and "printed=" in line:
            episode = int(line.split("Episode=")[1].split(",")[0])
            printed[episode] = float(line.rsplit("printed=", 1)[1])
    delays = [seen[k] - printed[k] for k in sorted(seen) if k in printed]
    # the first point waits for the page to load; the rest show the steady state
    steady = delays[1:] or delays
    return {"points": len(delays), "median_s": statistics.median(steady), "max_s": max(steady),
            "first_s": delays[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--episodes", type=int, default=20, help="reward lines the live job prints")
    args = parser.parse_args()
    require(modules=("httpx", "playwright", "psycopg"),
            programs={"chromium": "apt-get install chromium"})
    from tests.server.postgres import Postgres, postgres_bin

    report = {"api": {}, "dashboard": None}
    for backend in args.backends.split(","):
        home = Path(tempfile.mkdtemp(prefix=f"rlops-bench-{backend}-"))
        postgres = None
        try:
            if backend == "postgres":
                if postgres_bin() is None:
                    sys.exit("benchmarks/server.py needs PostgreSQL for --backends postgres: apt-get install postgresql")
                postgres = Postgres(postgres_bin())
            report["api"][backend] = api_latency(backend, postgres.database() if postgres else None, home, args)
        finally:
            if postgres:
                postgres.stop()
            shutil.rmtree(home, ignore_errors=True)
    home = Path(tempfile.mkdtemp(prefix="rlops-bench-dashboard-"))
    try:
        report["dashboard"] = point_to_picture(home, args.episodes)
    finally:
        shutil.rmtree(home, ignore_errors=True)

    print(f"\nAPI latency, {args.jobs:,} jobs and {args.points:,} metric points, {args.requests} sequential requests:")
    print(f"{'request':58} " + "  ".join(f"{b + ' p50':>12} {b + ' p99':>12}" for b in report["api"]))
    for request in next(iter(report["api"].values())):
        cells = "  ".join(f"{r[request]['p50_ms']:>9.1f} ms {r[request]['p99_ms']:>9.1f} ms"
                          for r in report["api"].values())
        print(f"{request:58} {cells}")
    d = report["dashboard"]
    print(f"\nA metric point from print to dashboard chart ({d['points']} points, SQLite): median {d['median_s']:.2f} s, "
          f"max {d['max_s']:.2f} s (first point, with the page loading: {d['first_s']:.2f} s). Target: within 2 s.")
    print(json.dumps(report), file=sys.stderr)


if __name__ == "__main__":
    main()
