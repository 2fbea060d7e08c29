"""A benchmark missing its peer says so in one line, naming it and how to install it."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).parents[2] / "benchmarks"


def load_requirements():
    spec = importlib.util.spec_from_file_location("bench_requirements", BENCHMARKS / "requirements.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_missing_package_or_program_is_one_line():
    require = load_requirements().require
    with pytest.raises(SystemExit) as missing:
        require(modules=("json", "no_such_peer_package"))
    message = str(missing.value)
    assert "package(s) no_such_peer_package:" in message  # only what is missing is named
    assert "make bench" in message and "\n" not in message
    with pytest.raises(SystemExit, match="needs the program 'no-such-wrk': apt-get install wrk"):
        require(programs={"no-such-wrk": "apt-get install wrk"})
    require(modules=("json",), programs={sys.executable: "-"})  # present: no exit


@pytest.mark.slow
def test_endpoint_benchmark_stops_before_a_traceback_without_its_peers(tmp_path):
    # A PATH with only the interpreter: wrk is missing (FastAPI may be, too); either way one line, no traceback.
    env = {"PATH": str(Path(sys.executable).parent), "HOME": str(tmp_path)}
    proc = subprocess.run([sys.executable, str(BENCHMARKS / "endpoint.py")], env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "needs" in proc.stderr
