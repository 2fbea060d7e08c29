"""A real Postgres server for the server's tests (Debian's postgresql, started in a folder of its own), and a
headless Chromium driven by Playwright for the dashboard's. In CI both must be there (`make test` installs them);
elsewhere a test that needs a missing one is skipped, saying what to install."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.server.postgres import Postgres, postgres_bin
from tests.serving.conftest import trained  # noqa: F401  (the endpoint form's policy)

ARTIFACTS = Path(os.environ.get("RLOPS_TEST_ARTIFACTS") or Path(__file__).parents[2] / "test-artifacts")


def missing(what: str, install: str):
    message = f"{what} is not installed ({install}; `make test` installs it as root)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres():
    bin_dir = postgres_bin()
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
