"""Taking a policy to a device: the ONNX policy, its manifest and an inference module needing only
NumPy and ONNX Runtime."""

from __future__ import annotations

import shutil
from pathlib import Path

from rlops.policies.manifest import MANIFEST, read_manifest
from rlops.policies.portable import policy_folder

INFERENCE_MODULE = '''"""Act with an rlops policy on a device: needs only NumPy and ONNX Runtime.

    from policy_inference import Policy

    policy = Policy(".")                       # the folder holding policy.onnx and policy.json
    action = policy.act([0.0, 0.0, 2.0, 2.0])  # one observation, or a batch of them
"""

import json
from pathlib import Path

import numpy as np
import onnxruntime as ort


class Policy:
    def __init__(self, folder="."):
        folder = Path(folder)
        self.manifest = json.loads((folder / "policy.json").read_text())
        self.session = ort.InferenceSession(str(folder / self.manifest["onnx"]), providers=["CPUExecutionProvider"])
        self.shape = tuple(self.manifest["observation_space"]["shape"])

    def outputs(self, observations, action_mask=None):
        """Every output of the policy (action, and probabilities or mean/std, value) for a batch."""
        obs = np.asarray(observations, dtype=np.float32).reshape(-1, *self.shape)
        feeds = {"observation": obs}
        if self.manifest.get("action_mask"):
            feeds["action_mask"] = np.asarray(action_mask if action_mask is not None else
                                              np.ones((len(obs), self._mask_width())), dtype=np.float32)
        if self.manifest.get("recurrent"):
            raise ValueError("A recurrent policy needs its LSTM state: feed state_h, state_c and episode_start "
                             "to the session yourself (see policy.json).")
        return dict(zip(self.manifest["outputs"], self.session.run(None, feeds)))

    def act(self, observation, action_mask=None):
        """The deterministic action: for one observation, or an array of actions for a batch."""
        single = np.asarray(observation).shape == self.shape
        actions = self.outputs(observation, action_mask)["action"]
        return actions[0] if single else actions

    def _mask_width(self):
        space = self.manifest["action_space"]
        return int(sum(space["nvec"])) if "nvec" in space else int(space["n"])


if __name__ == "__main__":
    import sys

    policy = Policy(Path(__file__).parent)
    print(policy.act(json.loads(sys.argv[1])).tolist())
'''


def export_for_device(source: str | Path, target: Path) -> list[Path]:
    """Write ``policy.onnx``, ``policy.json`` and ``policy_inference.py`` into ``target``."""
    with policy_folder(source) as folder:  # refuses anything that is not a portable policy
        manifest = read_manifest(folder)
        target.mkdir(parents=True, exist_ok=True)
        written = [Path(shutil.copy2(folder / manifest["onnx"], target)), Path(shutil.copy2(folder / MANIFEST, target))]
    module = target / "policy_inference.py"
    module.write_text(INFERENCE_MODULE)
    return [*written, module]
