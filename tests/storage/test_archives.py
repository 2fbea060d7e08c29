"""Archives from outside are unpacked only when safe, by every path that unpacks one.

Each malicious ``model.tar.gz`` holds a real-looking ``policy.json`` and one member that would
land outside the target folder (``../``, an absolute path) or that is a link. Every place rlops
unpacks an archive must refuse it, name the member and leave nothing behind.
"""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from rlops.cli.main import cli
from rlops.exceptions import UsageError
from rlops.model import Model
from rlops.policies.manifest import FORMAT, FORMAT_VERSION
from rlops.policies.portable import PortablePolicy, copy_policy, policy_folder
from rlops.runtime.transfer import fill_channel
from rlops.serving.edge import export_for_device
from rlops.session import Session
from rlops.storage import UnsafeArchive, pack, unpack
from rlops.toolkits.sb3.evaluation import located_policy

MANIFEST = json.dumps({"format": FORMAT, "format_version": FORMAT_VERSION, "onnx": "policy.onnx",
                       "observation_space": {}, "action_space": {}, "inputs": [], "outputs": []}).encode()


def _file(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def _link(tar: tarfile.TarFile, name: str, target: str, kind: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    tar.addfile(info)


BAD_MEMBERS = {
    "parent": (lambda tar, outside: _file(tar, "../escaped.txt", b"pwned"), "'../escaped.txt'", "'..'"),
    "absolute": (lambda tar, outside: _file(tar, str(outside / "escaped.txt"), b"pwned"), "escaped.txt",
                 "absolute path"),
    "symlink": (lambda tar, outside: _link(tar, "policy.onnx", str(outside / "secret"), tarfile.SYMTYPE),
                "'policy.onnx'", "symbolic link"),
    "hardlink": (lambda tar, outside: _link(tar, "policy.onnx", "policy.json", tarfile.LNKTYPE),
                 "'policy.onnx'", "hard link"),
}


@pytest.fixture(params=sorted(BAD_MEMBERS))
def malicious(request, tmp_path):
    """``(archive, outside folder, member name in the error, problem in the error)``."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("do not read")
    archive = tmp_path / "incoming" / "model.tar.gz"
    archive.parent.mkdir()
    add_bad, member, problem = BAD_MEMBERS[request.param]
    with tarfile.open(archive, "w:gz") as tar:
        _file(tar, "policy.json", MANIFEST)
        add_bad(tar, outside)
    with tarfile.open(archive) as tar:  # the archive really holds what the test is about
        assert len(tar.getmembers()) == 2
    return archive, outside, member, problem


def assert_refused(call, malicious):
    archive, outside, member, problem = malicious
    with pytest.raises(UnsafeArchive) as refused:
        call(archive)
    message = str(refused.value)
    assert member in message and problem in message and str(archive) in message
    assert sorted(p.name for p in outside.iterdir()) == ["secret"], "nothing was written outside"
    assert not list(archive.parent.parent.rglob("escaped.txt"))


def test_unpack(malicious, tmp_path):
    target = tmp_path / "target"
    assert_refused(lambda a: unpack(a, target), malicious)
    assert not target.exists(), "a refused archive leaves no half-written folder"


def test_job_channel(malicious, tmp_path):
    assert_refused(lambda a: fill_channel(a, tmp_path / "channel"), malicious)
    assert list((tmp_path / "channel").iterdir()) == []


def test_portable_policy_load(malicious):
    assert_refused(PortablePolicy.load, malicious)
    assert_refused(lambda a: PortablePolicy.load(a.as_uri()), malicious)


def test_policy_folder_and_copy(malicious, tmp_path):
    def enter(archive):
        with policy_folder(archive):
            pass
    assert_refused(enter, malicious)
    assert_refused(lambda a: copy_policy(a, tmp_path / "copy"), malicious)


def test_deploy_records_no_endpoint(malicious):
    assert_refused(lambda a: Model(a.as_uri()).deploy(endpoint_name="evil"), malicious)
    assert Session().service.endpoints.list() == []


def test_export_for_a_device(malicious, tmp_path):
    assert_refused(lambda a: export_for_device(a, tmp_path / "device"), malicious)
    assert not (tmp_path / "device").exists()


def test_batch_transform(malicious, tmp_path):
    observations = tmp_path / "obs.jsonl"
    observations.write_text("[0, 0, 0, 0]\n")
    assert_refused(lambda a: Session().service.transform(str(a), observations, tmp_path / "out.jsonl"), malicious)
    assert not (tmp_path / "out.jsonl").exists()


def test_evaluation_model_channel(malicious):
    def locate(archive):
        with located_policy(None, archive.parent):  # a model channel holding model.tar.gz
            pass
    assert_refused(locate, malicious)


def test_serve_command(malicious):
    archive, outside, member, problem = malicious
    result = CliRunner().invoke(cli, ["serve", str(archive), "--port", "1"])
    assert result.exit_code == 2 and "Refused to unpack" in result.output and member in result.output
    assert sorted(p.name for p in outside.iterdir()) == ["secret"]


def test_a_safe_archive_round_trips(tmp_path):
    source = tmp_path / "model"
    (source / "sub").mkdir(parents=True)
    (source / "policy.json").write_text("{}")
    (source / "sub" / "weights.bin").write_bytes(b"\x00\x01")
    pack([source], tmp_path / "model.tar.gz")
    target = unpack(tmp_path / "model.tar.gz", tmp_path / "unpacked")
    assert (target / "sub" / "weights.bin").read_bytes() == b"\x00\x01"
    assert sorted(Path(p).name for p in tmp_path.glob(".rlops-tmp-*")) == []  # no temporary file left


def test_an_unreadable_archive_says_so(tmp_path):
    (tmp_path / "broken.tar.gz").write_bytes(b"not a tarball")
    with pytest.raises(UsageError, match="not a readable archive"):
        unpack(tmp_path / "broken.tar.gz", tmp_path / "x")
