"""Checkpoints as one file per save, named by the step it was taken at (``fast-checkpoint-4096.pt``): how the fast
engine and the offline presets keep theirs.

A checkpoint is written under a temporary name and renamed (:func:`rlops.storage.atomic.atomic_path`, whose
temporary files checkpoint syncing skips), so it is complete or absent; the older ones are dropped only after
that, keeping the newest ``keep`` (at least 1). A resuming job takes the newest that loads, skipping one that
does not with a warning naming it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from rlops.storage.atomic import atomic_path
from rlops.toolkits.coach_lines import emit


def numbered(folder: Path | None, pattern: str) -> list[tuple[int, Path]]:
    """``(steps, file)`` of the checkpoints ``pattern`` (with ``{steps}``) names in ``folder``, newest first."""
    if folder is None or not folder.is_dir():
        return []
    before, after = pattern.split("{steps}")
    found = []
    for path in folder.glob(pattern.format(steps="*")):
        digits = path.name[len(before):len(path.name) - len(after)]
        if digits.isdigit():
            found.append((int(digits), path))
    return sorted(found, reverse=True)


def save_numbered(folder: Path, pattern: str, steps: int, write: Callable[[Path], None], keep: int) -> Path:
    """Write the checkpoint at ``steps`` with ``write(path)``, then drop all but the newest ``max(1, keep)``."""
    path = folder / pattern.format(steps=steps)
    with atomic_path(path) as tmp:
        write(tmp)
    for _, stale in numbered(folder, pattern)[max(1, keep):]:
        stale.unlink(missing_ok=True)
    return path


def load_newest(folder: Path | None, pattern: str, load: Callable[[Path], Any]) -> tuple[int, Path, Any] | None:
    """``(steps, file, load(file))`` of the newest checkpoint that loads, or None."""
    for steps, path in numbered(folder, pattern):
        try:
            return steps, path, load(path)
        except Exception as exc:  # noqa: BLE001 - cut short or damaged: the one before it
            emit(f"Warning: skipping the unreadable checkpoint {path.name} ({type(exc).__name__}: {str(exc)[:200]})")
    return None
