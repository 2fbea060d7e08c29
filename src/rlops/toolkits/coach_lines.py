"""Coach's log lines, the Coach experiment CSV and the evaluation summary, shared by every toolkit launcher so
Coach's metric regexes and the notebooks that read Coach's files work unchanged.

The launcher's stdout is the metric channel, so these are ``print``\\ s, flushed at once::

    Training> Name=main_level/agent, Worker=0, Episode=19, Total reward=-102.88, Exploration=0.1, Steps=19019, Training iteration=1
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

AGENT = "Name=main_level/agent, Worker=0"
#: Beside every toolkit's saved model and checkpoints: the preset it was trained with (evaluation mode reads it).
PRESET_FILE = "preset.yaml"


def episode_line(phase: str, episode: int, total_reward: float, exploration: float, steps: int, iteration: int) -> str:
    """One episode, as Coach printed it (``phase`` is ``Heatup``, ``Training`` or ``Testing``)."""
    return (f"{phase}> {AGENT}, Episode={episode}, Total reward={total_reward:.2f}, "
            f"Exploration={exploration:.2f}, Steps={steps}, Training iteration={iteration}")


def emit(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


#: Coach's experiment CSV (SPEC section 7): its file name, and its columns (Coach 0.11's, in order).
COACH_CSV = "worker_0.simple_rl_graph.main_level.main_level.agent_0.csv"
COACH_COLUMNS = ["Episode #", "Training Iter", "In Heatup", "ER #Transitions", "ER #Episodes", "Episode Length",
                 "Total steps", "Epsilon", "Shaped Training Reward", "Training Reward", "Update Target Network",
                 "Wall-Clock Time", "Evaluation Reward", "Shaped Evaluation Reward", "Success Rate"]


class CoachCSV:
    """The experiment CSV Coach notebooks read from ``output/intermediate/``: a row per training episode, and a row
    per evaluation (its mean return under ``Evaluation Reward``), appended and flushed as they happen."""

    def __init__(self, folder: Path):
        import csv
        import time

        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / COACH_CSV
        fresh = not self.path.is_file()
        self._file = open(self.path, "a", newline="")
        self._writer = csv.writer(self._file)
        self._start = time.monotonic()
        if fresh:
            self._writer.writerow(COACH_COLUMNS)
            self._file.flush()

    def _row(self, **values) -> None:
        import time

        values["Wall-Clock Time"] = round(time.monotonic() - self._start, 3)
        self._writer.writerow([values.get(column, "") for column in COACH_COLUMNS])
        self._file.flush()

    def training(self, episode: int, iteration: int, steps: int, length: int, reward: float, epsilon: float,
                 heatup: bool) -> None:
        self._row(**{"Episode #": episode, "Training Iter": iteration, "In Heatup": int(heatup), "Episode Length": length,
                     "Total steps": steps, "Epsilon": epsilon, "Shaped Training Reward": reward,
                     "Training Reward": reward, "Update Target Network": 0})

    def evaluation(self, episode: int, iteration: int, steps: int, mean_return: float) -> None:
        self._row(**{"Episode #": episode, "Training Iter": iteration, "In Heatup": 0, "Total steps": steps,
                     "Evaluation Reward": mean_return, "Shaped Evaluation Reward": mean_return})

    def close(self) -> None:
        self._file.close()


@dataclass
class Summary:
    episodes: int
    mean: float
    std: float
    min: float
    max: float
    returns: list[float]
    lengths: list[int]

    def line(self, steps: int | None = None) -> str:
        at = f", training steps={steps}" if steps is not None else ""
        return (f"Evaluation summary> episodes={self.episodes}, mean return={self.mean:.2f}, std={self.std:.2f}, "
                f"min={self.min:.2f}, max={self.max:.2f}{at}")


def write_summary(summary: Summary, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "evaluation.json").write_text(json.dumps(asdict(summary), indent=2))
