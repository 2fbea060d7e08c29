"""Where job inputs and outputs live: paths and ``file://`` URIs, folders and ``.tar.gz`` files.

rlops stores to the local file system (a shared mount serves several machines). Every write of
an artifact goes to a temporary name first and is renamed into place, so a reader never sees
half an archive.
"""

from __future__ import annotations

import os
import shutil
import tarfile
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlparse

from rlops.exceptions import UsageError

SUPPORTED = "a local path or a file:// URI"


def resolve_uri(uri: str | os.PathLike, what: str = "path") -> Path:
    """The absolute local path that ``uri`` names.

    >>> resolve_uri("file:///tmp/data")
    PosixPath('/tmp/data')
    """
    text = os.fspath(uri)
    parsed = urlparse(text)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path)).resolve()
    if parsed.scheme and len(parsed.scheme) > 1:  # one letter would be a Windows drive
        raise UsageError(
            f"The {what} {text!r} uses the {parsed.scheme}:// scheme, which rlops cannot read or write here. "
            f"Use {SUPPORTED} (copy remote data to a local folder first)."
        )
    return Path(text).expanduser().resolve()


def to_uri(path: Path) -> str:
    return path.resolve().as_uri()


def is_tarball(path: Path) -> bool:
    return path.is_file() and (path.name.endswith((".tar.gz", ".tgz", ".tar")))


def fill_channel(source: Path, target: Path) -> None:
    """Put a channel's contents in ``target``: a folder's files, an archive unpacked, or a file."""
    target.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, target, dirs_exist_ok=True, symlinks=True)
    elif is_tarball(source):
        with tarfile.open(source) as archive:
            archive.extractall(target, filter="data")
    else:
        shutil.copy2(source, target / source.name)


def pack(folders: list[Path], archive: Path) -> None:
    """Write the merged contents of ``folders`` to the gzip tarball ``archive``, atomically."""
    archive.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{archive.name}.", dir=archive.parent)
    os.close(fd)
    try:
        with tarfile.open(tmp, "w:gz", compresslevel=6) as tar:
            added: set[str] = set()
            for folder in folders:
                if not folder.is_dir():
                    continue
                for path in sorted(folder.rglob("*")):
                    name = path.relative_to(folder).as_posix()
                    if name in added:
                        continue  # several hosts wrote the same file: the first host's copy wins
                    added.add(name)
                    tar.add(path, arcname=name, recursive=False)
        os.replace(tmp, archive)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def sync_tree(source: Path, target: Path) -> int:
    """Copy files new or changed in ``source`` to ``target`` (size or mtime differ). Returns how many.

    Each file is copied under a temporary name and renamed, so a job resuming from ``target``
    never reads a half-copied checkpoint.
    """
    if not source.is_dir():
        return 0
    copied = 0
    for path in source.rglob("*"):
        if not path.is_file() or path.name.startswith(".rlops-tmp-"):
            continue
        dest = target / path.relative_to(source)
        try:
            stat = path.stat()
            if dest.exists():
                dstat = dest.stat()
                if dstat.st_size == stat.st_size and int(dstat.st_mtime) == int(stat.st_mtime):
                    continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_name(f".rlops-tmp-{dest.name}")
            shutil.copy2(path, tmp)
            os.replace(tmp, dest)
            copied += 1
        except FileNotFoundError:
            continue  # the job deleted it while we looked (an old checkpoint rotated out)
    return copied
