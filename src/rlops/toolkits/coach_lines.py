"""Coach's log lines, printed by every toolkit launcher so Coach's metric regexes work unchanged.

The launcher's stdout is the metric channel, so these are ``print``\\ s, flushed at once::

    Training> Name=main_level/agent, Worker=0, Episode=19, Total reward=-102.88, Exploration=0.1, Steps=19019, Training iteration=1
"""

from __future__ import annotations

import sys

AGENT = "Name=main_level/agent, Worker=0"


def episode_line(phase: str, episode: int, total_reward: float, exploration: float, steps: int, iteration: int) -> str:
    """One episode, as Coach printed it (``phase`` is ``Heatup``, ``Training`` or ``Testing``)."""
    return (f"{phase}> {AGENT}, Episode={episode}, Total reward={total_reward:.2f}, "
            f"Exploration={exploration:.2f}, Steps={steps}, Training iteration={iteration}")


def emit(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()
