"""``S3Uploader`` and ``S3Downloader`` as in ``sagemaker.s3``, on rlops's buckets.

``s3://BUCKET/KEY`` is a file in ``RLOPS_HOME/s3`` (:mod:`rlops.storage.uris`), so these copy files;
boto3 reaches the same objects through rlops's S3 endpoint (:mod:`rlops.runtime.s3`). With an S3
endpoint of the user's own (``AWS_ENDPOINT_URL_S3``), they go through its local mirror to it
(:mod:`rlops.storage.remote`).

>>> from rlops.s3 import S3Downloader, S3Uploader
>>> uri = S3Uploader.upload("data/", "s3://rlops-default-bucket/inputs")   # doctest: +SKIP
>>> S3Downloader.list(uri)                                                  # doctest: +SKIP
"""

from __future__ import annotations

import shutil
from pathlib import Path

from rlops.exceptions import UsageError
from rlops.storage import copy_file, resolve_uri, to_uri, write_text
from rlops.storage.remote import publish


def _s3(uri: str, what: str, fetch: bool = False) -> Path:
    if not str(uri).startswith("s3://"):
        raise UsageError(f"The {what} must be an s3:// URI; got {uri!r}.")
    return resolve_uri(uri, what, fetch=fetch)


class S3Uploader:
    @staticmethod
    def upload(local_path: str, desired_s3_uri: str, kms_key: str | None = None, sagemaker_session=None,
               callback=None) -> str:
        """Copy a file (to ``desired_s3_uri/<its name>``) or a folder's files (under ``desired_s3_uri``); returns the URI."""
        source, target = Path(local_path), _s3(desired_s3_uri, "upload target")
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True)
            publish(target)
            return to_uri(target)
        if not source.is_file():
            raise UsageError(f"Nothing to upload at {local_path!r}: no such file or folder.")
        copy_file(source, target / source.name)
        publish(target / source.name)
        return to_uri(target / source.name)

    @staticmethod
    def upload_string_as_file_body(body: str, desired_s3_uri: str, kms_key: str | None = None,
                                   sagemaker_session=None) -> str:
        target = _s3(desired_s3_uri, "upload target")
        write_text(target, body)
        publish(target)
        return desired_s3_uri


class S3Downloader:
    @staticmethod
    def download(s3_uri: str, local_path: str, kms_key: str | None = None, sagemaker_session=None) -> list[str]:
        """Copy the object, or every object under the prefix, into the folder ``local_path``; returns the files."""
        source, target = _s3(s3_uri, "download source", fetch=True), Path(local_path)
        target.mkdir(parents=True, exist_ok=True)
        if source.is_file():
            shutil.copy2(source, target / source.name)
            return [str(target / source.name)]
        files = sorted(p for p in source.rglob("*") if p.is_file()) if source.is_dir() else []
        for file in files:
            (target / file.relative_to(source)).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(file, target / file.relative_to(source))
        return [str(target / f.relative_to(source)) for f in files]

    @staticmethod
    def read_file(s3_uri: str, sagemaker_session=None) -> str:
        return _s3(s3_uri, "file", fetch=True).read_text()

    @staticmethod
    def list(s3_uri: str, sagemaker_session=None) -> list[str]:
        """The URIs of the objects under ``s3_uri``."""
        source = _s3(s3_uri, "prefix", fetch=True)
        if source.is_file():
            return [to_uri(source)]
        return [to_uri(p) for p in sorted(source.rglob("*")) if p.is_file()] if source.is_dir() else []
