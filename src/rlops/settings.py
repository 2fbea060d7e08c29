"""Where rlops keeps its state: ``RLOPS_HOME`` and the job store's database URL."""

from __future__ import annotations

import os
from pathlib import Path

HOME_ENV = "RLOPS_HOME"
DATABASE_URL_ENV = "RLOPS_DATABASE_URL"


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


def s3_root() -> Path:
    """rlops's own S3 buckets, one folder each (``s3://BUCKET/KEY`` is ``s3_root()/BUCKET/KEY``), served to
    boto3 by :mod:`rlops.runtime.s3`."""
    return rlops_home() / "s3"


def default_output_path() -> Path:
    """Where artifacts go when an estimator names no ``output_path``: the default bucket."""
    return s3_root() / DEFAULT_BUCKET
