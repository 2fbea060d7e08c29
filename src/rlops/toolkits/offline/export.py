"""An offline policy's portable form: the same ``policy.onnx`` + ``policy.json`` as every rlops policy.

The graph takes raw observations (``observation``) and returns d3rlpy's greedy ``action`` (for BCQ, the
best action among those its imitation model allows), the ``q_values`` (except behaviour cloning, which
has none) and ``probabilities`` (1 on the action: the deployed policy is deterministic); a continuous
policy gives its ``action`` alone, mapped back to the environment's bounds. d3rlpy's own
``save_policy`` is not used: its ONNX export fixes the batch at one observation and gives no Q-values.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import torch

import rlops
from rlops.policies.manifest import describe_space, write_manifest

OPSET = 17


class _Greedy(torch.nn.Module):
    def __init__(self, algo, n_actions: int | None, with_q: bool):
        super().__init__()
        self.algo, self.impl, self.n_actions, self.with_q = algo, algo.impl, n_actions, with_q

    def forward(self, observation):
        scaler = self.algo.config.observation_scaler
        x = scaler.transform(observation) if scaler else observation
        action = self.impl.predict_best_action(x)
        if self.n_actions is None:  # continuous
            unscale = self.algo.config.action_scaler
            return unscale.reverse_transform(action) if unscale else action
        probabilities = torch.nn.functional.one_hot(action, self.n_actions).to(torch.float32)
        if not self.with_q:
            return action, probabilities
        return action, self.impl._q_func_forwarder.compute_expected_q(x), probabilities


def export_policy(algo, d3rlpy, env, folder: Path, algorithm: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write ``policy.onnx`` and ``policy.json`` into ``folder``; returns the manifest."""
    continuous = not hasattr(env.action_space, "n")
    n_actions = None if continuous else int(env.action_space.n)
    with_q = not continuous and hasattr(algo.impl, "_q_func_forwarder")
    outputs = ["action"] if continuous else ["action", "q_values", "probabilities"] if with_q else ["action", "probabilities"]
    module = _Greedy(algo, n_actions, with_q).eval()
    example = torch.zeros((1, *env.observation_space.shape), dtype=torch.float32, device=algo.impl.device)
    algo.impl.modules.freeze()
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(module, (example,), str(folder / "policy.onnx"), input_names=["observation"],
                              output_names=outputs, dynamic_axes={n: {0: "batch"} for n in ["observation", *outputs]},
                              opset_version=OPSET, dynamo=False)
    finally:
        algo.impl.modules.unfreeze()
    manifest = {
        "onnx": "policy.onnx",
        "algorithm": algorithm,
        "toolkit": "offline",
        "toolkit_version": f"d3rlpy {d3rlpy.__version__}",
        "rlops_version": rlops.__version__,
        "observation_space": describe_space(env.observation_space),
        "action_space": describe_space(env.action_space),
        "inputs": ["observation"],
        "outputs": outputs,
        "deterministic": True,
        "observation_normalization": "folded into the graph" if algo.config.observation_scaler else None,
        "recurrent": False,
        "action_mask": False,
        **(extra or {}),
    }
    return write_manifest(folder, manifest)
