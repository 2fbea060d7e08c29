"""A real Postgres server for the server's tests (Debian's postgresql, started in a folder of its own), and a
headless Chromium driven by Playwright for the dashboard's. In CI both must be there (`make test` installs them);
elsewhere a test that needs a missing one is skipped, saying what to install."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

from tests.serving.conftest import trained  # noqa: F401  (the endpoint form's policy)

ARTIFACTS = Path(os.environ.get("RLOPS_TEST_ARTIFACTS") or Path(__file__).parents[2] / "test-artifacts")


def missing(what: str, install: str):
    message = f"{what} is not installed ({install}; `make test` installs it as root)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def _postgres_bin() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(candidates[-1]).parent if candidates else None


class Postgres:
    """A throwaway Postgres cluster on 127.0.0.1 (trust authentication, no fsync): ``database()`` makes a fresh
    database and returns its SQLAlchemy URL."""

    def __init__(self, bin_dir: Path):
        from rlops.runtime.endpoints import free_port

        self.bin = bin_dir
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="rlops-postgres-"))  # not under pytest's 0700 folders
        self.data = self.folder / "data"
        # Postgres refuses to run as root: as root, the cluster belongs to Debian's postgres user
        self.user = "postgres" if os.geteuid() == 0 else None
        if self.user:
            shutil.chown(self.folder, self.user)
        self.run("initdb", "-D", str(self.data), "-A", "trust", "-U", "rlops", "--no-sync", "-E", "UTF8")
        self.run("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "postgres.log"), "-w", "-t", "60", "-o",
                 f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off "
                 "-c synchronous_commit=off -c full_page_writes=off", "start")

    def run(self, program: str, *args: str) -> None:
        command = [str(self.bin / program), *args]
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, cwd=self.folder)
        if done.returncode:
            raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")

    def database(self) -> str:
        name = f"rlops_{uuid.uuid4().hex[:12]}"
        self.run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "rlops", name)
        return f"postgresql+psycopg://rlops@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        try:
            self.run("pg_ctl", "-D", str(self.data), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres():
    bin_dir = _postgres_bin()
    if bin_dir is None:
        missing("PostgreSQL", "apt-get install postgresql")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        missing("psycopg", "pip install 'psycopg[binary]'")
    server = Postgres(bin_dir)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def chromium():
    """Playwright's Chromium API over Debian's Chromium (Playwright downloads no browser of its own here)."""
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        missing("Chromium", "apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True,
                                             args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()
