"""The reliability suite: short under ``make test``, long under ``make soak`` (``RLOPS_SOAK=1``).

Each test takes its sizes from :func:`size`: the short run keeps the whole suite within a few minutes on
2 cores, the soak run uses the numbers the reliability issue names (20 kills, 100 jobs, 60 s of load).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import psutil
import pytest

SOAK = os.environ.get("RLOPS_SOAK", "") not in ("", "0")
SCRIPTS = Path(__file__).parent / "scripts"


def size(short, soak):
    return soak if SOAK else short


def pytest_collection_modifyitems(items):
    for item in items:
        if Path(str(item.fspath)).parent == Path(__file__).parent:
            item.add_marker(pytest.mark.reliability)
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def counter_job(tmp_path):
    """A spot-style job running ``counter.py`` (``steps`` steps, a checkpoint every ``every``)."""
    from rlops.rl import RLEstimator

    def make(steps: int, every: int, step_seconds: float = 0.01, spot: bool = True, **kwargs):
        kwargs.setdefault("max_run", 3600)
        if spot:
            kwargs.setdefault("max_wait", 7200)
            kwargs.setdefault("checkpoint_s3_uri", (tmp_path / "checkpoints").as_uri())
        estimator = RLEstimator(entry_point="counter.py", source_dir=str(SCRIPTS), toolkit="sb3",
                                output_path=str(tmp_path / "output"), use_spot_instances=spot,
                                hyperparameters={"steps": steps, "every": every, "step-seconds": step_seconds},
                                **kwargs)
        estimator.fit(wait=False)
        return estimator

    return make


def host_processes(job_name: str) -> list[psutil.Process]:
    """The job's host processes (its training scripts), children of its supervisor."""
    from rlops.store import JobStore

    job = JobStore().get(job_name)
    try:
        return [c for c in psutil.Process(job.supervisor_pid).children() if c.status() != psutil.STATUS_ZOMBIE]
    except (psutil.Error, TypeError, ValueError):
        return []


def attempts(log: str) -> list[tuple[int, int | None]]:
    """``(step resumed at, last step printed)`` of each attempt of a counter job, from its log."""
    result = []
    for chunk in re.split(r"^resumed at step ", log, flags=re.M)[1:]:
        start = int(chunk.split("\n", 1)[0])
        steps = [int(s) for s in re.findall(r"^step (\d+)$", chunk, flags=re.M)]
        result.append((start, steps[-1] if steps else None))
    return result


def final_state(job) -> dict:
    """The counter's model (``model.json``) of a finished job."""
    import tarfile

    from rlops.storage import resolve_uri

    with tarfile.open(resolve_uri(job.model_artifacts)) as archive:
        return json.loads(archive.extractfile("model.json").read())
