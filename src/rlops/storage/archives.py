"""``.tar.gz`` archives: packed atomically, unpacked only when every member is safe.

An archive handed to rlops (a ``model.tar.gz`` to deploy, a channel's input, a model channel
to evaluate) may come from anywhere. :func:`unpack` checks every member before it writes
anything: a member must be a plain file or folder whose name stays inside the target folder.
Absolute names, ``..`` and links (symbolic or hard) and device files are refused with
:class:`UnsafeArchive`, naming the member; so is an archive whose members add up to more than
``RLOPS_MAX_ARCHIVE_BYTES`` (20 GiB by default) or number more than ``RLOPS_MAX_ARCHIVE_MEMBERS``
(1,000,000), before anything is written (a small archive that unpacks to fill the disk).

>>> pack([Path("model")], Path("out/model.tar.gz"))           # doctest: +SKIP
>>> unpack(Path("out/model.tar.gz"), Path("serving/model"))   # doctest: +SKIP
"""

from __future__ import annotations

import os
import shutil
import tarfile
import tempfile
from pathlib import Path, PurePosixPath

from rlops.exceptions import UsageError
from rlops.storage.atomic import atomic_path

SUFFIXES = (".tar.gz", ".tgz", ".tar")
MAX_BYTES = 20 * 2 ** 30
MAX_MEMBERS = 1_000_000


def _limit(name: str, default: int) -> int:
    value = os.environ.get(name)
    try:
        return int(value) if value else default
    except ValueError:
        raise UsageError(f"{name} is a whole number; got {value!r}.") from None


class UnsafeArchive(UsageError):
    """An archive whose members would land outside the target folder, or that holds links."""


class UnreadableArchive(UsageError):
    """A file that is not a tar archive (or is truncated)."""


def is_archive(path: Path) -> bool:
    return Path(path).is_file() and Path(path).name.endswith(SUFFIXES)


def pack(folders: list[Path], archive: Path, prefix: str = "") -> None:
    """Write the merged contents of ``folders`` to the gzip tarball ``archive``, atomically, each member under
    ``prefix/`` when one is given.

    A file present in several folders is taken from the first (several hosts wrote it).
    """
    with atomic_path(archive) as tmp, tarfile.open(tmp, "w:gz", compresslevel=6) as tar:
        added: set[str] = set()
        for folder in folders:
            if not folder.is_dir():
                continue
            for path in sorted(folder.rglob("*")):
                name = path.relative_to(folder).as_posix()
                if name not in added:
                    added.add(name)
                    tar.add(path, arcname=f"{prefix}/{name}" if prefix else name, recursive=False)


def unpack(archive: Path, target: Path) -> Path:
    """Extract ``archive`` into ``target`` after checking every member; returns ``target``.

    Nothing is written when a member is refused or the archive cannot be read.
    """
    try:
        with tarfile.open(archive) as tar:
            most_members = _limit("RLOPS_MAX_ARCHIVE_MEMBERS", MAX_MEMBERS)
            members, total = [], 0
            for member in tar:  # read one at a time: a bomb of empty members stops at the limit
                _check(member, archive)
                members.append(member)
                total += member.size
                if len(members) > most_members:
                    raise UnsafeArchive(f"Refused to unpack {archive}: it has more than {most_members:,} members "
                                        "(RLOPS_MAX_ARCHIVE_MEMBERS raises the limit).")
            most_bytes = _limit("RLOPS_MAX_ARCHIVE_BYTES", MAX_BYTES)
            if total > most_bytes:
                raise UnsafeArchive(f"Refused to unpack {archive}: its members add up to {total:,} bytes, more than "
                                    f"the limit of {most_bytes:,} (RLOPS_MAX_ARCHIVE_BYTES raises it).")
            _extract(tar, members, target, archive)
    except tarfile.TarError as exc:
        reason = str(exc).splitlines()[0].rstrip(":")
        raise UnreadableArchive(f"{archive} is not a readable archive ({reason}); expected a .tar.gz file.") from None
    return target


def _extract(tar: tarfile.TarFile, members: list[tarfile.TarInfo], target: Path, archive: Path) -> None:
    """Extract into a staging folder beside ``target``, then move it in: a failure part way (a member that clashes
    with another, a full disk) leaves ``target`` as it was."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.unpacking-", dir=target.parent))
    try:
        try:
            tar.extractall(staging, members=members, filter="data")
        except (OSError, tarfile.FilterError) as exc:
            raise UnsafeArchive(f"Refused to unpack {archive}: a member could not be written ({type(exc).__name__}: "
                                f"{exc}). Nothing was unpacked.") from None
        if not target.exists():
            staging.rename(target)
        else:
            shutil.copytree(staging, target, dirs_exist_ok=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _check(member: tarfile.TarInfo, archive: Path) -> None:
    name = member.name
    path = PurePosixPath(name)
    if path.is_absolute() or name.startswith("\\") or (len(name) > 1 and name[1] == ":"):
        problem = "has an absolute path"
    elif not member.isdir() and not [p for p in path.parts if p != "."]:
        problem = "has no name (it would be the target folder itself)"
    elif ".." in path.parts:
        problem = "climbs out of the target folder with '..'"
    elif member.issym() or member.islnk():
        problem = f"is a {'symbolic' if member.issym() else 'hard'} link (to {member.linkname!r})"
    elif not (member.isfile() or member.isdir()):
        problem = "is not a plain file or folder (a device, a pipe or similar)"
    else:
        return
    raise UnsafeArchive(
        f"Refused to unpack {archive}: its member {name!r} {problem}. An archive rlops unpacks may hold only "
        "plain files and folders with relative paths inside it (as the model.tar.gz of an rlops job does)."
    )
