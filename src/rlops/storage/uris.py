"""What a path or URI names: ``file://`` and ``s3://`` URIs and plain paths, resolved to absolute local paths.

Every place that takes a location from a user (``output_path``, ``checkpoint_s3_uri``, channels,
``model_data``, ``source_dir``) resolves it here, so a new scheme is added in one place.

``s3://BUCKET/KEY`` names an object of one of rlops's own buckets: the folder
``RLOPS_HOME/s3/BUCKET`` (the default bucket is created on first use; boto3 creates others),
which :mod:`rlops.runtime.s3` serves to boto3 as an S3 endpoint. When the user configured an S3
endpoint of their own (``AWS_ENDPOINT_URL_S3``: real S3, MinIO), it names that endpoint's object,
kept in a local mirror (:mod:`rlops.storage.remote`). A path inside those folders is
reported back as its ``s3://`` URI, so ``model_data`` names the location the way it was asked for.

>>> resolve_uri("file:///tmp/data")
PosixPath('/tmp/data')
>>> to_uri(resolve_uri("/tmp/data"))
'file:///tmp/data'
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import unquote, urlparse

from rlops.exceptions import UsageError

SUPPORTED = "a local path, a file:// URI or an s3:// URI (rlops's buckets, or those of AWS_ENDPOINT_URL_S3)"


def resolve_uri(uri: str | os.PathLike, what: str = "path", fetch: bool = False) -> Path:
    """The absolute local path that ``uri`` names; ``what`` names it in the error for another scheme.

    With ``fetch``, an ``s3://`` URI on the user's own S3 endpoint is downloaded into its local mirror first
    (:mod:`rlops.storage.remote`); what is written to such a path reaches the endpoint by ``publish``.
    """
    text = os.fspath(uri)
    parsed = urlparse(text)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path)).resolve()
    if parsed.scheme == "s3":
        path = _bucket_path(parsed.netloc, unquote(parsed.path).lstrip("/"), text, what)
        if fetch:
            from rlops.storage.remote import fetch as download

            download(path)
        return path
    if parsed.scheme and len(parsed.scheme) > 1:  # one letter would be a Windows drive
        raise UsageError(
            f"The {what} {text!r} uses the {parsed.scheme}:// scheme, which rlops cannot read or write here. "
            f"Use {SUPPORTED} (copy remote data to a local folder first)."
        )
    return Path(text).expanduser().resolve()


def to_uri(path: Path) -> str:
    """The URI of a local path as jobs report their artifacts: ``s3://`` inside rlops's buckets, else ``file://``."""
    from rlops.settings import s3_root

    path = Path(path).resolve()
    root = s3_root()
    if path.is_relative_to(root) and path != root:
        return "s3://" + path.relative_to(root).as_posix()
    return path.as_uri()


#: SageMaker's bucket naming rule (3-63 lowercase letters, digits, dots and hyphens).
BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


def _bucket_path(bucket: str, key: str, text: str, what: str) -> Path:
    from rlops.settings import DEFAULT_BUCKET, s3_root, user_s3_endpoint

    if not BUCKET.match(bucket):
        raise UsageError(f"The {what} {text!r} names the bucket {bucket!r}, which is not a valid S3 bucket name "
                         "(3 to 63 lowercase letters, digits, '.' and '-').")
    root = s3_root()
    folder = root / bucket
    endpoint = user_s3_endpoint()
    if endpoint:  # the user's own S3: the bucket must exist there (the default one is made, as SageMaker does)
        from rlops.storage.remote import check_bucket

        check_bucket(bucket, endpoint, f"{what} {text!r}", create=bucket == DEFAULT_BUCKET)
        folder.mkdir(parents=True, exist_ok=True)
    elif bucket == DEFAULT_BUCKET:
        folder.mkdir(parents=True, exist_ok=True)
    if not folder.is_dir():
        buckets = sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
        raise UsageError(f"The {what} {text!r} is in the bucket {bucket!r}, which is not one of rlops's buckets "
                         f"({', '.join(buckets) or 'none yet'}; they live in {root}). Use Session().default_bucket() "
                         f"({DEFAULT_BUCKET!r}), create the bucket with boto3 (s3.create_bucket(Bucket={bucket!r})), "
                         "or give a local path.")
    path = (folder / key).resolve()
    if not path.is_relative_to(folder):
        raise UsageError(f"The {what} {text!r} leaves its bucket (a key may not contain '..').")
    return path
