"""The Stable-Baselines3 toolkit: presets, Coach-style logs, checkpoints and portable policies.

``from rlops.toolkits.sb3 import SB3Launcher`` in a training script; see :mod:`.launcher`.
The launcher (and with it SB3 and PyTorch) loads on first use, so reading presets stays quick.
"""

from pathlib import Path

#: The entry point of SB3 jobs that name a preset and no script.
BUILTIN_ENTRY_POINT = Path(__file__).with_name("entry") / "rlops_sb3_train.py"

__all__ = ["BUILTIN_ENTRY_POINT", "JobContext", "SB3Launcher"]


def __getattr__(name):
    if name in ("JobContext", "SB3Launcher"):
        from rlops.toolkits.sb3 import launcher

        return getattr(launcher, name)
    raise AttributeError(name)
