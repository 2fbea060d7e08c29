"""``rlops server`` and ``rlops ui``: the runtime service and the dashboard over HTTP, in the foreground."""

from __future__ import annotations

import click

DEFAULT_PORT = 8765


@click.command("server")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind. Loopback by default; any other address requires the server's token on every "
                   "page and API request (generated once into RLOPS_HOME/server-token, mode 0600, or RLOPS_TOKEN).")
@click.option("-p", "--port", type=click.IntRange(1, 65535), default=DEFAULT_PORT, show_default=True)
@click.option("--database", "database_url", metavar="URL",
              help="The store's database (default RLOPS_DATABASE_URL, else RLOPS_HOME/rlops.db), e.g. "
                   "postgresql+psycopg://user@db-host/rlops.")
@click.option("--allow-path", "allowed", multiple=True, type=click.Path(file_okay=False), metavar="DIR",
              help="A folder besides RLOPS_HOME that requests may have the server write to (jobs' output_path "
                   "and checkpoints, transform results, captured traffic); repeatable.")
def server(host, port, database_url, allowed) -> None:
    """Serve this machine's jobs, endpoints and tuning jobs to a team: a REST API (/api, described at
    /docs) and a dashboard (/jobs) with live reward curves.

    The SDK and the CLI use the server when RLOPS_SERVER names it (or rlops.Session(server=URL)),
    with no other change to user code. Jobs run on the server's machine: their source_dir and
    channels are read there (a shared file system), and what they write must lie under the
    server's RLOPS_HOME, an --allow-path folder, or an s3:// URI.

    \b
    Examples:
      rlops server                                   # on 127.0.0.1:8765, this user's store
      rlops server --host 0.0.0.0 --database postgresql+psycopg://rlops@db/rlops
      RLOPS_SERVER=http://127.0.0.1:8765 rlops jobs list
    """
    run_server(host, port, database_url, allowed)


@click.command("ui")
@click.option("-p", "--port", type=click.IntRange(1, 65535), default=DEFAULT_PORT, show_default=True)
@click.option("--open/--no-open", "open_browser", default=False, help="Open the dashboard in a web browser.")
def ui(port, open_browser) -> None:
    """The dashboard for this machine's store, on http://127.0.0.1:PORT (a local rlops server).

    \b
    Example:
      rlops ui --open
    """
    run_server("127.0.0.1", port, None, (), open_browser)


def run_server(host: str, port: int, database_url: str | None, allowed, open_browser: bool = False) -> None:
    from pathlib import Path

    import uvicorn

    from rlops.auth import is_loopback, server_token, token_path
    from rlops.runtime.local import LocalRuntime
    from rlops.serving.server import check_port
    from rlops.server.app import create_app
    from rlops.settings import rlops_home

    check_port(host, port)
    service = LocalRuntime(database_url)
    service.jobs  # opens the store (checking its schema) and recovers jobs a dead machine left running
    token = None
    if not is_loopback(host):
        token, made = server_token(create=True)
        if made:
            click.echo(f"This server listens on {host}, beyond loopback: requests need its token, shown this once "
                       f"(kept in {token_path()}, mode 0600):\n  {token}", err=True)
    roots = [rlops_home(), *(Path(p).expanduser().resolve() for p in allowed)]
    app = create_app(service, roots, token)
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    click.echo(f"rlops server on {url} (store: {service.location}); dashboard {url}/jobs, API {url}/docs. "
               "Ctrl-C stops.", err=True)
    if open_browser:
        import threading
        import webbrowser

        threading.Timer(1.0, webbrowser.open, [f"{url}/jobs"]).start()
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
