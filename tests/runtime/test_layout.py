"""The pieces of the job contract that need no process: argv and storage URIs."""

from __future__ import annotations

import pytest

from rlops.exceptions import UsageError
from rlops.runtime.layout import entry_args
from rlops.contract import decode_hyperparameter
from rlops.storage import resolve_uri


def test_entry_args_sorted_with_short_and_long_flags():
    assert entry_args({"z": 1, "alpha": "x", "d": {"b": 1, "a": [1, 2]}, "t": True}) == [
        "--alpha", "x", "-d", "a=[1, 2],b=1", "-t", "True", "-z", "1"]


def test_decode_falls_back_to_the_raw_string():
    assert decode_hyperparameter("0.73") == 0.73
    assert decode_hyperparameter('"0.73"') == "0.73"
    assert decode_hyperparameter("not json") == "not json"


def test_resolve_uri(tmp_path):
    assert resolve_uri(tmp_path.as_uri()) == tmp_path
    assert resolve_uri(str(tmp_path)) == tmp_path
    with pytest.raises(UsageError, match="gs:// scheme"):
        resolve_uri("gs://bucket/x")
