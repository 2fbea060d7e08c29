"""``rlops jobs``: list, describe, follow, read metrics of, stop and interrupt training jobs."""

from __future__ import annotations

import time

import click

from rlops.cli.tables import dump_json, duration, status_color, table, when
from rlops.exceptions import UsageError
from rlops.records import JobStatus
from rlops.runtime.spec import JobSpec
from rlops.session import Session
from rlops.training_job import describe_job, savings_lines, stream_logs


def _service():
    return Session().service


def job_model(service, job_name: str) -> str:
    """The ``model.tar.gz`` URI of a job that has written one (for commands that take a JOB or MODEL)."""
    locations = service.jobs.locations(job_name)
    if not locations.has_model:
        status = service.jobs.describe(job_name).status
        raise UsageError(f"Job {job_name!r} has no model ({status}); use a job that completed or was stopped.")
    return locations.model_data


def _elapsed(job) -> float | None:
    if job.started_at is None:
        return None
    return (job.ended_at or time.time()) - job.started_at


@click.group("jobs")
def jobs() -> None:
    """Training jobs: list them, read their logs and metrics, stop them.

    \b
    Examples:
      rlops jobs list
      rlops jobs logs my-job --follow
      rlops jobs metrics my-job --json
    """


@jobs.command("list")
@click.option("--status", type=click.Choice([s.value for s in JobStatus]),
              help="Only jobs in this status.")
@click.option("--name-contains", help="Only jobs whose name contains this text.")
@click.option("-n", "--limit", type=int, default=50, show_default=True, help="At most this many jobs, newest first.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def list_jobs(status, name_contains, limit, as_json) -> None:
    """List training jobs, newest first."""
    records = _service().jobs.list(status=status, name_contains=name_contains, limit=limit)
    if as_json:
        dump_json([{"TrainingJobName": j.name, "TrainingJobStatus": j.status, "SecondaryStatus": j.secondary_status,
                    "CreationTime": j.created_at, "TrainingStartTime": j.started_at, "TrainingEndTime": j.ended_at,
                    "Toolkit": j.spec.get("toolkit")} for j in records])
        return
    if not records:
        click.echo("No training jobs yet. Start one with RLEstimator(...).fit() or `rlops train`.")
        return
    rows = [(j.name, status_color(j.status), j.secondary_status, j.spec.get("toolkit") or "custom",
             when(j.created_at), duration(_elapsed(j))) for j in records]
    click.echo(table(["NAME", "STATUS", "SECONDARY", "TOOLKIT", "CREATED", "DURATION"], rows))


@jobs.command("describe")
@click.argument("job_name")
@click.option("--json", "as_json", is_flag=True, help="Print DescribeTrainingJob's JSON.")
def describe(job_name, as_json) -> None:
    """Show a job's status, transitions, settings and final metrics."""
    jobs = _service().jobs
    record = jobs.describe(job_name)
    info = describe_job(record, jobs.final_metrics(job_name))
    if as_json:
        dump_json(info)
        return
    spec = JobSpec.from_dict(record.spec)
    lines = [
        ("Name", record.name),
        ("Status", f"{status_color(record.status)} ({record.secondary_status})"),
        ("Failure reason", record.failure_reason),
        ("Created", when(record.created_at)),
        ("Duration", duration(_elapsed(record))),
        ("Entry point", f"{spec.entry_point} in {spec.source_dir}"),
        ("Toolkit", " ".join(filter(None, [spec.toolkit, spec.toolkit_version, spec.framework])) or "custom"),
        ("Python", spec.python),
        ("Instances", ", ".join(f"{g['instance_group_name']}: {len(g['hosts'])} x {g['instance_type']}"
                                for g in spec.groups()) if spec.instance_groups
         else f"{spec.instance_count} x {spec.instance_type}"),
        ("Max run", f"{spec.max_run} s"),
        ("Spot-style", f"yes, max wait {spec.max_wait} s; {len(record.interruptions)} interruption(s), supervisor "
                       f"restarted {record.restarts} time(s)" if spec.use_spot else None),
        ("Hyperparameters", ", ".join(f"{k}={v}" for k, v in sorted(spec.user_hyperparameters().items())) or "-"),
        ("Channels", ", ".join(f"{n}={c.uri}" for n, c in sorted(spec.channels.items())) or "-"),
        ("Checkpoints", spec.checkpoint_uri),
        ("Model", record.model_artifacts),
        ("Output", record.output_artifacts),
        ("Log", record.log_path),
    ]
    width = max(len(k) for k, _ in lines)
    for key, value in lines:
        if value:
            click.echo(f"{click.style(key.ljust(width), bold=True)}  {value}")
    click.echo()
    click.echo(table(["TRANSITION", "STARTED", "MESSAGE"], [
        (t["Status"], t["StartTime"].astimezone().strftime("%H:%M:%S"), t["StatusMessage"].split("\n")[0][:80])
        for t in info["SecondaryStatusTransitions"]]))
    if info["FinalMetricDataList"]:
        click.echo()
        click.echo(table(["METRIC", "FINAL VALUE"], [(m["MetricName"], m["Value"]) for m in info["FinalMetricDataList"]]))
    closing = savings_lines(record)
    if closing:
        click.echo()
        click.echo(closing, nl=False)


@jobs.command("logs")
@click.argument("job_name")
@click.option("-f", "--follow", is_flag=True, help="Keep printing as the job writes, until it ends.")
def logs(job_name, follow) -> None:
    """Print a job's log (all hosts, merged)."""
    stream_logs(_service(), job_name, follow=follow)


@jobs.command("metrics")
@click.argument("job_name")
@click.option("-m", "--metric", "metric_names", multiple=True, help="Only this metric (repeatable).")
@click.option("--all", "every_point", is_flag=True, help="Every data point instead of a summary per metric.")
@click.option("--json", "as_json", is_flag=True, help="Print every data point as JSON.")
def metrics(job_name, metric_names, every_point, as_json) -> None:
    """Show the metrics a job has logged so far (summary per metric, or every point)."""
    jobs = _service().jobs
    jobs.describe(job_name)  # an unknown job is an error, not an empty table
    points = jobs.metrics(job_name, metric_names or None)
    if as_json:
        dump_json([{"metric_name": p.name, "value": p.value, "timestamp": p.timestamp, "host": p.host} for p in points])
        return
    if not points:
        click.echo(f"No metrics logged by {job_name} yet.")
        return
    if every_point:
        start = points[0].timestamp
        click.echo(table(["SECONDS", "METRIC", "VALUE", "HOST"], [
            (round(p.timestamp - start, 3), p.name, p.value, p.host) for p in points]))
        return
    summary: dict[str, list[float]] = {}
    for p in points:
        summary.setdefault(p.name, []).append(p.value)
    click.echo(table(["METRIC", "POINTS", "LAST", "MIN", "MAX", "MEAN"], [
        (name, len(v), v[-1], min(v), max(v), sum(v) / len(v)) for name, v in sorted(summary.items())]))


@jobs.command("interrupt")
@click.argument("job_name")
@click.option("--pause", type=float, default=0.0, show_default=True,
              help="Seconds the job waits, interrupted, before it restarts (a spot machine coming back).")
@click.option("--reason", default=None, help="Recorded as the interruption's reason.")
@click.option("--wait/--no-wait", default=False, show_default=True, help="Wait until the job has ended.")
def interrupt(job_name, pause, reason, wait) -> None:
    """Interrupt a spot-style job as a reclaimed machine would: its hosts are killed at once (no grace period) and it
    resumes from its latest checkpoint, losing at most one checkpoint interval.

    \b
    Example:
      rlops jobs interrupt my-job --pause 30
    """
    jobs = _service().jobs
    jobs.interrupt(job_name, reason, pause)
    click.echo(f"Interruption requested for {job_name}; it resumes from its latest checkpoint"
               + (f" after {pause:g} s." if pause else "."))
    if wait:
        record = jobs.wait(job_name)
        click.echo(f"{job_name}: {status_color(record.status)} ({record.secondary_status}).")


@jobs.command("stop")
@click.argument("job_name")
@click.option("--wait/--no-wait", default=True, show_default=True, help="Wait until the job has stopped.")
def stop(job_name, wait) -> None:
    """Stop a running job: SIGTERM, a grace period, then SIGKILL. Model and checkpoints are kept."""
    jobs = _service().jobs
    record = jobs.stop(job_name)
    if record.is_terminal:
        click.echo(f"{job_name} had already ended: {record.status}.")
        return
    click.echo(f"Stop requested for {job_name}.")
    if wait:
        record = jobs.wait(job_name)
        click.echo(f"{job_name}: {status_color(record.status)} ({record.secondary_status}).")
