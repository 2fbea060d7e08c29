"""Hostile input: archives whose members try to escape, names that try to become paths. Nothing lands outside
its folder, nothing half-unpacked is left, and every refusal names what was wrong."""

from __future__ import annotations

import io
import random
import string
import tarfile
from pathlib import Path

import pytest

from rlops.storage.archives import UnreadableArchive, UnsafeArchive, unpack

SEGMENTS = ["..", ".", "a", "b", "", "/", "\\", "x" * 120, "C:", "~", "...", "etc", "passwd", "%2e%2e", "\x00"]
KINDS = ["file", "file", "dir", "symlink", "hardlink", "fifo", "chardev", "big"]


def member_name(rng: random.Random) -> str:
    return "/".join(rng.choice(SEGMENTS) for _ in range(rng.randint(1, 5)))


def archive(rng: random.Random, count: int) -> bytes:
    """A tarball of ``count`` random members, many of them hostile."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.GNU_FORMAT) as tar:
        for _ in range(count):
            kind = rng.choice(KINDS)
            info = tarfile.TarInfo(member_name(rng) if rng.random() < 0.7 else f"ok/{rng.randint(0, 9)}.txt")
            data = b""
            if kind in ("file", "big"):
                data = rng.randbytes(5000 if kind == "big" else rng.randint(0, 50))
                info.size = len(data)
            elif kind == "dir":
                info.type = tarfile.DIRTYPE
            elif kind in ("symlink", "hardlink"):
                info.type = tarfile.SYMTYPE if kind == "symlink" else tarfile.LNKTYPE
                info.linkname = rng.choice(["../../outside/secret", "/etc/passwd", "ok/0.txt", member_name(rng)])
            elif kind == "fifo":
                info.type = tarfile.FIFOTYPE
            else:
                info.type, info.devmajor, info.devminor = tarfile.CHRTYPE, 1, 3
            try:
                tar.addfile(info, io.BytesIO(data) if data else None)
            except (ValueError, UnicodeError):  # a name tar itself cannot write: not a member we can test
                continue
    return buffer.getvalue()


def test_a_thousand_hostile_archive_members_never_escape(tmp_path, monkeypatch):
    monkeypatch.setenv("RLOPS_MAX_ARCHIVE_BYTES", "20000")  # so that "big" members trip the size limit
    rng = random.Random(20261125)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("keep")
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    members = refused = unpacked = 0
    case = 0
    while members < 1000:
        case += 1
        path = tmp_path / f"case-{case}.tar.gz"
        count = rng.randint(1, 6)
        path.write_bytes(archive(rng, count))
        with tarfile.open(path) as tar:
            members += len(tar.getmembers())
        target = tmp_path / "work" / f"target-{case}"
        try:
            unpack(path, target)
            unpacked += 1
        except UnsafeArchive as exc:
            refused += 1
            assert str(path) in str(exc) and ("member" in str(exc) or "add up to" in str(exc))
            assert not target.exists()  # refused before anything is written
        except UnreadableArchive:
            refused += 1
        if target.exists():
            for item in target.rglob("*"):
                assert not item.is_symlink(), item
                assert item.resolve().is_relative_to(target.resolve()), item
                assert item.is_file() or item.is_dir(), item
        path.unlink()
    after = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if not p.is_relative_to(tmp_path / "work"))
    assert after == before and (outside / "secret").read_text() == "keep"  # 0 escapes
    assert refused > 100 and unpacked > 10  # both kinds were exercised


def test_names_that_reach_the_disk_are_checked(tmp_path):
    from rlops.contract import encode_hyperparameters, validate_channel_name, validate_name
    from rlops.exceptions import RlopsError

    rng = random.Random(5)
    alphabet = string.ascii_letters + string.digits + "-_./\\:\x00 ~%"
    checks = [validate_name, validate_channel_name, lambda name: encode_hyperparameters({name: 1})]
    accepted = 0
    for _ in range(3000):
        name = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 300)))
        if rng.random() < 0.3:
            name = rng.choice(["..", ".", "../x", "a/../../b", "/etc", "a\\b", "x" * 400]) 
        for check in checks:
            try:
                check(name)
            except RlopsError as exc:
                assert repr(name[:80])[:40].strip("'\"")[:10] in str(exc) or len(name) > 80
                continue
            accepted += 1
            assert "/" not in name and "\\" not in name and "\x00" not in name and name not in (".", "..")
            assert len(name) <= 256
    assert accepted > 0
    for bad in ("..", ".", "a/b"):
        with pytest.raises(RlopsError):
            validate_channel_name(bad)
    with pytest.raises(RlopsError, match="at most 256 characters"):
        encode_hyperparameters({"k" * 257: 1})


def test_a_refused_archive_leaves_nothing_half_written(tmp_path):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name in ("model/policy.json", "model/../../escape.txt"):
            info = tarfile.TarInfo(name)
            info.size = 2
            tar.addfile(info, io.BytesIO(b"{}"))
    path = tmp_path / "model.tar.gz"
    path.write_bytes(buffer.getvalue())
    with pytest.raises(UnsafeArchive, match=r"member 'model/../../escape.txt' climbs out of the target folder"):
        unpack(path, tmp_path / "target")
    assert not (tmp_path / "target").exists() and not Path(tmp_path.parent / "escape.txt").exists()
