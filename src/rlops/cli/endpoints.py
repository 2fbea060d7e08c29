"""``rlops endpoints``, ``rlops predict``, ``rlops transform`` and ``rlops export``."""

from __future__ import annotations

import json
from pathlib import Path

import click

from rlops.cli.jobs import job_model
from rlops.cli.tables import dump_json, status_color, table, when
from rlops.exceptions import UsageError


def _service():
    from rlops.session import Session

    return Session().service


def _endpoints():
    return _service().endpoints


def _row(record) -> dict:
    return {"EndpointName": record.name, "EndpointStatus": record.status, "Url": record.url, "Model": record.model,
            "Workers": record.workers, "Pids": _endpoints().processes(record.name),
            "FailureReason": record.failure_reason, "CreationTime": record.created_at, "LogPath": record.log_path}


@click.group("endpoints")
def endpoints() -> None:
    """Endpoints: model servers on 127.0.0.1 serving trained policies.

    \b
    Examples:
      rlops endpoints list
      rlops predict my-endpoint '[0.0, 0.0, 2.0, 2.0]'
      rlops endpoints delete my-endpoint
    """


@endpoints.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def list_endpoints(as_json) -> None:
    """List endpoints, newest first."""
    records = _endpoints().list()
    if as_json:
        dump_json([_row(r) for r in records])
        return
    if not records:
        click.echo("No endpoints. Deploy one with estimator.deploy(...) or Model(model_data).deploy(...).")
        return
    click.echo(table(["NAME", "STATUS", "URL", "WORKERS", "CREATED"],
                     [(r.name, status_color(r.status), r.url, r.workers, when(r.created_at)) for r in records]))


@endpoints.command("describe")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def describe(name, as_json) -> None:
    """An endpoint's status, address, model and processes."""
    row = _row(_endpoints().describe(name))
    if as_json:
        dump_json(row)
        return
    for key, value in row.items():
        if value not in (None, []):
            click.echo(f"{click.style(key.ljust(14), bold=True)}  {value}")


@endpoints.command("logs")
@click.argument("name")
def logs(name) -> None:
    """Print the model server's log."""
    click.echo(_endpoints().logs(name), nl=False)


@endpoints.command("delete")
@click.argument("name")
def delete(name) -> None:
    """Stop an endpoint's server and forget it."""
    _endpoints().delete(name)
    click.echo(f"Deleted endpoint {name}.")


@endpoints.command("restart")
@click.argument("name")
def restart(name) -> None:
    """Start an endpoint's server again (after its processes died)."""
    record = _endpoints().restart(name)
    click.echo(f"{name}: {status_color(record.status)} at {record.url}")


@click.command("predict")
@click.argument("endpoint")
@click.argument("data")
def predict(endpoint, data) -> None:
    """Send DATA (JSON: an observation, a list of them, or {"instances": [...]}) to ENDPOINT."""
    from rlops.predictor import Predictor

    try:
        payload = json.loads(data)
    except ValueError as exc:
        raise UsageError(f"DATA must be JSON, e.g. '[0.0, 0.0, 2.0, 2.0]'; got {data!r} ({exc}).") from None
    dump_json(Predictor(endpoint).predict(payload))


@click.command("transform")
@click.argument("model")
@click.option("--input", "input_path", required=True, type=click.Path(exists=True, dir_okay=False),
              help="Observations, one JSON list per line (.jsonl) or one per CSV row (.csv).")
@click.option("--output", "output_path", required=True, type=click.Path(dir_okay=False), help="Answers, one JSON per line.")
@click.option("--join", "join_source", is_flag=True, help="Join each input with its output (SageMaker's JoinSource).")
@click.option("--batch-size", type=click.IntRange(min=1), default=10_000, show_default=True)
def transform(model, input_path, output_path, join_source, batch_size) -> None:
    """Batch inference: act on every observation of a file, in order, without a server."""
    count = _service().transform(model, Path(input_path), Path(output_path), join_source, batch_size)
    click.echo(f"Wrote {count} answers to {output_path}.")


@click.command("export")
@click.argument("source")
@click.option("--to", "target", required=True, type=click.Path(file_okay=False), help="Folder to write.")
def export(source, target) -> None:
    """Write a policy for a device: policy.onnx, policy.json and a NumPy + ONNX Runtime inference module."""
    from rlops.serving.edge import export_for_device

    if not Path(source).exists() and "://" not in source:
        source = job_model(_service(), source)
    files = export_for_device(source, Path(target))
    click.echo(f"Wrote {', '.join(f.name for f in files)} to {target}.")
