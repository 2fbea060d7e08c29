"""The portable-policy manifest: one writer, one reader, and a clear error for what it cannot read."""

from __future__ import annotations

import json

import pytest

from rlops.policies.manifest import FORMAT, FORMAT_VERSION, PolicyError, read_manifest, write_manifest

FIELDS = {"onnx": "policy.onnx", "observation_space": {"type": "Discrete", "n": 2},
          "action_space": {"type": "Discrete", "n": 2}, "inputs": ["observation"], "outputs": ["action"]}


def test_written_manifest_reads_back_with_format_and_version(tmp_path):
    written = write_manifest(tmp_path, {**FIELDS, "algorithm": "PPO"})
    assert written["format"] == FORMAT and written["format_version"] == FORMAT_VERSION
    assert read_manifest(tmp_path) == written
    assert [p.name for p in tmp_path.iterdir()] == ["policy.json"]  # no temporary file left beside it


def test_a_newer_format_asks_for_a_newer_rlops(tmp_path):
    (tmp_path / "policy.json").write_text(json.dumps(
        {**FIELDS, "format": FORMAT, "format_version": FORMAT_VERSION + 1, "rlops_version": "9.0.0"}))
    with pytest.raises(PolicyError, match=rf"format_version {FORMAT_VERSION + 1}, newer than this rlops reads "
                                          rf"\({FORMAT_VERSION}\); it was written by rlops 9.0.0. Upgrade rlops"):
        read_manifest(tmp_path)


@pytest.mark.parametrize("content, message", [
    (None, "holds no policy.json"),
    ("{not json", "is not valid JSON"),
    (json.dumps({**FIELDS, "format": "something-else", "format_version": 1}), "format is 'something-else'"),
    (json.dumps({**FIELDS, "format": FORMAT}), "format_version None"),
    (json.dumps({**FIELDS, "format": FORMAT, "format_version": "1"}), "format_version '1'"),
    (json.dumps({"format": FORMAT, "format_version": 1, "onnx": "policy.onnx"}), "lacks observation_space"),
])
def test_what_is_not_a_manifest_is_refused_saying_why(tmp_path, content, message):
    if content is not None:
        (tmp_path / "policy.json").write_text(content)
    with pytest.raises(PolicyError, match=message):
        read_manifest(tmp_path)
