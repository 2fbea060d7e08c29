"""A trained policy from its portable form (``policy.onnx`` + ``policy.json``), with ONNX Runtime only.

>>> policy = PortablePolicy.load("model.tar.gz")             # doctest: +SKIP
>>> actions, _ = policy.predict(observations)                # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

import numpy as np

from rlops.policies.manifest import MANIFEST, PolicyError, read_manifest, space_from_description
from rlops.storage import UnreadableArchive, is_archive, resolve_uri, unpack


def _model_source(model: str | os.PathLike) -> Path:
    """The policy folder or archive that ``model`` (a path or ``file://`` URI) names."""
    path = resolve_uri(model, "model", fetch=True)
    if path.is_dir():
        if (path / MANIFEST).is_file():
            return path
        if (path / "model.tar.gz").is_file():
            return path / "model.tar.gz"
        raise PolicyError(f"{path} holds no {MANIFEST}: it is not a portable policy (a model/ folder of an rlops "
                          "job, or its model.tar.gz).")
    if is_archive(path):
        return path
    raise PolicyError(f"No policy at {model}: give a model/ folder or a model.tar.gz (a path or file:// URI).")


def copy_policy(model: str | os.PathLike, into: Path) -> Path:
    """Put the portable policy ``model`` names into the folder ``into`` (copied, or unpacked safely)."""
    source = _model_source(model)
    if source.is_dir():
        shutil.copytree(source, into, dirs_exist_ok=True)
    else:
        try:
            unpack(source, into)
        except UnreadableArchive:
            raise PolicyError(f"{source} is not a readable model archive (a .tar.gz of an rlops job's model/ "
                              "folder).") from None
    read_manifest(into)
    return into


@contextlib.contextmanager
def policy_folder(model: str | os.PathLike) -> Iterator[Path]:
    """The folder of the policy ``model`` names: itself, or an archive unpacked for the block's duration."""
    source = _model_source(model)
    if source.is_dir():
        read_manifest(source)
        yield source
        return
    with tempfile.TemporaryDirectory(prefix="rlops-policy-") as tmp:
        yield copy_policy(source, Path(tmp))


class PortablePolicy:
    """Acts like SB3's ``predict(deterministic=True)`` from ``policy.onnx`` and its manifest."""

    def __init__(self, folder: Path):
        import onnxruntime as ort

        folder = Path(folder)
        self.manifest = read_manifest(folder)
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        self.session = ort.InferenceSession(str(folder / self.manifest["onnx"]), options,
                                            providers=["CPUExecutionProvider"])
        self.observation_space = space_from_description(self.manifest["observation_space"])
        self.action_space = space_from_description(self.manifest["action_space"])
        self.name = self.manifest.get("preset") or self.manifest["algorithm"]

    @classmethod
    def load(cls, model: str | os.PathLike) -> "PortablePolicy":
        """The policy in a model folder or ``model.tar.gz``, given as a path or ``file://`` URI."""
        with policy_folder(model) as folder:
            return cls(folder)  # ONNX Runtime reads the graph now: an unpacked archive can go

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
