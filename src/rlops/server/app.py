"""The ``rlops server`` application: the REST API, the dashboard and their static files, behind the token check.

>>> app = create_app(LocalRuntime(), allowed=[rlops_home()])         # doctest: +SKIP
>>> uvicorn.run(app, host="127.0.0.1", port=8765)                  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from rlops import __version__
from rlops.auth import authorized
from rlops.runtime.service import RuntimeService
from rlops.server.api import create_api, install_error_handlers
from rlops.server.dashboard import LOGIN_PATH, TOKEN_COOKIE, create_dashboard, login_page

STATIC = Path(__file__).with_name("static")


def create_app(service: RuntimeService, allowed: list[Path], token: str | None = None) -> FastAPI:
    """The server over ``service``; requests may write only under ``allowed``; with ``token``, every request
    must carry it (``Authorization: Bearer TOKEN``, or the cookie the login page sets)."""
    app = FastAPI(title="rlops", version=__version__,
                  description="SageMaker RL's training jobs, endpoints and tuning jobs, served for a team. "
                              "The SDK and the CLI use this API when RLOPS_SERVER names the server.")
    install_error_handlers(app)
    app.include_router(create_api(service, allowed))
    app.include_router(create_dashboard(service))
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    if token:
        return TokenGate(app, token)
    return app


class TokenGate:
    """ASGI middleware: a request without the token gets 401 (the API's JSON, or a page asking for the token),
    except the login page itself."""

    def __init__(self, app, token: str):
        self.app, self.token = app, token

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"] == LOGIN_PATH:
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        if authorized(headers, self.token) or _cookie(headers) == self.token:
            return await self.app(scope, receive, send)
        if scope["path"].startswith("/api/") or scope["path"] in ("/openapi.json", "/docs"):
            body = (b'{"error": "This rlops server needs its token: send Authorization: Bearer TOKEN (RLOPS_TOKEN; '
                    b'the server printed it when it first started).", "type": "Unauthorized"}')
            media = b"application/json"
        else:
            body, media = login_page().encode(), b"text/html; charset=utf-8"
        await send({"type": "http.response.start", "status": 401,
                    "headers": [(b"content-type", media), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


def _cookie(headers: dict[bytes, bytes]) -> str | None:
    from http.cookies import SimpleCookie

    raw = headers.get(b"cookie")
    if not raw:
        return None
    cookie = SimpleCookie()
    try:
        cookie.load(raw.decode("latin-1"))
    except Exception:  # a malformed cookie header is no token
        return None
    morsel = cookie.get(TOKEN_COOKIE)
    return morsel.value if morsel else None
