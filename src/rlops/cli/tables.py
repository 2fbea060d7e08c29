"""Plain-text tables and values for people; ``--json`` output for scripts."""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any, Sequence

import click


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Left-aligned columns separated by two spaces, numbers right-aligned."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(h)] + [len(click.unstyle(r[i])) for r in cells]) for i, h in enumerate(headers)]
    numeric = [bool(rows) and all(isinstance(r[i], (int, float)) or r[i] is None for r in rows) for i in range(len(headers))]

    def line(values):
        padded = []
        for value, width, num in zip(values, widths, numeric):
            pad = " " * (width - len(click.unstyle(value)))
            padded.append(pad + value if num else value + pad)
        return "  ".join(padded).rstrip()

    return "\n".join([click.style(line(headers), bold=True), *(line(r) for r in cells)])


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def when(timestamp: float | None) -> str:
    """``2026-11-23 15:04:05 (3m ago)``"""
    if timestamp is None:
        return "-"
    return f"{time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(timestamp))} ({duration(time.time() - timestamp)} ago)"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    seconds = int(max(0, seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def status_color(status: str) -> str:
    colors = {"Completed": "green", "Failed": "red", "Stopped": "yellow", "Stopping": "yellow", "InProgress": "cyan"}
    return click.style(status, fg=colors.get(status))


def dump_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=_json_default))


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
