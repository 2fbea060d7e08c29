"""Coach's ``rl_coach.logger``: ``screen`` prints plain lines to the job's log."""

from __future__ import annotations

from rlops.toolkits.coach.launcher import get_experiment_name  # noqa: F401  (Coach's name)

experiment_path = "/opt/ml/output/intermediate"


class ScreenLogger:
    def __init__(self):
        self.use_colors = False

    def set_use_colors(self, use_colors: bool) -> None:
        self.use_colors = use_colors

    def log(self, data) -> None:
        print(data, flush=True)

    def log_dict(self, data: dict, prefix: str = "") -> None:
        print(f"{prefix}> " + ", ".join(f"{k}={v}" for k, v in data.items()), flush=True)

    def log_title(self, title: str) -> None:
        print(f"## {title}", flush=True)

    def success(self, text: str) -> None:
        print(text, flush=True)

    def warning(self, text: str) -> None:
        print(f"Warning: {text}", flush=True)

    def error(self, text: str, crash: bool = True) -> None:
        if crash:
            raise RuntimeError(text)
        print(f"Error: {text}", flush=True)

    def ask_yes_no(self, title: str, default: bool = True) -> bool:
        return default


screen = ScreenLogger()
