"""The portable policy's manifest, ``policy.json``: written by the toolkits, read by everything that acts.

A portable policy is a folder (or a ``model.tar.gz`` of one) holding ``policy.onnx`` and this
manifest: the format and its version, the observation and action spaces, the graph's inputs
and outputs, and how the policy was trained. Toolkits write it with :func:`write_manifest`;
policies, servers and exports read it with :func:`read_manifest`, which refuses a manifest of a
newer format than this rlops understands.

>>> write_manifest(folder, {"onnx": "policy.onnx", "algorithm": "PPO", ...})   # doctest: +SKIP
>>> read_manifest(folder)["format_version"]                                    # doctest: +SKIP
1
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from rlops.exceptions import UsageError
from rlops.storage import write_text

MANIFEST = "policy.json"
FORMAT = "rlops-policy"
#: The newest manifest format this rlops reads (and the one its toolkits write).
FORMAT_VERSION = 1
REQUIRED = ("onnx", "observation_space", "action_space", "inputs", "outputs")


class PolicyError(UsageError):
    """A file that is not a portable policy, or a policy that does not fit an environment."""


def write_manifest(folder: Path, fields: dict[str, Any]) -> dict[str, Any]:
    """Write ``policy.json`` (atomically) with the format and version stamped in; returns the manifest."""
    manifest = {"format": FORMAT, "format_version": FORMAT_VERSION, **fields}
    missing = [key for key in REQUIRED if key not in manifest]
    if missing:
        raise ValueError(f"A policy manifest needs {', '.join(missing)}.")
    write_text(Path(folder) / MANIFEST, json.dumps(manifest, indent=2))
    return manifest


def read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest in ``folder``, checked: present, JSON, rlops's format, a version this rlops reads."""
    path = Path(folder) / MANIFEST
    if not path.is_file():
        raise PolicyError(f"{folder} holds no {MANIFEST}: it is not a portable policy (the model/ folder of an "
                          "rlops job, or its model.tar.gz).")
    try:
        manifest = json.loads(path.read_text())
    except ValueError as exc:
        raise PolicyError(f"{path} is not valid JSON ({exc}).") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        found = manifest.get("format") if isinstance(manifest, dict) else type(manifest).__name__
        raise PolicyError(f"{path} is not an rlops policy manifest: its format is {found!r}, expected {FORMAT!r}.")
    version = manifest.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise PolicyError(f"{path} has format_version {version!r}; expected a whole number from 1 to {FORMAT_VERSION}.")
    if version > FORMAT_VERSION:
        written_by = manifest.get("rlops_version", "a newer rlops")
        raise PolicyError(
            f"{path} has format_version {version}, newer than this rlops reads ({FORMAT_VERSION}); it was written "
            f"by rlops {written_by}. Upgrade rlops (pip install -U rlops) to load it."
        )
    missing = [key for key in REQUIRED if key not in manifest]
    if missing:
        raise PolicyError(f"{path} lacks {', '.join(missing)}: the manifest is incomplete.")
    return manifest


def describe_space(space) -> dict[str, Any]:
    """A Gymnasium space as the manifest records it."""
    from gymnasium import spaces

    if isinstance(space, spaces.Box):
        return {"type": "Box", "shape": list(space.shape), "dtype": str(space.dtype),
                "low": space.low.tolist(), "high": space.high.tolist()}
    if isinstance(space, spaces.Discrete):
        return {"type": "Discrete", "n": int(space.n), "start": int(space.start)}
    if isinstance(space, spaces.MultiDiscrete):
        return {"type": "MultiDiscrete", "nvec": space.nvec.tolist()}
    if isinstance(space, spaces.MultiBinary):
        return {"type": "MultiBinary", "n": int(np.prod(space.shape))}
    raise ValueError(f"A portable policy cannot describe a {type(space).__name__} space.")


def space_from_description(description: dict[str, Any]):
    """The Gymnasium space a manifest describes."""
    from gymnasium import spaces

    kind = description["type"]
    if kind == "Box":
        return spaces.Box(np.array(description["low"], dtype=np.float32), np.array(description["high"], dtype=np.float32),
                          dtype=np.dtype(description.get("dtype", "float32")))
    if kind == "Discrete":
        return spaces.Discrete(description["n"], start=description.get("start", 0))
    if kind == "MultiDiscrete":
        return spaces.MultiDiscrete(description["nvec"])
    if kind == "MultiBinary":
        return spaces.MultiBinary(description["n"])
    raise PolicyError(f"Unknown space type {kind!r} in the policy manifest.")
