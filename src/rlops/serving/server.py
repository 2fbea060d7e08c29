"""Running the model server: ``rlops serve MODEL`` in the foreground, as ``mlflow models serve`` does.

Several workers share one port (the kernel balances connections across them): uvicorn starts
them from :func:`app_from_environment`, which reads the model's folder from ``RLOPS_SERVE_MODEL``.
"""

from __future__ import annotations

import errno
import json
import os
import socket
import time
from pathlib import Path

from rlops.exceptions import UsageError
from rlops.policies.portable import PortablePolicy, policy_folder
from rlops.serving.app import create_app

MODEL_ENV = "RLOPS_SERVE_MODEL"
TOKEN_ENV = "RLOPS_SERVE_TOKEN"  # the token the workers require (set by serve() for a non-loopback address)
FORMAT_ENV = "RLOPS_SERVE_ANSWER_FORMAT"


#: Beside an endpoint's policy: how it answers (``{"answer_format": "mxnet"}``), kept with the model it serves.
SERVING_FILE = "serving.json"


def serving_settings(folder: Path) -> dict:
    settings = folder / SERVING_FILE
    return json.loads(settings.read_text()) if settings.is_file() else {}


def app_from_environment():
    folder = Path(os.environ[MODEL_ENV])
    settings = serving_settings(folder)
    if settings.get("handler"):  # a SageMaker inference handler (model_fn, input_fn, predict_fn, output_fn)
        from rlops.serving.app import asgi_app
        from rlops.serving.handler import handler_invoke

        return asgi_app(handler_invoke(folder, settings["handler"]), (folder / "policy.json").read_bytes(),
                        capture_writer(settings), os.environ.get(TOKEN_ENV))
    return create_app(PortablePolicy(folder), os.environ.get(FORMAT_ENV) or settings.get("answer_format", "rlops"),
                      capture_writer(settings), os.environ.get(TOKEN_ENV))


def capture_writer(settings: dict):
    """The endpoint's data capture writer, when its settings ask for one."""
    capture = settings.get("capture")
    if not capture:
        return None
    from rlops.serving.capture import CaptureWriter

    return CaptureWriter(Path(capture["folder"]), capture.get("percentage", 100.0), capture.get("input", True),
                         capture.get("output", True))


def require_token(host: str) -> None:
    """A server bound beyond loopback requires the server token (:mod:`rlops.auth`): say so, and show the token
    once, when it is made."""
    from rlops.auth import is_loopback, server_token, token_path

    if is_loopback(host):
        os.environ.pop(TOKEN_ENV, None)
        return
    token, made = server_token()
    os.environ[TOKEN_ENV] = token
    if made:
        print(f"rlops: {host} is reachable from other machines, so every request needs a token. Generated one "
              f"(shown once; kept in {token_path()}, mode 0600):\n  Authorization: Bearer {token}", flush=True)
    else:
        print(f"rlops: {host} is reachable from other machines; requests need the token in "
              f"{'RLOPS_TOKEN' if os.environ.get('RLOPS_TOKEN') else token_path()} (Authorization: Bearer TOKEN).",
              flush=True)


def check_port(host: str, port: int, wait_s: float = 0.0) -> None:
    """Refuse a port in use before anything starts (after waiting up to ``wait_s`` for it to free up)."""
    deadline = time.monotonic() + wait_s
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            # as the server binds: connections in TIME_WAIT do not count, a listening socket does
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
                return
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE and time.monotonic() < deadline:
                    time.sleep(0.1)
                    continue
                reason = "is already in use" if exc.errno == errno.EADDRINUSE else f"cannot be used ({exc.strerror})"
                raise UsageError(f"Port {port} on {host} {reason}; pick another with --port.") from None


def serve(model: str, host: str = "127.0.0.1", port: int = 8080, workers: int = 1, log_level: str = "warning",
          port_wait_s: float = 0.0, answer_format: str | None = None) -> None:
    """Load the policy (failing early on a model that is not one), then serve until interrupted."""
    import uvicorn

    from rlops.serving.codec import ANSWER_FORMATS

    if answer_format is not None and answer_format not in ANSWER_FORMATS:
        raise UsageError(f"Unknown answer format {answer_format!r}; accepted: {', '.join(ANSWER_FORMATS)}.")
    with policy_folder(model) as folder:  # an archive is unpacked while the server runs
        PortablePolicy(folder)  # a broken model fails here, before the port is taken
        check_port(host, port, port_wait_s)
        os.environ[MODEL_ENV] = str(folder)
        require_token(host)
        if answer_format:
            os.environ[FORMAT_ENV] = answer_format
        uvicorn.run("rlops.serving.server:app_from_environment", factory=True, host=host, port=port, workers=workers,
                    log_level=log_level, access_log=False, http="httptools", loop="uvloop")
