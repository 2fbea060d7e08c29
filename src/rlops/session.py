"""``rlops.Session``: what SageMaker's session was to an estimator, for a local job store.

SageMaker sessions wrapped AWS clients and a default S3 bucket. Here a session names the job
store (``RLOPS_HOME``, ``RLOPS_DATABASE_URL`` or ``database_url``), or an ``rlops server`` that keeps
it for a team (``RLOPS_SERVER`` or ``server``), and the default bucket (a
folder rlops serves to boto3 on loopback: :mod:`rlops.runtime.s3`), and owns the one runtime
service (:mod:`rlops.runtime.service`) through which estimators, models, predictors, analytics
and the CLI reach jobs and endpoints.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rlops.settings import DEFAULT_BUCKET, server_address

if TYPE_CHECKING:
    from rlops.runtime.service import RuntimeService

LOCAL_ROLE = "arn:rlops:iam::local:role/rlops-local-placeholder"


class Session:
    """The runtime service an estimator uses; ``Session()`` takes its store from the environment.

    >>> import rlops
    >>> session = rlops.Session()              # doctest: +SKIP
    >>> session.default_bucket()               # doctest: +SKIP
    'rlops-default-bucket'
    """

    local_mode = True
    boto_region_name = "local"

    def __init__(self, database_url: str | None = None, service: RuntimeService | None = None,
                 server: str | None = None, **_ignored):
        self._database_url = database_url
        self._service = service
        self._server = server

    @property
    def service(self) -> RuntimeService:
        """The runtime service every operation of this session goes through (opened on first use): the
        ``rlops server`` at ``server`` or ``RLOPS_SERVER`` when one is named, else this machine's store."""
        if self._service is None:  # constructing a session costs nothing
            server = self._server or (None if self._database_url else server_address())
            if server:
                from rlops.runtime.remote import RemoteRuntime

                self._service = RemoteRuntime(server)
            else:
                from rlops.runtime.local import LocalRuntime

                self._service = LocalRuntime(self._database_url)
        return self._service

    def default_bucket(self) -> str:
        """The bucket where jobs without an ``output_path`` put their artifacts.

        From here on boto3 in this process (and in jobs) reaches rlops's buckets through an S3 endpoint on
        loopback, unless ``AWS_ENDPOINT_URL_S3`` already names another endpoint.
        """
        from rlops.runtime.s3 import point_boto3_here
        from rlops.storage import resolve_uri

        resolve_uri(f"s3://{DEFAULT_BUCKET}", "default bucket")  # made, here or on the user's S3 endpoint
        point_boto3_here()
        return DEFAULT_BUCKET

    def describe_training_job(self, job_name: str) -> dict:
        """SageMaker's ``DescribeTrainingJob`` answer for a job (status, times, artifacts, final metrics)."""
        from rlops.training_job import describe_job

        jobs = self.service.jobs
        return describe_job(jobs.describe(job_name), jobs.final_metrics(job_name))

    def upload_data(self, path: str, bucket: str | None = None, key_prefix: str = "data", **_ignored) -> str:
        """Copy a local file or folder to ``s3://bucket/key_prefix`` (the default bucket unless named)."""
        from rlops.s3 import S3Uploader

        return S3Uploader.upload(path, f"s3://{bucket or self.default_bucket()}/{key_prefix}")

    def download_data(self, path: str, bucket: str, key_prefix: str = "", **_ignored) -> list[str]:
        """Copy the objects under ``s3://bucket/key_prefix`` into the folder ``path``."""
        from rlops.s3 import S3Downloader

        return S3Downloader.download(f"s3://{bucket}/{key_prefix}", path)


class LocalSession(Session):
    """SageMaker's local-mode session; in rlops every session is local, without Docker."""


def get_execution_role(*_args, **_kwargs) -> str:
    """A placeholder role name: rlops runs as you and uses no IAM roles."""
    return LOCAL_ROLE
