"""The portable policy: ONNX of the deterministic policy, normalisation folded in, plus a manifest.

A server acts from ``policy.onnx`` and ``policy.json`` alone, without SB3, PyTorch or the
environment. The graph takes raw observations (``observation``; also ``action_mask`` for
MaskablePPO and the LSTM state for RecurrentPPO) and returns ``action`` with, where the policy
has them, ``probabilities`` (discrete), ``mean``/``std`` (Gaussian), ``q_values`` and ``value``.
Actions come out as SB3's ``predict(deterministic=True)`` returns them: clipped to a box, or
rescaled from the squashed range for SAC, TD3 and DDPG.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch as th
from gymnasium import spaces

import rlops
from rlops.policies.manifest import describe_space, write_manifest

OPSET = 17


class _Normalizer(th.nn.Module):
    """VecNormalize's observation transform: clip((obs - mean) / sqrt(var + eps))."""

    def __init__(self, vec_normalize):
        super().__init__()
        enabled = vec_normalize is not None and vec_normalize.norm_obs
        rms = vec_normalize.obs_rms if enabled else None
        self.enabled = enabled
        if enabled:
            self.register_buffer("mean", th.as_tensor(rms.mean, dtype=th.float32))
            self.register_buffer("scale", th.as_tensor(np.sqrt(rms.var + vec_normalize.epsilon), dtype=th.float32))
            self.clip = float(vec_normalize.clip_obs)

    def forward(self, obs):
        obs = obs.float()
        if not self.enabled:
            return obs
        return th.clamp((obs - self.mean) / self.scale, -self.clip, self.clip)


def _discrete_probs(distribution) -> th.Tensor:
    # MultiDiscrete keeps one Categorical per dimension (``distributions`` in sb3-contrib's masked form)
    inner = getattr(distribution, "distributions", None) or distribution.distribution
    if isinstance(inner, list):
        return th.cat([d.probs for d in inner], dim=1)
    return inner.probs


class _ActorCritic(th.nn.Module):
    """PPO, A2C, TRPO and MaskablePPO."""

    def __init__(self, policy, normalizer, masked: bool):
        super().__init__()
        self.policy, self.normalizer, self.masked = policy, normalizer, masked
        self.box = isinstance(policy.action_space, spaces.Box)

    def forward(self, observation, action_mask=None):
        obs = self.normalizer(observation)
        if self.masked:
            distribution = self.policy.get_distribution(obs, action_masks=action_mask > 0.5)
        else:
            distribution = self.policy.get_distribution(obs)
        value = self.policy.predict_values(obs)
        action = distribution.mode()
        if self.box:
            low = th.as_tensor(self.policy.action_space.low)
            high = th.as_tensor(self.policy.action_space.high)
            std = distribution.distribution.stddev
            if self.policy.squash_output:
                action = low + 0.5 * (action + 1.0) * (high - low)
            else:
                action = th.max(th.min(action, high), low)
            return action, distribution.distribution.mean, std, value
        return action, _discrete_probs(distribution), value


class _Recurrent(th.nn.Module):
    """RecurrentPPO: the actor's LSTM state goes in and comes out."""

    def __init__(self, policy, normalizer):
        super().__init__()
        self.policy, self.normalizer = policy, normalizer
        self.box = isinstance(policy.action_space, spaces.Box)

    def forward(self, observation, state_h, state_c, episode_start):
        obs = self.normalizer(observation)
        features = self.policy.extract_features(obs, self.policy.pi_features_extractor)
        latent, (h, c) = self.policy._process_sequence(features, (state_h, state_c), episode_start, self.policy.lstm_actor)
        latent = self.policy.mlp_extractor.forward_actor(latent)
        distribution = self.policy._get_action_dist_from_latent(latent)
        action = distribution.mode()
        if self.box:
            low = th.as_tensor(self.policy.action_space.low)
            high = th.as_tensor(self.policy.action_space.high)
            return th.max(th.min(action, high), low), h, c
        return action, _discrete_probs(distribution), h, c


class _QNetwork(th.nn.Module):
    """DQN and QR-DQN: the greedy action and its Q-values."""

    def __init__(self, policy, normalizer, quantiles: bool):
        super().__init__()
        self.policy, self.normalizer, self.quantiles = policy, normalizer, quantiles

    def forward(self, observation):
        obs = self.normalizer(observation)
        if self.quantiles:
            q_values = self.policy.quantile_net(obs).mean(dim=1)
        else:
            q_values = self.policy.q_net(obs)
        return q_values.argmax(dim=1), q_values


class _DeterministicActor(th.nn.Module):
    """SAC, TD3 and DDPG: the squashed action rescaled to the action space."""

    def __init__(self, policy, normalizer):
        super().__init__()
        self.policy, self.normalizer = policy, normalizer

    def forward(self, observation):
        obs = self.normalizer(observation)
        squashed = self.policy.actor(obs, deterministic=True) if hasattr(self.policy.actor, "action_dist") else self.policy.actor(obs)
        low = th.as_tensor(self.policy.action_space.low)
        high = th.as_tensor(self.policy.action_space.high)
        return (low + 0.5 * (squashed + 1.0) * (high - low),)


def _graph(model, algorithm, vec_normalize):
    """The module to export, its example inputs, and the names of its inputs and outputs."""
    policy = model.policy
    obs_space = policy.observation_space
    if not isinstance(obs_space, spaces.Box):
        raise ValueError(f"Exporting a policy needs a Box observation space; this one is {obs_space}.")
    normalizer = _Normalizer(vec_normalize)
    obs = th.as_tensor(np.zeros((1, *obs_space.shape), dtype=np.float32))
    box = isinstance(policy.action_space, spaces.Box)
    if algorithm.recurrent:
        lstm = policy.lstm_actor
        state = th.zeros(lstm.num_layers, 1, lstm.hidden_size)
        outputs = ["action", "probabilities"] if not box else ["action"]
        return (_Recurrent(policy, normalizer), (obs, state, state, th.ones(1)),
                ["observation", "state_h", "state_c", "episode_start"], outputs + ["state_h_out", "state_c_out"],
                {"state_h": {1: "batch"}, "state_c": {1: "batch"}, "episode_start": {0: "batch"},
                 "state_h_out": {1: "batch"}, "state_c_out": {1: "batch"}})
    if algorithm.name in ("DQN", "QRDQN"):
        return _QNetwork(policy, normalizer, algorithm.name == "QRDQN"), (obs,), ["observation"], ["action", "q_values"], {}
    if algorithm.name in ("SAC", "TD3", "DDPG"):
        return _DeterministicActor(policy, normalizer), (obs,), ["observation"], ["action"], {}
    outputs = ["action", "mean", "std", "value"] if box else ["action", "probabilities", "value"]
    if algorithm.masked:
        space = policy.action_space
        mask = th.ones(1, int(space.nvec.sum()) if isinstance(space, spaces.MultiDiscrete) else int(space.n))
        return _ActorCritic(policy, normalizer, True), (obs, mask), ["observation", "action_mask"], outputs, {"action_mask": {0: "batch"}}
    return _ActorCritic(policy, normalizer, False), (obs,), ["observation"], outputs, {}


def export_policy(model, algorithm, vec_normalize, folder: Path, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write ``policy.onnx`` and ``policy.json`` into ``folder``; returns the manifest."""
    import stable_baselines3

    folder.mkdir(parents=True, exist_ok=True)
    module, example, inputs, outputs, dynamic = _graph(model, algorithm, vec_normalize)
    module.eval()
    axes = {name: {0: "batch"} for name in inputs + outputs}
    axes.update(dynamic)
    model.policy.set_training_mode(False)
    with warnings.catch_warnings(), th.no_grad():
        warnings.simplefilter("ignore")
        th.onnx.export(module, example, str(folder / "policy.onnx"), input_names=inputs, output_names=outputs,
                       dynamic_axes=axes, opset_version=OPSET, dynamo=False)
    manifest = {
        "onnx": "policy.onnx",
        "algorithm": algorithm.name,
        "toolkit": "sb3",
        "toolkit_version": stable_baselines3.__version__,
        "rlops_version": rlops.__version__,
        "observation_space": describe_space(model.observation_space),
        "action_space": describe_space(model.action_space),
        "inputs": inputs,
        "outputs": outputs,
        "deterministic": True,
        "observation_normalization": "folded into the graph" if vec_normalize is not None and vec_normalize.norm_obs else None,
        "recurrent": algorithm.recurrent,
        "action_mask": algorithm.masked,
        **(extra or {}),
    }
    if algorithm.recurrent:
        lstm = model.policy.lstm_actor
        manifest["state_shape"] = [lstm.num_layers, "batch", lstm.hidden_size]
    return write_manifest(folder, manifest)
