"""``s3://`` on an S3 endpoint the user configured (real S3, MinIO): objects mirrored in a local folder.

When ``AWS_ENDPOINT_URL_S3`` (or ``AWS_ENDPOINT_URL``) names an endpoint that is not rlops's own,
``s3://BUCKET/KEY`` means that endpoint's object, as it does for the user's boto3 calls. rlops
still works on files: :func:`rlops.settings.s3_root` is then a local mirror, one folder per bucket; :func:`fetch` downloads
the objects a reader needs into it (changed ones only) and :func:`publish` uploads what a job or
the SDK wrote there. Credentials and region come from boto3's usual chain (environment, profile).

Without such an endpoint these are no-ops: ``s3://`` names rlops's own buckets
(:func:`rlops.settings.s3_root`), which rlops serves to boto3 itself.
"""

from __future__ import annotations

import functools
from pathlib import Path

from rlops.exceptions import UsageError
from rlops.settings import s3_root, user_s3_endpoint

@functools.cache
def _client(endpoint: str):
    import boto3

    return boto3.session.Session().client("s3", endpoint_url=endpoint)


def _unreachable(bucket: str, endpoint: str, error: Exception, what: str) -> UsageError:
    return UsageError(f"The {what} is in the bucket {bucket!r} of the S3 endpoint {endpoint} "
                      f"(AWS_ENDPOINT_URL_S3), which answered: {error}. Create the bucket there, check the "
                      "endpoint and credentials, or unset AWS_ENDPOINT_URL_S3 to use rlops's own buckets.")


#: (endpoint, bucket) pairs found to exist, asked once per process.
_checked: set[tuple[str, str]] = set()


def check_bucket(bucket: str, endpoint: str, what: str, create: bool = False) -> None:
    """Fail with a clear error unless ``bucket`` exists on ``endpoint`` (made when ``create``)."""
    from botocore.exceptions import BotoCoreError, ClientError

    if (endpoint, bucket) in _checked:
        return
    client = _client(endpoint)
    try:
        client.head_bucket(Bucket=bucket)
    except ClientError as error:
        if not create or error.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket"):
            raise _unreachable(bucket, endpoint, error, what) from None
        client.create_bucket(Bucket=bucket)
    except BotoCoreError as error:
        raise _unreachable(bucket, endpoint, error, what) from None
    _checked.add((endpoint, bucket))


def _located(path: Path) -> tuple[str, str, str, Path] | None:
    """``(endpoint, bucket, key, bucket folder)`` of a path in the mirror, or ``None`` for any other path."""
    endpoint = user_s3_endpoint()
    if not endpoint:
        return None
    root = s3_root()
    path = Path(path).resolve()
    if not path.is_relative_to(root) or path == root:
        return None
    bucket, *key = path.relative_to(root).parts
    return endpoint, bucket, "/".join(key), root / bucket


def _same(path: Path, size: int) -> bool:
    return path.is_file() and path.stat().st_size == size


def fetch(path: Path) -> Path:
    """Download the object ``path`` mirrors, or every object under it as a folder, unless already here."""
    located = _located(path)
    if located:
        endpoint, bucket, key, folder = located
        client = _client(endpoint)
        prefix = key + "/" if key else ""
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=key):
            for item in page.get("Contents", []):
                name = item["Key"]
                if name != key and not name.startswith(prefix) or name.endswith("/"):
                    continue  # "data" is the object data or the folder data/, never data2/
                target = (folder / name).resolve()
                if not target.is_relative_to(folder):
                    raise UsageError(f"The object s3://{bucket}/{name} leaves its bucket (a key may not contain '..').")
                if not _same(target, item["Size"]):
                    target.parent.mkdir(parents=True, exist_ok=True)
                    partial = target.with_name(f".{target.name}.partial")
                    client.download_file(bucket, name, str(partial))
                    partial.replace(target)
    return path


#: The (size, mtime) of each file this process uploaded, so a folder published again sends only what changed.
_published: dict[Path, tuple[int, float]] = {}


def publish(path: Path) -> int:
    """Upload the file ``path``, or the files under the folder ``path`` new or changed since this process last
    did, when it mirrors an object of the user's endpoint. Returns how many were uploaded (0 for other paths)."""
    located = _located(path)
    if not located or not path.exists():
        return 0
    endpoint, bucket, _key, folder = located
    client = _client(endpoint)
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
    sent = 0
    for file in files:
        stat = file.stat()
        if _published.get(file) == (stat.st_size, stat.st_mtime):
            continue
        client.upload_file(str(file), bucket, file.relative_to(folder).as_posix())
        _published[file] = (stat.st_size, stat.st_mtime)
        sent += 1
    return sent
