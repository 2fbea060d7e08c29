"""Moving a job's files: filling input channels, and syncing checkpoints and intermediate output.

Every copy is atomic per file (:mod:`rlops.storage.atomic`), so a job resuming from a checkpoint
folder never reads a half-copied file.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from rlops.storage import copy_file, is_archive, unpack
from rlops.storage.atomic import is_temporary


def fill_channel(source: Path, target: Path) -> None:
    """Put a channel's contents in ``target``: a folder's files, an archive unpacked, or a file."""
    target.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, target, dirs_exist_ok=True, symlinks=True)
    elif is_archive(source):
        unpack(source, target)
    else:
        shutil.copy2(source, target / source.name)


def sync_tree(source: Path, target: Path) -> int:
    """Copy files new or changed in ``source`` to ``target`` (size or mtime differ). Returns how many."""
    if not source.is_dir():
        return 0
    copied = 0
    for path in source.rglob("*"):
        if not path.is_file() or is_temporary(path):
            continue
        dest = target / path.relative_to(source)
        try:
            stat = path.stat()
            if dest.exists():
                dstat = dest.stat()
                if dstat.st_size == stat.st_size and int(dstat.st_mtime) == int(stat.st_mtime):
                    continue
            copy_file(path, dest)
            copied += 1
        except FileNotFoundError:
            continue  # the job deleted it while we looked (an old checkpoint rotated out)
    return copied
