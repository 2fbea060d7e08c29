"""Who may talk to an rlops server: anyone on this machine when it listens on loopback; otherwise only a
request that carries the server token.

A server bound to any address other than loopback (``rlops serve MODEL --host 0.0.0.0``) requires the
token in ``Authorization: Bearer TOKEN`` (or ``X-Rlops-Token: TOKEN``) on every request, ``/ping``
included. The token is ``RLOPS_TOKEN`` when set; else the one in ``RLOPS_HOME/server-token``, made
the first time it is needed (32 random bytes, URL-safe; the file is created with mode 0600, so only its
owner reads it) and shown once, when it is made. Clients on the same account (the SDK, the CLI) read
the same file.

>>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("0.0.0.0")
(True, True, False)
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import secrets
from pathlib import Path

TOKEN_ENV = "RLOPS_TOKEN"
TOKEN_FILE = "server-token"
HEADER = b"authorization"
TOKEN_HEADER = b"x-rlops-token"


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` keeps a server reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def token_path() -> Path:
    from rlops.settings import rlops_home

    return rlops_home() / TOKEN_FILE


def server_token(create: bool = True) -> tuple[str | None, bool]:
    """``(token, made now)``: ``RLOPS_TOKEN``, else the token file's (made, mode 0600, when ``create``)."""
    if os.environ.get(TOKEN_ENV):
        return os.environ[TOKEN_ENV], False
    path = token_path()
    if path.is_file():
        return path.read_text().strip(), False
    if not create:
        return None, False
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    try:  # O_EXCL: two servers starting at once agree on the first one's token
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip(), False
    with os.fdopen(descriptor, "w") as stream:
        stream.write(token + "\n")
    return token, True


def authorized(headers: dict[bytes, bytes], token: str) -> bool:
    """Whether ASGI ``headers`` carry ``token`` (compared in constant time)."""
    given = headers.get(TOKEN_HEADER)
    if given is None:
        scheme, _, value = headers.get(HEADER, b"").partition(b" ")
        given = value.strip() if scheme.lower() == b"bearer" else None
    return given is not None and hmac.compare_digest(given, token.encode())


def client_headers(host: str) -> dict[str, str]:
    """The header a client sends to a server on ``host``: the token, when the server is not on loopback."""
    if is_loopback(host):
        return {}
    token, _ = server_token(create=False)
    return {"Authorization": f"Bearer {token}"} if token else {}
