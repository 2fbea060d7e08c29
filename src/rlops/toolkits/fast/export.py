"""The fast engine's portable policy: the same ``policy.onnx`` + ``policy.json`` as the SB3 toolkit's.

The graph takes raw observations (``observation``; also ``action_mask`` when the policy was trained
with one), normalises them with the statistics of training, and returns the deterministic
``action`` with, for PPO, ``probabilities`` (discrete: every choice's, concatenated) or
``mean``/``std`` (Gaussian, the action clipped to the box), and ``value``; for DQN, ``q_values``
(as the SB3 toolkit's DQN policies).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

import rlops
from rlops.policies.manifest import describe_space, write_manifest
from rlops.toolkits.fast.dqn import DQN, QNetwork
from rlops.toolkits.fast.ppo import PPO, ActorCritic

OPSET = 17


class _Deterministic(nn.Module):
    def __init__(self, policy: ActorCritic, low: np.ndarray | None, high: np.ndarray | None, masked: bool):
        super().__init__()
        self.policy, self.masked = policy, masked
        if low is not None:
            self.register_buffer("low", torch.as_tensor(low, dtype=torch.float32))
            self.register_buffer("high", torch.as_tensor(high, dtype=torch.float32))

    def forward(self, observation, action_mask=None):
        x = self.policy.features(observation)
        value = self.policy.value(x)
        if self.policy.kind == "box":
            mean = self.policy.actor(x)
            std = self.policy.log_std.exp().expand_as(mean)
            return torch.maximum(torch.minimum(mean, self.high), self.low), mean, std, value
        mask = action_mask > 0.5 if self.masked else None
        parts = self.policy._logits(x, mask)
        actions = self.policy.deterministic(parts)
        probabilities = torch.cat([torch.softmax(p, 1) for p in parts], 1)
        return (actions[:, 0] if self.policy.kind == "discrete" else actions), probabilities, value


class _Greedy(nn.Module):
    def __init__(self, policy: QNetwork, masked: bool):
        super().__init__()
        self.policy, self.masked = policy, masked

    def forward(self, observation, action_mask=None):
        q_values = self.policy.q(self.policy.features(observation))
        if self.masked:
            q_values = torch.where(action_mask > 0.5, q_values, torch.finfo(q_values.dtype).min)
        return q_values.argmax(1), q_values


def export_policy(ppo: PPO | DQN, folder: Path, extra: dict[str, Any] | None = None, masked: bool = False) -> dict[str, Any]:
    """Write ``policy.onnx`` and ``policy.json`` into ``folder``; returns the manifest."""
    policy = ppo.policy.to("cpu").eval()
    obs_space, action_space = ppo.env.single_observation_space, ppo.env.single_action_space
    box = policy.kind == "box"
    if isinstance(policy, QNetwork):
        module, outputs = _Greedy(policy, masked), ["action", "q_values"]
    else:
        module = _Deterministic(policy, action_space.low if box else None, action_space.high if box else None, masked)
        outputs = ["action", "mean", "std", "value"] if box else ["action", "probabilities", "value"]
    example = [torch.zeros((1, *obs_space.shape), dtype=torch.float32)]
    inputs = ["observation"]
    if masked:
        example.append(torch.ones((1, sum(policy.nvec))))
        inputs.append("action_mask")
    folder.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, tuple(example), str(folder / "policy.onnx"), input_names=inputs, output_names=outputs,
                          dynamic_axes={name: {0: "batch"} for name in inputs + outputs}, opset_version=OPSET, dynamo=False)
    policy.to(ppo.device)
    manifest = {
        "onnx": "policy.onnx",
        "algorithm": type(ppo).__name__,
        "toolkit": "fast",
        "toolkit_version": rlops.__version__,
        "rlops_version": rlops.__version__,
        "observation_space": describe_space(obs_space),
        "action_space": describe_space(action_space),
        "inputs": inputs,
        "outputs": outputs,
        "deterministic": True,
        "observation_normalization": "folded into the graph" if policy.normalize else None,
        "recurrent": False,
        "action_mask": masked,
        **(extra or {}),
    }
    return write_manifest(folder, manifest)
