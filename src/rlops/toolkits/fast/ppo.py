"""PPO for many environment copies at once, in the style of CleanRL: one rollout tensor, GAE, clipped updates.

Written for throughput on a small CPU: the environment is a batched :class:`~gymnasium.vector.VectorEnv`
(thousands of copies step as one array operation), the policy acts on the whole batch with one
forward pass, and the update works on large minibatches. Handles Gymnasium's next-step autoreset
(the step after an episode ends is a reset: it is left out of the loss), truncation (bootstrapped
from the value of the last observation), ``Discrete``, ``MultiDiscrete`` (with an action mask for
each choice when the environment gives one) and ``Box`` actions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import torch
from gymnasium import spaces
from torch import nn


@dataclass
class PPOSettings:
    """PPO's hyperparameters, named as in Stable-Baselines3 where it has them."""

    n_envs: int = 64  #: environment copies stepped together
    n_steps: int = 128  #: steps per copy between updates
    n_minibatches: int = 4
    n_epochs: int = 4
    learning_rate: float = 2.5e-4
    anneal_lr: bool = True  #: decrease the learning rate linearly to 0 over the training steps
    gamma: float = 0.99
    gae_lambda: float = 0.95
    clip_range: float = 0.2
    clip_range_vf: float | None = None
    ent_coef: float = 0.0
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5
    target_kl: float | None = None
    normalize_advantage: bool = True
    normalize_obs: bool = True  #: running mean and variance of observations (folded into the exported policy)
    normalize_reward: bool = False  #: scale rewards by a running estimate of the discounted return's spread
    clip_obs: float = 10.0
    clip_reward: float = 10.0
    net_arch: list[int] = field(default_factory=lambda: [64, 64])
    activation_fn: str = "tanh"
    log_std_init: float = 0.0
    #: End each copy's first episode at a random length (uniform up to the full one; truncated, so bootstrapped),
    #: so that copies started together do not stay in step: on week-long episodes every batch would otherwise
    #: come from the same hour of the same day. Needs an environment whose reset takes ``max_time_steps``.
    stagger_episodes: bool = False
    #: The deterministic action of a Discrete or MultiDiscrete policy (evaluation, export, serving): ``"mode"`` (each
    #: choice's most probable value, as Stable-Baselines3's) or ``"mean"`` (each choice's expected value, rounded):
    #: for choices that are ordered amounts, such as machines to turn on, where the mode of a spread-out
    #: distribution can sit far from where its mass is.
    deterministic_action: str = "mode"



ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU, "elu": nn.ELU, "leaky_relu": nn.LeakyReLU, "silu": nn.SiLU}
#: The values a text setting of the engine's algorithms accepts.
CHOICES = {"deterministic_action": ("mode", "mean"), "activation_fn": tuple(ACTIVATIONS)}


class RunningMeanStd(nn.Module):
    """Running mean and variance of a stream of batches (Chan's parallel algorithm), kept as buffers so a checkpoint
    and the exported policy carry them."""

    def __init__(self, shape: tuple[int, ...]):
        super().__init__()
        self.register_buffer("mean", torch.zeros(shape, dtype=torch.float64))
        self.register_buffer("var", torch.ones(shape, dtype=torch.float64))
        self.register_buffer("count", torch.tensor(1e-4, dtype=torch.float64))

    def update(self, batch: torch.Tensor) -> None:
        if batch.shape[0] == 0:
            return
        batch = batch.double()
        mean, var, n = batch.mean(0), batch.var(0, unbiased=False), batch.shape[0]
        delta, total = mean - self.mean, self.count + n
        self.mean += delta * n / total
        self.var.copy_((self.var * self.count + var * n + delta.square() * self.count * n / total) / total)
        self.count.copy_(total)


def _mlp(inputs: int, arch: list[int], outputs: int, activation: type[nn.Module], gain: float) -> nn.Sequential:
    layers: list[nn.Module] = []
    for units in arch:
        layers += [_init(nn.Linear(inputs, units), math.sqrt(2)), activation()]
        inputs = units
    layers.append(_init(nn.Linear(inputs, outputs), gain))
    return nn.Sequential(*layers)


def _init(layer: nn.Linear, gain: float) -> nn.Linear:
    nn.init.orthogonal_(layer.weight, gain)
    nn.init.zeros_(layer.bias)
    return layer


class NormalizedInput(nn.Module):
    """A network's input: observations flattened and, with ``normalize_obs``, standardised by running statistics
    kept as buffers (so checkpoints and the exported policy carry them) and clipped to ``clip_obs``."""

    def __init__(self, observation_space: spaces.Box, settings):
        super().__init__()
        self.size = int(np.prod(observation_space.shape))
        self.obs_rms = RunningMeanStd((self.size,))
        self.normalize, self.clip_obs = settings.normalize_obs, settings.clip_obs

    def features(self, obs: torch.Tensor) -> torch.Tensor:
        obs = obs.flatten(1).float()
        if not self.normalize:
            return obs
        scale = torch.sqrt(self.obs_rms.var + 1e-8).float()
        return torch.clamp((obs - self.obs_rms.mean.float()) / scale, -self.clip_obs, self.clip_obs)


class ActorCritic(NormalizedInput):
    """Separate actor and critic MLPs on normalised observations; the action head follows the action space."""

    def __init__(self, observation_space: spaces.Box, action_space: spaces.Space, settings: PPOSettings):
        super().__init__(observation_space, settings)
        size = self.size
        activation = ACTIVATIONS[settings.activation_fn]
        self.readout = settings.deterministic_action
        if isinstance(action_space, spaces.Discrete):
            self.kind, self.nvec = "discrete", [int(action_space.n)]
        elif isinstance(action_space, spaces.MultiDiscrete):
            self.kind, self.nvec = "multidiscrete", [int(n) for n in action_space.nvec.ravel()]
        elif isinstance(action_space, spaces.Box):
            self.kind, self.nvec = "box", []
        else:
            raise TypeError(f"PPO needs Discrete, MultiDiscrete or Box actions; {type(action_space).__name__} given.")
        outputs = sum(self.nvec) if self.nvec else int(np.prod(action_space.shape))
        self.actor = _mlp(size, settings.net_arch, outputs, activation, 0.01)
        self.critic = _mlp(size, settings.net_arch, 1, activation, 1.0)
        if self.kind == "box":
            self.log_std = nn.Parameter(torch.full((outputs,), float(settings.log_std_init)))

    def value(self, x: torch.Tensor) -> torch.Tensor:
        return self.critic(x).squeeze(-1)

    def _logits(self, x: torch.Tensor, mask: torch.Tensor | None) -> list[torch.Tensor]:
        logits = self.actor(x)
        if mask is not None:
            logits = torch.where(mask, logits, torch.finfo(logits.dtype).min)
        return list(torch.split(logits, self.nvec, dim=1))

    def act(self, x: torch.Tensor, mask: torch.Tensor | None = None, deterministic: bool = False):
        """``(action, log probability)`` for a batch of normalised observations."""
        if self.kind == "box":
            mean = self.actor(x)
            if deterministic:
                return mean, torch.zeros(len(x), device=x.device)
            std = self.log_std.exp()
            action = mean + std * torch.randn_like(mean)
            return action, _normal_log_prob(action, mean, self.log_std)
        parts = self._logits(x, mask)
        if deterministic:
            actions = self.deterministic(parts)
            return (actions[:, 0] if self.kind == "discrete" else actions), torch.zeros(len(x), device=x.device)
        logps = [torch.log_softmax(p, 1) for p in parts]
        # Gumbel-max: one sample per choice from its logits, without building distribution objects
        actions = torch.stack([(lp - torch.log(-torch.log(torch.rand_like(lp)))).argmax(1) for lp in logps], 1)
        logp = sum(lp.gather(1, actions[:, i:i + 1]).squeeze(1) for i, lp in enumerate(logps))
        return (actions[:, 0] if self.kind == "discrete" else actions), logp

    def deterministic(self, parts: list[torch.Tensor]) -> torch.Tensor:
        """``(batch, choices)``: each choice's mode, or its expected value rounded (``deterministic_action``)."""
        if self.readout == "mean":
            values = [torch.round((p.softmax(1) * torch.arange(p.shape[1], device=p.device)).sum(1)) for p in parts]
            return torch.stack(values, 1).long()
        return torch.stack([p.argmax(1) for p in parts], 1)

    def evaluate(self, x: torch.Tensor, actions: torch.Tensor, mask: torch.Tensor | None):
        """``(log probability, entropy)`` of ``actions`` under the current policy."""
        if self.kind == "box":
            mean = self.actor(x)
            entropy = (0.5 + 0.5 * math.log(2 * math.pi) + self.log_std).sum().expand(len(x))
            return _normal_log_prob(actions, mean, self.log_std), entropy
        actions = actions.long().reshape(len(x), -1)
        logp = torch.zeros(len(x), device=x.device)
        entropy = torch.zeros(len(x), device=x.device)
        for i, logits in enumerate(self._logits(x, mask)):
            lp = torch.log_softmax(logits, 1)
            logp = logp + lp.gather(1, actions[:, i:i + 1]).squeeze(1)
            entropy = entropy - (lp.exp() * lp).sum(1)
        return logp, entropy


def _normal_log_prob(action: torch.Tensor, mean: torch.Tensor, log_std: torch.Tensor) -> torch.Tensor:
    return (-0.5 * ((action - mean) / log_std.exp()).square() - log_std - 0.5 * math.log(2 * math.pi)).sum(1)


class Adam:
    """Adam with PyTorch's update rule, as a handful of foreach tensor operations.

    ``torch.optim.Adam`` computes the same, but its first use imports ``torch._dynamo`` (about a second on
    these machines): a large share of a job that trains in a few seconds. Same interface as far as the engine
    uses it: ``param_groups[0]["lr"]``, ``zero_grad``, ``step``, ``state_dict`` and ``load_state_dict``.
    """

    def __init__(self, params, lr: float, eps: float = 1e-8, betas: tuple[float, float] = (0.9, 0.999)):
        self.params = [p for p in params if p.requires_grad]
        self.param_groups = [{"lr": lr}]
        self.eps, self.betas, self.steps = eps, betas, 0
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        (b1, b2), lr = self.betas, self.param_groups[0]["lr"]
        self.steps += 1
        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in self.params]
        torch._foreach_lerp_(self.m, grads, 1 - b1)
        torch._foreach_mul_(self.v, b2)
        torch._foreach_addcmul_(self.v, grads, grads, 1 - b2)
        denominator = torch._foreach_sqrt(self.v)
        torch._foreach_div_(denominator, math.sqrt(1 - b2 ** self.steps))
        torch._foreach_add_(denominator, self.eps)
        torch._foreach_addcdiv_(self.params, self.m, denominator, -lr / (1 - b1 ** self.steps))

    def state_dict(self) -> dict[str, Any]:
        return {"steps": self.steps, "lr": self.param_groups[0]["lr"], "m": self.m, "v": self.v}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.steps, self.param_groups[0]["lr"] = int(state["steps"]), float(state["lr"])
        for mine, saved in zip(self.m + self.v, list(state["m"]) + list(state["v"])):
            mine.copy_(saved)


class ReturnScaler:
    """Stable-Baselines3's reward normalisation: rewards divided by the running spread of the discounted return."""

    def __init__(self, n_envs: int, gamma: float, clip: float):
        self.returns = np.zeros(n_envs)
        self.rms = RunningMeanStd(())
        self.gamma, self.clip = gamma, clip

    def __call__(self, rewards: np.ndarray, dones: np.ndarray) -> np.ndarray:
        self.returns = self.returns * self.gamma + rewards
        self.rms.update(torch.from_numpy(self.returns))
        self.returns[dones] = 0.0
        return np.clip(rewards / math.sqrt(float(self.rms.var) + 1e-8), -self.clip, self.clip)


class Episodes:
    """Each copy's episode under way (return and length) with Gymnasium's next-step autoreset: the step after an
    episode's end only resets that copy, so it counts for nothing. Also the rewards since the last report."""

    def __init__(self, n_envs: int):
        self.returns = np.zeros(n_envs)
        self.lengths = np.zeros(n_envs, np.int64)
        self.resetting = np.zeros(n_envs, bool)
        self.reward_sum, self.reward_count = 0.0, 0

    def step(self, reward: np.ndarray, terminated: np.ndarray, truncated: np.ndarray):
        """``(valid, done, ended)``: the copies whose step counts, those whose episode ended, and ``(return,
        length)`` of each episode that ended."""
        valid, done = ~self.resetting, terminated | truncated
        self.returns += np.where(valid, reward, 0.0)
        self.lengths += valid
        self.reward_sum += float(np.sum(reward, where=valid))
        self.reward_count += int(valid.sum())
        ended = [(float(self.returns[i]), int(self.lengths[i])) for i in np.flatnonzero(done)]
        self.returns[done], self.lengths[done] = 0.0, 0
        self.resetting = done
        return valid, done, ended

    def reward_per_step(self) -> float:
        """The mean reward of the valid steps since the last call."""
        mean = self.reward_sum / max(self.reward_count, 1)
        self.reward_sum, self.reward_count = 0.0, 0
        return mean


@dataclass
class Progress:
    """What a training loop reports after each update."""

    steps: int
    updates: int
    episodes: list[tuple[float, int]]  #: (return, length) of the episodes that ended since the last report
    losses: dict[str, float]
    reward_per_step: float = 0.0  #: the mean reward of the rollout's steps (before any normalisation)


class PPO:
    """PPO on a batched environment. ``learn(total_steps, callback)`` trains; ``policy`` is the actor-critic."""

    def __init__(self, env, settings: PPOSettings, seed: int = 0, device: str = "cpu",
                 action_mask: Callable[[], np.ndarray] | None = None):
        self.env, self.settings, self.device = env, settings, torch.device(device)
        self.action_mask = action_mask
        torch.manual_seed(seed)
        self.policy = ActorCritic(env.single_observation_space, env.single_action_space, settings).to(self.device)
        self.optimizer = Adam(self.policy.parameters(), lr=settings.learning_rate, eps=1e-5)
        self.return_scaler = ReturnScaler(env.num_envs, settings.gamma, settings.clip_reward) if settings.normalize_reward else None
        self.steps = 0
        self.seed = seed
        self._obs: np.ndarray | None = None
        self.episodes = Episodes(env.num_envs)

    @property
    def steps_per_report(self) -> int:
        """Environment steps between two callbacks: one rollout."""
        return self.env.num_envs * self.settings.n_steps

    def _start(self) -> None:
        options = None
        if self.settings.stagger_episodes:
            length = getattr(getattr(self.env, "config", None), "max_time_steps", None)
            if length is None:
                raise ValueError("stagger_episodes needs an environment whose reset takes the option max_time_steps "
                                 f"(rlops/AutoScaling-v0's batched version does); {type(self.env).__name__} does not.")
            options = {"max_time_steps": np.random.default_rng(self.seed).integers(1, length + 1, self.env.num_envs)}
        self._obs, _ = self.env.reset(seed=self.seed, options=options)

    def learn(self, total_steps: int, callback: Callable[[Progress], bool | None] | None = None) -> None:
        """Train until ``total_steps`` environment steps in all (counting those of earlier calls); ``callback``
        gets a :class:`Progress` after each update and stops training by returning ``False``."""
        s, n = self.settings, self.env.num_envs
        if self._obs is None:
            self._start()
        batch = s.n_steps * n
        updates_total = max(1, math.ceil(total_steps / batch))
        obs_shape = self.env.single_observation_space.shape
        act_shape = self.env.single_action_space.shape
        mask_size = sum(self.policy.nvec) if self.action_mask and self.policy.nvec else 0
        device = self.device  # the rollout lives where the policy does (the GPU when there is one)
        buf_obs = torch.zeros((s.n_steps, n, int(np.prod(obs_shape))), device=device)  # normalised as the policy saw them
        buf_act = torch.zeros((s.n_steps, n, *act_shape), device=device)
        buf_logp = torch.zeros((s.n_steps, n), device=device)
        buf_rew = torch.zeros((s.n_steps, n), device=device)
        buf_val = torch.zeros((s.n_steps + 1, n), device=device)
        buf_term = torch.zeros((s.n_steps, n), device=device)
        buf_done = torch.zeros((s.n_steps, n), device=device)
        buf_valid = torch.zeros((s.n_steps, n), dtype=torch.bool, device=device)
        buf_mask = torch.zeros((s.n_steps, n, mask_size), dtype=torch.bool, device=device) if mask_size else None
        update = self.steps // batch
        while self.steps < total_steps:
            if s.anneal_lr:
                self.optimizer.param_groups[0]["lr"] = s.learning_rate * max(0.0, 1.0 - update / updates_total)
            episodes: list[tuple[float, int]] = []
            with torch.no_grad():
                for t in range(s.n_steps):
                    obs = torch.from_numpy(np.asarray(self._obs, np.float32)).to(device)
                    resetting = self.episodes.resetting
                    if s.normalize_obs:
                        live = obs[torch.from_numpy(~resetting).to(device)] if resetting.any() else obs
                        self.policy.obs_rms.update(live.flatten(1))
                    x = self.policy.features(obs)
                    mask = torch.from_numpy(self.action_mask()).to(device) if mask_size else None
                    action, logp = self.policy.act(x, mask)
                    buf_obs[t], buf_act[t], buf_logp[t] = x, action.reshape(n, *act_shape), logp
                    buf_val[t] = self.policy.value(x)
                    if mask is not None:
                        buf_mask[t] = mask
                    env_action = action.cpu().numpy()
                    if self.policy.kind == "box":
                        space = self.env.single_action_space
                        env_action = np.clip(env_action, space.low, space.high)
                    self._obs, reward, terminated, truncated, _ = self.env.step(env_action)
                    valid, done, ended = self.episodes.step(reward, terminated, truncated)
                    episodes += ended
                    if self.return_scaler is not None:
                        reward = self.return_scaler(np.where(valid, reward, 0.0), done)
                    buf_rew[t] = torch.from_numpy(np.asarray(reward, np.float32)).to(device)
                    buf_term[t] = torch.from_numpy(terminated.astype(np.float32)).to(device)
                    buf_done[t] = torch.from_numpy(done.astype(np.float32)).to(device)
                    buf_valid[t] = torch.from_numpy(valid).to(device)
                self.steps += batch
                last = torch.from_numpy(np.asarray(self._obs, np.float32)).to(device)
                buf_val[s.n_steps] = self.policy.value(self.policy.features(last))
                advantages = self._gae(buf_rew, buf_val, buf_term, buf_done)
                returns = advantages + buf_val[:-1]
            losses = self._update(buf_obs, buf_act, buf_logp, advantages, returns, buf_val[:-1], buf_valid, buf_mask)
            update += 1
            progress = Progress(self.steps, update, episodes, losses, self.episodes.reward_per_step())
            if callback is not None and callback(progress) is False:
                break

    def _gae(self, rewards, values, terminated, dones) -> torch.Tensor:
        s = self.settings
        advantages = torch.zeros_like(rewards)
        last = torch.zeros(rewards.shape[1], device=rewards.device)
        for t in reversed(range(len(rewards))):
            # a terminated episode has no future; a truncated one is bootstrapped from its last observation's value
            delta = rewards[t] + s.gamma * values[t + 1] * (1.0 - terminated[t]) - values[t]
            last = delta + s.gamma * s.gae_lambda * (1.0 - dones[t]) * last
            advantages[t] = last
        return advantages

    def _update(self, obs, actions, old_logp, advantages, returns, old_values, valid, masks) -> dict[str, float]:
        s = self.settings
        keep = valid.flatten()
        obs = obs.flatten(0, 1)[keep]
        actions = actions.flatten(0, 1)[keep]
        old_logp, advantages = old_logp.flatten()[keep], advantages.flatten()[keep]
        returns, old_values = returns.flatten()[keep], old_values.flatten()[keep]
        masks = masks.flatten(0, 1)[keep] if masks is not None else None
        x_all = obs
        size = len(obs)
        minibatch = max(1, size // s.n_minibatches)
        stats: dict[str, list[float]] = {"policy_loss": [], "value_loss": [], "entropy": [], "approx_kl": [], "clip_fraction": []}
        for _ in range(s.n_epochs):
            order = torch.randperm(size, device=obs.device)
            kl_stop = False
            for start in range(0, size, minibatch):
                idx = order[start:start + minibatch]
                x = x_all[idx]
                logp, entropy = self.policy.evaluate(x, actions[idx], masks[idx] if masks is not None else None)
                ratio = (logp - old_logp[idx]).exp()
                adv = advantages[idx]
                if s.normalize_advantage and len(idx) > 1:
                    adv = (adv - adv.mean()) / (adv.std() + 1e-8)
                policy_loss = torch.max(-adv * ratio, -adv * ratio.clamp(1 - s.clip_range, 1 + s.clip_range)).mean()
                value = self.policy.value(x)
                if s.clip_range_vf is not None:
                    value = old_values[idx] + (value - old_values[idx]).clamp(-s.clip_range_vf, s.clip_range_vf)
                value_loss = 0.5 * (returns[idx] - value).square().mean()
                loss = policy_loss + s.vf_coef * value_loss - s.ent_coef * entropy.mean()
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                nn.utils.clip_grad_norm_(self.policy.parameters(), s.max_grad_norm)
                self.optimizer.step()
                with torch.no_grad():
                    log_ratio = logp - old_logp[idx]
                    approx_kl = float(((log_ratio.exp() - 1) - log_ratio).mean())
                    stats["policy_loss"].append(float(policy_loss))
                    stats["value_loss"].append(float(value_loss))
                    stats["entropy"].append(float(entropy.mean()))
                    stats["approx_kl"].append(approx_kl)
                    stats["clip_fraction"].append(float(((ratio - 1).abs() > s.clip_range).float().mean()))
                if s.target_kl is not None and approx_kl > 1.5 * s.target_kl:
                    kl_stop = True
                    break
            if kl_stop:
                break
        return {k: float(np.mean(v)) for k, v in stats.items() if v}

    def state(self) -> dict[str, Any]:
        """Everything a resumed run needs: weights, optimiser, normalisation, step count."""
        state = {"policy": self.policy.state_dict(), "optimizer": self.optimizer.state_dict(), "steps": self.steps}
        if self.return_scaler is not None:
            state["return_rms"] = self.return_scaler.rms.state_dict()
        return state

    def load_state(self, state: dict[str, Any]) -> None:
        self.policy.load_state_dict(state["policy"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.steps = int(state["steps"])
        if self.return_scaler is not None and "return_rms" in state:
            self.return_scaler.rms.load_state_dict(state["return_rms"])
