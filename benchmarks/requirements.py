"""What a benchmark needs beyond rlops itself, checked before it starts.

A benchmark that lacks its peer (FastAPI for the endpoint benchmark, wrk for load) stops with
one line naming what is missing and how to get it, instead of a traceback halfway through.
``make bench`` installs the ``rlops[bench]`` extra.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys

INSTALL_HINT = "pip install -c constraints.txt -e '.[bench]' (or run `make bench`)"


def require(modules: tuple[str, ...] = (), programs: dict[str, str] | None = None) -> None:
    """Exit with one line if a Python module or a program on PATH is missing."""
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        sys.exit(f"{sys.argv[0]} needs the Python package(s) {', '.join(missing)}: {INSTALL_HINT}.")
    for program, install in (programs or {}).items():
        if shutil.which(program) is None:
            sys.exit(f"{sys.argv[0]} needs the program {program!r}: {install}.")
