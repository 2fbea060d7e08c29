"""``rlops``: the command line entry point."""

from __future__ import annotations

import sys

import click

from rlops import __version__
from rlops.cli.datasets import datasets, ope
from rlops.cli.endpoints import endpoints, export, predict, transform
from rlops.cli.evaluate import evaluate, plot
from rlops.cli.jobs import jobs
from rlops.cli.presets import presets
from rlops.cli.s3 import s3
from rlops.cli.serve import serve
from rlops.cli.server import server, ui
from rlops.cli.train import train
from rlops.cli.tuning import tuning
from rlops.exceptions import RlopsError


class RlopsGroup(click.Group):
    """Turns rlops errors into a one-line message and the error's exit code (1 error, 2 usage)."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except RlopsError as exc:
            click.echo(click.style("Error: ", fg="red", bold=True) + str(exc), err=True)
            sys.exit(exc.exit_code)


@click.group(cls=RlopsGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="rlops")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """rlops runs SageMaker RL's workflow on this machine, without Docker or a cloud account:
    training jobs, evaluation against baselines, and endpoints that serve trained policies.

    Jobs and endpoints started from Python (RLEstimator(...).fit(), .deploy()) are recorded
    in a store under RLOPS_HOME (default ~/.rlops; RLOPS_DATABASE_URL names a server database
    instead), or kept by the rlops server that RLOPS_SERVER names. These commands start, read
    and control them from any terminal.

    \b
    Examples:
      rlops train --preset cartpole-ppo   train an agent from a preset
      rlops presets list                  the built-in presets
      rlops evaluate JOB --baselines      compare a trained policy with hand-written rules
      rlops plot JOB -o curve.png         draw a job's reward curve
      rlops serve MODEL --port 8080       serve a trained policy over HTTP
      rlops endpoints list                endpoints started by estimator.deploy()
      rlops predict ENDPOINT '[0, 0, 2, 2]'  ask an endpoint for an action
      rlops transform MODEL --input obs.jsonl --output actions.jsonl
      rlops export JOB --to DIR           a policy for a device (NumPy + ONNX Runtime)
      rlops jobs list                     every job, newest first
      rlops jobs logs JOB --follow        a job's log as it is written
      rlops jobs metrics JOB              reward curves and losses, summarised
      rlops jobs stop JOB                 SIGTERM, grace period, SIGKILL
      rlops jobs interrupt JOB            interrupt a spot-style job; it resumes from its checkpoints
      rlops tuning list                   hyperparameter tuning jobs and their best
      rlops tuning plot TUNING            objective against trial and each hyperparameter
      rlops datasets collect --env E --out F   log a behaviour policy for batch RL
      rlops ope MODEL --dataset F         estimate a policy's return from logged data
      eval "$(rlops s3 env)"              boto3 and the AWS CLI on rlops's buckets
      rlops db upgrade                    bring the job store's schema up to date
      rlops ui --open                     the dashboard: jobs, live curves, endpoints, tuning
      rlops server --host 0.0.0.0         serve the store to a team (RLOPS_SERVER=URL on clients)
    """
    if ctx.invoked_subcommand not in (None, "db"):
        _recover_jobs()


def _recover_jobs() -> None:
    """Every command first looks at the jobs still recorded as running, so that those a dead machine or supervisor
    left behind are resumed (spot-style) or recorded as failed (:meth:`rlops.runtime.local.LocalJobs.recover`).
    A store that cannot be opened yet (an old schema before ``rlops db upgrade``) is left to the command."""
    from pathlib import Path

    from rlops.session import Session
    from rlops.settings import database_url, server_address

    if server_address():
        return  # the server recovers its own jobs when it starts
    url = database_url()
    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///"):]).exists():
        return  # no store yet: nothing to recover, and a command that only reads presets does not make one
    try:
        Session().service.jobs
    except RlopsError:
        pass


cli.add_command(jobs)
cli.add_command(presets)
cli.add_command(train)
cli.add_command(evaluate)
cli.add_command(plot)
cli.add_command(serve)
cli.add_command(s3)
cli.add_command(tuning)
cli.add_command(datasets)
cli.add_command(ope)
for command in (endpoints, predict, transform, export, server, ui):
    cli.add_command(command)


@cli.group("db")
def db() -> None:
    """The job store's database."""


@db.command("upgrade")
def upgrade() -> None:
    """Apply schema migrations to the job store (RLOPS_DATABASE_URL or RLOPS_HOME/rlops.db)."""
    from rlops.session import Session

    service = Session().service
    before, after = service.upgrade_store()
    click.echo(f"Job store {service.location}: "
               + (f"upgraded {before or 'empty'} -> {after}." if before != after else f"already at {after}."))


def main() -> None:
    cli(prog_name="rlops")


if __name__ == "__main__":
    main()
