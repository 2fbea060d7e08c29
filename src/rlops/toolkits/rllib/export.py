"""An RLlib RLModule as the same portable policy SB3 jobs write: ``policy.onnx`` + ``policy.json``.

The graph takes raw observations and returns the deterministic action (the most likely one for a
discrete space, the distribution's mean clipped to the box for a continuous one) with, where the
module has them, the action ``probabilities`` and the state ``value``: what ``deploy``,
``rlops serve``, ``transform`` and ``export`` already serve, with no Ray or PyTorch at serving time.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import torch as th
from gymnasium import spaces

import rlops
from rlops.policies.manifest import describe_space, write_manifest

OPSET = 17
#: Where an algorithm checkpoint keeps the learner's (full) RLModule of the default policy.
LEARNER_MODULE = "learner_group/learner/rl_module/default_policy"


class _DeterministicPolicy(th.nn.Module):
    def __init__(self, module, action_space: spaces.Space, with_value: bool, masked: bool = False, scale=None):
        super().__init__()
        self.module, self.with_value, self.masked = module, with_value, masked
        self.register_buffer("scale", th.as_tensor(1.0 if scale is None else scale, dtype=th.float32))
        self.discrete = isinstance(action_space, spaces.Discrete)
        self.nvec = [int(n) for n in action_space.nvec] if isinstance(action_space, spaces.MultiDiscrete) else None
        if isinstance(action_space, spaces.Box):
            self.register_buffer("low", th.as_tensor(action_space.low, dtype=th.float32))
            self.register_buffer("high", th.as_tensor(action_space.high, dtype=th.float32))

    def batch(self, observation, action_mask):
        """A module's input; an action-masking module reads (and takes apart) a dict, so each call gets its own."""
        if self.masked:
            return {"obs": {"observations": observation, "action_mask": action_mask}}
        return {"obs": observation}

    def forward(self, observation, action_mask=None):
        observation = observation / self.scale
        logits = self.module.forward_inference(self.batch(observation, action_mask))["action_dist_inputs"]
        if self.discrete:
            outputs = [th.argmax(logits, dim=-1), th.softmax(logits, dim=-1)]
        elif self.nvec:  # one categorical per dimension, their logits side by side
            parts = th.split(logits, self.nvec, dim=-1)
            outputs = [th.stack([p.argmax(dim=-1) for p in parts], dim=-1), th.cat([p.softmax(dim=-1) for p in parts], -1)]
        else:
            mean = th.chunk(logits, 2, dim=-1)[0]
            outputs = [th.maximum(th.minimum(mean, self.high), self.low)]
        if self.with_value:
            outputs.append(self.module.compute_values(self.batch(observation, action_mask)))
        return tuple(outputs)


def export_module(module, observation_space: spaces.Space, action_space: spaces.Space, folder: Path,
                  algorithm: str, extra: dict[str, Any] | None = None, masked: bool = False,
                  observation_scale=None) -> dict[str, Any]:
    """Write ``policy.onnx`` and ``policy.json`` for an RLlib torch RLModule; returns the manifest.

    ``observation_space`` is the environment's own. ``masked``: an action-masking module (it reads
    ``{"action_mask", "observations"}``) becomes a policy with two inputs, ``observation`` and
    ``action_mask``, as SB3's MaskablePPO does. ``observation_scale``: the module was trained on
    observations divided by it; the graph divides raw ones the same way.
    """
    import ray

    if not isinstance(observation_space, spaces.Box):
        raise ValueError(f"A portable policy needs a Box observation space; this module has {observation_space}.")
    if not isinstance(action_space, (spaces.Discrete, spaces.MultiDiscrete, spaces.Box)):
        raise ValueError(f"A portable RLlib policy needs a Discrete, MultiDiscrete or Box action space; this one "
                         f"has {action_space}.")
    # The module an algorithm acts with is "inference only" (no value function): then no value output.
    with_value = hasattr(module, "compute_values") and not getattr(module, "inference_only", False)
    graph = _DeterministicPolicy(module, action_space, with_value, masked, observation_scale).eval()
    categorical = isinstance(action_space, (spaces.Discrete, spaces.MultiDiscrete))
    outputs = ["action"] + (["probabilities"] if categorical else []) + (
        ["value"] if with_value else [])
    folder.mkdir(parents=True, exist_ok=True)
    inputs = ["observation"] + (["action_mask"] if masked else [])
    example = (th.zeros((1, *observation_space.shape), dtype=th.float32),)
    if masked:
        example += (th.ones((1, int(action_space.n)), dtype=th.float32),)
    with warnings.catch_warnings(), th.no_grad():
        warnings.simplefilter("ignore")
        th.onnx.export(graph, example, str(folder / "policy.onnx"), input_names=inputs,
                       output_names=outputs, dynamic_axes={name: {0: "batch"} for name in [*inputs, *outputs]},
                       opset_version=OPSET, dynamo=False)
    return write_manifest(folder, {
        "onnx": "policy.onnx",
        "algorithm": algorithm,
        "toolkit": "rllib",
        "toolkit_version": ray.__version__,
        "rlops_version": rlops.__version__,
        "observation_space": describe_space(observation_space),
        "action_space": describe_space(action_space),
        "inputs": inputs,
        "outputs": outputs,
        "deterministic": True,
        "observation_normalization": None,
        "recurrent": False,
        "action_mask": masked,
        **(extra or {}),
    })


def export_checkpoint(checkpoint: Path, algorithm: str, env_name, env_config: dict, folder: Path):
    """Write the portable policy of an algorithm checkpoint into ``folder``; returns the environment it acts in.

    The learner's module is exported: it has the value function too (the one the algorithm acts with does not).
    """
    from ray.rllib.core.rl_module.rl_module import RLModule

    from rlops.toolkits.rllib.environments import ActionMaskObservations, make_env

    module = RLModule.from_checkpoint(str((checkpoint / LEARNER_MODULE).resolve()))
    env = make_env(env_name, env_config)
    if isinstance(env, ActionMaskObservations):  # the policy takes the raw observation and the mask
        export_module(module, env.env.observation_space, env.action_space, folder, algorithm,
                      {"env_id": env_name if isinstance(env_name, str) else None}, masked=True,
                      observation_scale=env.scale)
    else:
        export_module(module, env.observation_space, env.action_space, folder, algorithm,
                      {"env_id": env_name if isinstance(env_name, str) else None})
    return env
