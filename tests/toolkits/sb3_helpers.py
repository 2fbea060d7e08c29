"""Running the SB3 launcher in-process against a job layout under tmp_path."""

from __future__ import annotations

import contextlib
import io
import sys
from pathlib import Path

from rlops.toolkits.sb3.launcher import JobContext, SB3Launcher

SCRIPTS = Path(__file__).parent.parent / "scripts"


def context(tmp_path: Path, hyperparameters: dict, channels: dict | None = None, name: str = "job") -> JobContext:
    base = tmp_path / name
    ctx = JobContext(
        hyperparameters=hyperparameters, model_dir=base / "model", output_data_dir=base / "output" / "data",
        intermediate_dir=base / "output" / "intermediate", checkpoint_dir=base / "checkpoints", code_dir=SCRIPTS,
        channels=channels or {}, num_cpus=1,
    )
    for folder in (ctx.model_dir, ctx.output_data_dir, ctx.intermediate_dir):
        folder.mkdir(parents=True, exist_ok=True)
    return ctx


def run(ctx: JobContext, launcher_cls=SB3Launcher) -> str:
    """Run the launcher; returns what it printed."""
    if str(SCRIPTS) not in sys.path:
        sys.path.insert(0, str(SCRIPTS))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        launcher_cls(ctx).run()
    return out.getvalue()
