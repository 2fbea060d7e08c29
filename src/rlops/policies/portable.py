"""A trained policy from its portable form (``policy.onnx`` + ``policy.json``), with ONNX Runtime only.

>>> policy = PortablePolicy.load("model.tar.gz")             # doctest: +SKIP
>>> actions, _ = policy.predict(observations)                # doctest: +SKIP
"""

from __future__ import annotations

import json
import shutil
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from rlops.exceptions import UsageError

MANIFEST = "policy.json"


class PolicyError(UsageError):
    """A file that is not a portable policy, or a policy that does not fit an environment."""


def space_from_description(description: dict[str, Any]):
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


def unpack_model(path: Path, into: Path | None = None) -> Path:
    """The folder holding ``policy.json``: ``path`` itself, or a ``model.tar.gz`` unpacked.

    With ``into``, the policy ends up in that folder either way (copied or unpacked there).
    """
    path = Path(path)
    if path.is_dir():
        if (path / MANIFEST).is_file():
            if into is None:
                return path
            shutil.copytree(path, into, dirs_exist_ok=True)
            return into
        if (path / "model.tar.gz").is_file():
            return unpack_model(path / "model.tar.gz", into)
        raise PolicyError(f"{path} holds no {MANIFEST}: it is not a portable policy (a model/ folder of an rlops "
                          "SB3 job, or its model.tar.gz).")
    if path.is_file() and path.name.endswith((".tar.gz", ".tgz", ".tar")):
        target = into or Path(tempfile.mkdtemp(prefix="rlops-policy-"))
        try:
            with tarfile.open(path) as archive:
                archive.extractall(target, filter="data")
        except tarfile.TarError:
            raise PolicyError(f"{path} is not a readable model archive (a .tar.gz of an rlops job's model/ folder).") from None
        if not (target / MANIFEST).is_file():
            raise PolicyError(f"{path} has no {MANIFEST}: it is not a portable policy (train it with an rlops SB3 "
                              "job, which writes policy.onnx and policy.json into model/).")
        return target
    raise PolicyError(f"No policy at {path}: give a model/ folder or a model.tar.gz.")


class PortablePolicy:
    """Acts like SB3's ``predict(deterministic=True)`` from ``policy.onnx`` and its manifest."""

    def __init__(self, folder: Path):
        import onnxruntime as ort

        self.folder = folder
        self.manifest = json.loads((folder / MANIFEST).read_text())
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        self.session = ort.InferenceSession(str(folder / self.manifest["onnx"]), options,
                                            providers=["CPUExecutionProvider"])
        self.observation_space = space_from_description(self.manifest["observation_space"])
        self.action_space = space_from_description(self.manifest["action_space"])
        self.name = self.manifest.get("preset") or self.manifest["algorithm"]

    @classmethod
    def load(cls, path: str | Path) -> "PortablePolicy":
        return cls(unpack_model(Path(path)))

    @property
    def env_id(self) -> str | None:
        return self.manifest.get("env_id")

    def check_spaces(self, env) -> None:
        """Refuse an environment whose spaces differ from the policy's, showing both."""
        obs_ok = getattr(env.observation_space, "shape", None) == self.observation_space.shape
        if not obs_ok or env.action_space != self.action_space:
            raise PolicyError(
                f"The policy does not fit this environment. Policy: observation {self.observation_space}, action "
                f"{self.action_space}. Environment: observation {env.observation_space}, action {env.action_space}."
            )

    def reset(self, info: dict | None = None, env=None) -> None:
        pass

    def run(self, observations: np.ndarray, action_masks=None, state=None, episode_start=None) -> dict[str, np.ndarray]:
        """Every output of the graph for a batch of observations (``action`` and, where the policy has
        them, ``probabilities``, ``mean``/``std``, ``q_values``, ``value``, the LSTM state)."""
        obs = np.asarray(observations, dtype=np.float32)
        feeds = {"observation": obs}
        if self.manifest.get("action_mask"):
            masks = np.ones((len(obs), self._mask_width()), np.float32) if action_masks is None else action_masks
            feeds["action_mask"] = np.asarray(masks, dtype=np.float32).reshape(len(obs), -1)
        if self.manifest.get("recurrent"):
            layers, _, hidden = self.manifest["state_shape"]
            if state is None:
                state = (np.zeros((layers, len(obs), hidden), np.float32),) * 2
            start = np.ones(len(obs), np.float32) if episode_start is None else np.asarray(episode_start, np.float32)
            feeds.update(state_h=state[0], state_c=state[1], episode_start=start)
        return dict(zip(self.manifest["outputs"], self.session.run(None, feeds)))

    def predict(self, observation, state=None, episode_start=None, deterministic: bool = True, action_masks=None):
        """SB3's ``predict``: actions for one observation or a batch, and the next recurrent state."""
        obs = np.asarray(observation, dtype=np.float32)
        single = obs.shape == self.observation_space.shape
        outputs = self.run(obs[None] if single else obs, action_masks, state, episode_start)
        if self.manifest.get("recurrent"):
            state = (outputs["state_h_out"], outputs["state_c_out"])
        actions = outputs["action"]
        return (actions[0] if single else actions), state

    def _mask_width(self) -> int:
        space = self.action_space
        return int(np.sum(space.nvec)) if hasattr(space, "nvec") else int(space.n)
