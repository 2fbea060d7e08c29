"""``rlops tuning``: list, describe, stop, plot hyperparameter tuning jobs and name their best training job."""

from __future__ import annotations

import time

import click

from rlops.analytics import HyperparameterTuningJobAnalytics, describe_tuning_job
from rlops.cli.tables import dump_json, duration, status_color, table, when
from rlops.records import TuningJobStatus
from rlops.runtime.spec import TuningSpec
from rlops.session import Session


def _service():
    return Session().service


@click.group("tuning")
def tuning() -> None:
    """Hyperparameter tuning jobs started by HyperparameterTuner(...).fit().

    \b
    Examples:
      rlops tuning list
      rlops tuning describe my-tuning       settings, trials and the best job
      rlops tuning best my-tuning           the best training job's name (for scripts)
      rlops tuning plot my-tuning -o tuning.png
      rlops tuning stop my-tuning
    """


@tuning.command("list")
@click.option("--status", type=click.Choice([s.value for s in TuningJobStatus]), help="Only tuning jobs in this status.")
@click.option("--name-contains", help="Only tuning jobs whose name contains this text.")
@click.option("-n", "--limit", type=int, default=50, show_default=True, help="At most this many, newest first.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def list_tuning_jobs(status, name_contains, limit, as_json) -> None:
    """List tuning jobs, newest first, with their trials done and best objective."""
    service = _service()
    records = service.tuning.list(status=status, name_contains=name_contains, limit=limit)
    summaries = [describe_tuning_job(service, r.name) for r in records]
    if as_json:
        dump_json([{key: s.get(key) for key in ("HyperParameterTuningJobName", "HyperParameterTuningJobStatus",
                                                 "CreationTime", "HyperParameterTuningEndTime",
                                                 "TrainingJobStatusCounters", "BestTrainingJob")} for s in summaries])
        return
    if not records:
        click.echo("No tuning jobs yet. Start one with HyperparameterTuner(estimator, ...).fit().")
        return
    rows = []
    for record, info in zip(records, summaries):
        config = info["HyperParameterTuningJobConfig"]
        best = info.get("BestTrainingJob", {}).get("FinalHyperParameterTuningJobObjectiveMetric", {}).get("Value")
        ended = sum(info["ObjectiveStatusCounters"][k] for k in ("Succeeded", "Failed"))
        rows.append((record.name, status_color(record.status), config["Strategy"],
                     config["HyperParameterTuningJobObjective"]["MetricName"],
                     f"{ended}/{config['ResourceLimits']['MaxNumberOfTrainingJobs']}", best, when(record.created_at),
                     duration((record.ended_at or time.time()) - record.created_at)))
    click.echo(table(["NAME", "STATUS", "STRATEGY", "OBJECTIVE", "JOBS", "BEST", "CREATED", "DURATION"], rows))


@tuning.command("describe")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print DescribeHyperParameterTuningJob's JSON.")
def describe(name, as_json) -> None:
    """Show a tuning job's settings, each training job it ran, and the best."""
    service = _service()
    info = describe_tuning_job(service, name)
    if as_json:
        dump_json(info)
        return
    record = service.tuning.describe(name)
    spec = TuningSpec.from_dict(record.spec)
    config = info["HyperParameterTuningJobConfig"]
    ranges = HyperparameterTuningJobAnalytics(name).tuning_ranges
    counters = info["TrainingJobStatusCounters"]
    lines = [
        ("Name", name),
        ("Status", status_color(record.status)),
        ("Failure reason", record.failure_reason),
        ("Created", when(record.created_at)),
        ("Duration", duration((record.ended_at or time.time()) - record.created_at)),
        ("Objective", f"{spec.objective_type} {spec.objective_metric} (its last data point in each job)"),
        ("Strategy", f"{spec.strategy}, early stopping {config['TrainingJobEarlyStoppingType']}"
         + (f", random seed {spec.random_seed}" if spec.random_seed is not None else "")),
        ("Jobs", f"{spec.max_jobs}, {spec.max_parallel_jobs} at a time; "
         + ", ".join(f"{v} {k}" for k, v in counters.items() if v)
         + (f"; {info['rlops']['EarlyStopped']} stopped early" if info["rlops"]["EarlyStopped"] else "")),
        ("Ranges", "; ".join(_range_text(n, r) for n, r in ranges.items())),
        ("Warm start", ", ".join(spec.warm_start["ParentHyperParameterTuningJobs"]) if spec.warm_start else None),
        ("Tuner log", record.log_path),
    ]
    width = max(len(k) for k, _ in lines)
    for key, value in lines:
        if value:
            click.echo(f"{click.style(key.ljust(width), bold=True)}  {value}")
    frame = HyperparameterTuningJobAnalytics(name).dataframe()
    if frame.empty:
        return
    best = info.get("BestTrainingJob", {}).get("TrainingJobName")
    click.echo()
    rows = [(("* " if row["TrainingJobName"] == best else "  ") + row["TrainingJobName"],
             status_color(row["TrainingJobStatus"]) + (" early" if row["EarlyStopped"] else ""),
             row["FinalObjectiveValue"] if row["FinalObjectiveValue"] == row["FinalObjectiveValue"] else None,
             *(repr(row[n]) for n in ranges)) for _, row in frame.iterrows()]
    click.echo(table(["  TRAINING JOB", "STATUS", spec.objective_metric.upper(), *ranges], rows))
    if best:
        click.echo(f"\n* best: {best}")


def _range_text(name: str, r: dict) -> str:
    if "Values" in r:
        return f"{name} in {r['Values']!r}"
    return f"{name} {r['MinValue']!r}..{r['MaxValue']!r} ({r.get('ScalingType', 'Auto')})"


@tuning.command("best")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print the best training job's summary as JSON.")
def best(name, as_json) -> None:
    """Print the best training job's name (with its objective and values unless piped as JSON)."""
    info = describe_tuning_job(_service(), name)
    summary = info.get("BestTrainingJob")
    if summary is None:
        raise click.ClickException(f"Tuning job {name!r} has no best training job yet: no job has given an objective "
                                   f"value ({info['HyperParameterTuningJobStatus']}).")
    if as_json:
        dump_json(summary)
        return
    metric = summary["FinalHyperParameterTuningJobObjectiveMetric"]
    click.echo(summary["TrainingJobName"])
    click.echo(f"  {metric['MetricName']} = {metric['Value']:.6g}", err=True)
    for key, value in summary["TunedHyperParameters"].items():
        click.echo(f"  {key} = {value!r}", err=True)


@tuning.command("stop")
@click.argument("name")
@click.option("--wait/--no-wait", default=True, show_default=True, help="Wait until it has stopped.")
def stop(name, wait) -> None:
    """Stop a tuning job's search and every training job it has running."""
    service = _service()
    record = service.tuning.stop(name)
    if record.is_terminal:
        click.echo(f"{name} had already ended: {record.status}.")
        return
    click.echo(f"Stop requested for {name}.")
    if wait:
        click.echo(f"{name}: {status_color(service.tuning.wait(name).status)}.")


@tuning.command("plot")
@click.argument("name")
@click.option("-o", "--output", default=None, help="Picture file (default: NAME-tuning.png).")
def plot(name, output) -> None:
    """Draw the objective against trial number and against each tuned hyperparameter."""
    path = HyperparameterTuningJobAnalytics(name).plot(output or f"{name}-tuning.png")
    click.echo(f"Wrote {path}")


@tuning.command("logs")
@click.argument("name")
def logs(name) -> None:
    """Print the tuner's log: each training job started and ended, with its values and objective."""
    click.echo(_service().tuning.logs(name), nl=False)
