"""``rlops serve``: a model server in the foreground."""

from __future__ import annotations

import click


@click.command("serve")
@click.argument("model")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind. Loopback by default; any other address requires a token on every request "
                   "(generated once into RLOPS_HOME/server-token, mode 0600, or RLOPS_TOKEN).")
@click.option("-p", "--port", type=click.IntRange(1, 65535), default=8080, show_default=True)
@click.option("-w", "--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Server processes sharing the port.")
@click.option("--answer-format", type=click.Choice(["rlops", "tensorflow", "mxnet"]), default="rlops", show_default=True,
              help="How a JSON observation is answered: rlops's objects, TensorFlow Serving's {\"predictions\": ...} "
                   "or Coach-MXNet's [value, action probabilities].")
def serve(model, host, port, workers, answer_format) -> None:
    """Serve a trained policy (a model.tar.gz or model folder) on GET /ping and POST /invocations.

    \b
    Examples:
      rlops serve model.tar.gz --port 8080
      curl -s localhost:8080/invocations -H 'Content-Type: application/json' -d '[0.0, 0.0, 2.0, 2.0]'
    """
    from rlops.serving.server import serve as run

    click.echo(f"Serving {model} on http://{host}:{port} ({workers} worker{'s' if workers > 1 else ''}); Ctrl-C stops.",
               err=True)
    run(model, host, port, workers, answer_format=answer_format)
