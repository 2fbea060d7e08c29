"""Writes that a reader never sees half done: write under a temporary name, then rename.

A rename within one folder is atomic on POSIX file systems, so a job resuming from a checkpoint,
a follower reading an archive or a server loading a manifest sees either the old file or the
new one, never a torn one; a write that fails leaves no temporary file behind.

>>> with atomic_path(Path("/tmp/answers.jsonl")) as tmp:     # doctest: +SKIP
...     tmp.write_text("...")                                 # renamed into place on success
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

#: Temporary files start with this, so that folder copies can skip them.
TMP_PREFIX = ".rlops-tmp-"


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """A temporary path beside ``target``, renamed to ``target`` when the block succeeds."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f"{TMP_PREFIX}{target.name}.", dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text(target: Path, text: str) -> None:
    """Write ``text`` to ``target`` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_text(text)


def copy_file(source: Path, target: Path) -> None:
    """Copy ``source`` (with its times) to ``target`` atomically."""
    with atomic_path(target) as tmp:
        shutil.copy2(source, tmp)


def is_temporary(path: Path) -> bool:
    return path.name.startswith(TMP_PREFIX)
