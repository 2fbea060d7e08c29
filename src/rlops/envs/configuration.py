"""Turning an environment's keyword arguments into its frozen config dataclass."""

from __future__ import annotations

from dataclasses import fields
from typing import Any, TypeVar

T = TypeVar("T")


def build_config(config_class: type[T], label: str, arguments: dict[str, Any]) -> T:
    """``config_class(**arguments)``, with an unknown argument named alongside the accepted ones."""
    known = {f.name for f in fields(config_class)}
    unknown = sorted(set(arguments) - known)
    if unknown:
        raise TypeError(f"Unknown {label} config {unknown[0]!r}. Accepted: {', '.join(sorted(known))}.")
    return config_class(**arguments)
