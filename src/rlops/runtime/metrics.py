"""Metric extraction: a job's metric definitions applied to each line of its log."""

from __future__ import annotations

import math
import re
import time
from typing import Iterable

from rlops.exceptions import UsageError
from rlops.records import MetricPoint


def compile_definitions(definitions: Iterable[dict]) -> list[tuple[str, re.Pattern]]:
    """Check ``[{"Name": ..., "Regex": ...}]`` and compile each regex."""
    compiled = []
    for i, definition in enumerate(definitions):
        if not isinstance(definition, dict) or set(definition) != {"Name", "Regex"}:
            raise UsageError(
                f"metric_definitions[{i}] is {definition!r}; each definition is a dict with exactly the keys "
                "'Name' and 'Regex', e.g. {'Name': 'reward', 'Regex': 'reward=([0-9.]+)'}."
            )
        try:
            pattern = re.compile(definition["Regex"])
        except re.error as exc:
            raise UsageError(f"metric_definitions[{i}] ({definition['Name']!r}) has an invalid regex: {exc}") from None
        if pattern.groups < 1:
            raise UsageError(
                f"metric_definitions[{i}] ({definition['Name']!r}) regex {definition['Regex']!r} has no capture "
                "group; the value is the first group, e.g. 'loss=(.*?),'."
            )
        compiled.append((definition["Name"], pattern))
    return compiled


class MetricExtractor:
    """Turns log lines into metric data points (the first capture group of each match)."""

    def __init__(self, definitions: Iterable[dict]):
        self.patterns = compile_definitions(definitions)

    def extract(self, line: str, host: str | None = None, now: float | None = None) -> list[MetricPoint]:
        points = []
        for name, pattern in self.patterns:
            match = pattern.search(line)
            if not match:
                continue
            try:
                value = float(match.group(1))
            except (TypeError, ValueError):
                continue
            if math.isfinite(value):
                points.append(MetricPoint(name, value, now or time.time(), host))
        return points
