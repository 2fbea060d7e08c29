"""A warm stand-in for a spot-style job's next attempt: ``python -m rlops.runtime.standby -- python SCRIPT ARGS``.

Starting a training script costs seconds before its first step (Python, then PyTorch and the toolkit
imported); an interrupted job would pay them at every restart. The supervisor of a spot-style job
keeps one of these beside each running host, with the host's environment: it imports the modules
``RLOPS_STANDBY_PRELOAD`` names (commas between them; ones that fail are skipped) in Linux's idle
scheduling class, on CPU time the attempt running beside it leaves (on a busy machine, a process that
takes a core away slows PyTorch's threads far more than the core's share), then waits for one byte
on its standard input. ``g`` runs the command as ``python SCRIPT ARGS`` would (``__main__``,
``sys.argv``, ``sys.path[0]``, in the folder ``RLOPS_STANDBY_CWD``, made again by the restart); end of
input (the job ended, or the machine did) exits quietly.
"""

from __future__ import annotations

import importlib
import os
import runpy
import sys

PRELOAD_ENV = "RLOPS_STANDBY_PRELOAD"
CWD_ENV = "RLOPS_STANDBY_CWD"
GO = b"g"
#: What a stand-in imports before it is needed, by toolkit: the seconds a restart would otherwise spend.
#: ``torch._dynamo`` is imported by PyTorch's optimisers at their first step (1.5 s here), not by ``import torch``.
_TORCH = ("numpy", "torch", "torch._dynamo", "gymnasium")
PRELOAD = {
    "sb3": (*_TORCH, "stable_baselines3", "sb3_contrib", "rlops.toolkits.sb3.training"),
    "coach": (*_TORCH, "stable_baselines3", "rlops.toolkits.sb3.training"),
    "fast": (*_TORCH, "rlops.toolkits.fast.training"),
    "offline": (*_TORCH, "rlops.toolkits.offline.training"),
}


def standby_command(command: list[str], toolkit: str | None, cwd, env: dict[str, str]) -> tuple[list[str], dict]:
    """``(argv, environment)`` of a stand-in for the host ``command`` of a job of ``toolkit``, run in ``cwd``."""
    return ([sys.executable, "-m", "rlops.runtime.standby", "--", *command],
            {**env, PRELOAD_ENV: ",".join(PRELOAD.get(toolkit or "", ())), CWD_ENV: str(cwd)})


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[0] != "--":
        print("usage: python -m rlops.runtime.standby -- python SCRIPT [ARGS...]", file=sys.stderr)
        return 2
    _, script, *args = argv[1:]
    policy, priority = os.sched_getscheduler(0), os.getpriority(os.PRIO_PROCESS, 0)
    os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))  # only what the running attempt leaves idle
    for name in filter(None, os.environ.get(PRELOAD_ENV, "").split(",")):
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a module the job may not even use: the script imports what it needs
            pass
    if sys.stdin.buffer.read(1) != GO:
        return 0
    try:  # back to the host's scheduling (Linux lets a process leave SCHED_IDLE within its RLIMIT_NICE)
        os.sched_setscheduler(0, policy, os.sched_param(0))
        os.setpriority(os.PRIO_PROCESS, 0, priority)
    except PermissionError:
        print("rlops: this attempt could not leave the idle scheduling class it was prepared in; it runs, but only "
              "on CPU time nothing else wants (raise RLIMIT_NICE to let it)", file=sys.stderr, flush=True)
    os.chdir(os.environ.get(CWD_ENV) or os.path.dirname(script))
    sys.argv = [script, *args]
    sys.path[0] = os.path.dirname(os.path.abspath(script))
    runpy.run_path(script, run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
