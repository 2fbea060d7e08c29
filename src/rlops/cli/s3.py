"""``rlops s3``: the S3 endpoint that serves rlops's buckets to boto3 and the AWS CLI."""

from __future__ import annotations

import shlex

import click


@click.group("s3")
def s3() -> None:
    """rlops's buckets (RLOPS_HOME/s3) as an S3 endpoint on 127.0.0.1.

    \b
    Examples:
      eval "$(rlops s3 env)"           # point boto3 / the AWS CLI of this shell at it
      aws s3 ls s3://rlops-default-bucket/
      rlops s3 stop
    """


@s3.command("env")
def env() -> None:
    """Start the endpoint if it is not running, and print the variables that point boto3 at it."""
    from rlops.runtime.s3 import boto3_environment
    from rlops.settings import user_s3_endpoint

    variables = boto3_environment()
    if not variables:
        raise click.ClickException(f"An S3 endpoint of your own is set ({user_s3_endpoint()}, from AWS_ENDPOINT_URL_S3 "
                                   "or AWS_ENDPOINT_URL); unset it to use rlops's.")
    for name, value in variables.items():
        click.echo(f"export {name}={shlex.quote(value)}")


@s3.command("stop")
def stop() -> None:
    """Stop the endpoint (boto3 calls fail until something starts it again)."""
    from rlops.runtime.s3 import stop_endpoint

    click.echo("Stopped rlops's S3 endpoint." if stop_endpoint() else "No S3 endpoint was running.")
