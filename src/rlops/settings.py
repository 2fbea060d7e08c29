"""Where rlops keeps its state: ``RLOPS_HOME`` and the job store's database URL."""

from __future__ import annotations

import os
import re
from pathlib import Path

HOME_ENV = "RLOPS_HOME"
DATABASE_URL_ENV = "RLOPS_DATABASE_URL"
#: The ``rlops server`` the SDK and the CLI use instead of this machine's store, when set.
SERVER_ENV = "RLOPS_SERVER"


def server_address() -> str | None:
    """``RLOPS_SERVER``: the address of the rlops server to use (``http://host:port``), or None for the local store."""
    return os.environ.get(SERVER_ENV) or None


def rlops_home() -> Path:
    """The folder holding the store, job folders and default artifacts (``~/.rlops``)."""
    home = Path(os.environ.get(HOME_ENV) or Path.home() / ".rlops").expanduser().resolve()
    home.mkdir(parents=True, exist_ok=True)
    return home


def database_url() -> str:
    """``RLOPS_DATABASE_URL`` if set, else a SQLite file in ``RLOPS_HOME``."""
    return os.environ.get(DATABASE_URL_ENV) or f"sqlite:///{rlops_home() / 'rlops.db'}"


def jobs_dir() -> Path:
    """Working folders of training jobs: one per job, holding its hosts and its log."""
    return rlops_home() / "jobs"


#: The bucket ``Session().default_bucket()`` names: where jobs without an ``output_path`` put their artifacts.
DEFAULT_BUCKET = "rlops-default-bucket"


#: The variables boto3 reads an S3 endpoint from, most specific first.
S3_ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")
#: Set beside ``AWS_ENDPOINT_URL_S3`` when rlops points boto3 at its own endpoint, so the two are told apart.
OWN_S3_ENDPOINT_VARIABLE = "RLOPS_S3_ENDPOINT"


def user_s3_endpoint() -> str | None:
    """The S3 endpoint the user configured (real S3, MinIO), or ``None`` when there is none or it is rlops's own."""
    for name in S3_ENDPOINT_VARIABLES:
        value = os.environ.get(name)
        if value:
            return None if value == os.environ.get(OWN_S3_ENDPOINT_VARIABLE) else value
    return None


def s3_root() -> Path:
    """The folder of the buckets ``s3://`` names, one folder each (``s3://BUCKET/KEY`` is ``s3_root()/BUCKET/KEY``).

    rlops's own buckets (``RLOPS_HOME/s3``, served to boto3 by :mod:`rlops.runtime.s3`), or, when the user
    configured an S3 endpoint of their own, the local mirror of its buckets (:mod:`rlops.storage.remote`).
    """
    endpoint = user_s3_endpoint()
    if endpoint:
        return rlops_home() / "s3-mirror" / re.sub(r"[^A-Za-z0-9.-]+", "_", endpoint.split("://", 1)[-1]).strip("_")
    return rlops_home() / "s3"
