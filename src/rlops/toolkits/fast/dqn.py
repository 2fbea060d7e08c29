"""DQN for many environment copies at once: epsilon-greedy on the whole batch, a replay buffer of tensors.

Same shape as :class:`~rlops.toolkits.fast.ppo.PPO`: ``learn(total_steps, callback)``, ``policy``,
``state()``/``load_state()``. Each iteration steps every copy ``train_freq`` times, stores the
transitions (leaving out Gymnasium's next-step autoreset steps, and bootstrapping truncated episodes
from their last observation), then takes ``gradient_steps`` gradient steps on minibatches drawn
from the buffer; the target network follows every ``target_update_interval`` steps (or softly, with
``tau`` below 1). Double DQN's target (the online network picks, the target network values) is on by
default, and Huber loss as in Stable-Baselines3.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import torch
from gymnasium import spaces
from torch import nn

from rlops.toolkits.fast.ppo import ACTIVATIONS, Adam, Episodes, NormalizedInput, Progress, _mlp


@dataclass
class DQNSettings:
    """DQN's hyperparameters, named as in Stable-Baselines3."""

    n_envs: int = 16  #: environment copies stepped together
    learning_rate: float = 1e-4
    buffer_size: int = 100_000  #: transitions kept
    learning_starts: int = 1_000  #: transitions collected before the first gradient step
    batch_size: int = 128
    tau: float = 1.0  #: 1: copy the online network every target_update_interval steps; below 1: Polyak averaging
    gamma: float = 0.99
    train_freq: int = 4  #: steps of every copy between gradient phases
    gradient_steps: int = 1  #: gradient steps per phase
    target_update_interval: int = 10_000  #: environment steps between target updates
    exploration_fraction: float = 0.1  #: share of the training steps over which epsilon falls
    exploration_initial_eps: float = 1.0
    exploration_final_eps: float = 0.05
    max_grad_norm: float = 10.0
    double_q: bool = True
    normalize_obs: bool = False  #: running mean and variance of observations (folded into the exported policy)
    clip_obs: float = 10.0
    net_arch: list[int] = field(default_factory=lambda: [64, 64])
    activation_fn: str = "relu"


class QNetwork(NormalizedInput):
    """Q-values of every action, on (optionally normalised) observations; the interface the engine's evaluation and
    export use (``features``, ``act``, ``kind``)."""

    kind = "discrete"

    def __init__(self, observation_space: spaces.Box, action_space: spaces.Discrete, settings: DQNSettings):
        super().__init__(observation_space, settings)
        self.nvec = [int(action_space.n)]
        self.q = _mlp(self.size, settings.net_arch, int(action_space.n), ACTIVATIONS[settings.activation_fn], 1.0)

    def act(self, x: torch.Tensor, mask: torch.Tensor | None = None, deterministic: bool = True):
        """The greedy action (a mask, when given, forbids actions); ``(action, zeros)`` as PPO's policy returns."""
        q = self.q(x)
        if mask is not None:
            q = torch.where(mask, q, torch.finfo(q.dtype).min)
        return q.argmax(1), torch.zeros(len(x), device=x.device)


class DQN:
    """DQN on a batched environment with ``Discrete`` actions."""

    def __init__(self, env, settings: DQNSettings, seed: int = 0, device: str = "cpu",
                 action_mask: Callable[[], np.ndarray] | None = None):
        if not isinstance(env.single_action_space, spaces.Discrete):
            raise TypeError(f"DQN needs Discrete actions; {type(env.single_action_space).__name__} given.")
        self.env, self.settings, self.device = env, settings, torch.device(device)
        self.action_mask = action_mask
        torch.manual_seed(seed)
        self.rng = np.random.default_rng(seed)
        self.policy = QNetwork(env.single_observation_space, env.single_action_space, settings).to(self.device)
        self.target = QNetwork(env.single_observation_space, env.single_action_space, settings).to(self.device)
        self.target.load_state_dict(self.policy.state_dict())
        self.optimizer = Adam(self.policy.q.parameters(), lr=settings.learning_rate)
        self.steps, self.seed, self.updates = 0, seed, 0
        size, obs_size = settings.buffer_size, int(np.prod(env.single_observation_space.shape))
        self.buffer = {"obs": torch.zeros((size, obs_size)), "next_obs": torch.zeros((size, obs_size)),
                       "action": torch.zeros(size, dtype=torch.long), "reward": torch.zeros(size),
                       "terminated": torch.zeros(size)}
        self.buffer_pos, self.buffer_full = 0, False
        self._obs: np.ndarray | None = None
        self.episodes = Episodes(env.num_envs)

    @property
    def steps_per_report(self) -> int:
        """Environment steps between two callbacks (about 2,048, whole iterations)."""
        per_iteration = self.env.num_envs * self.settings.train_freq
        return per_iteration * max(1, round(2048 / per_iteration))

    def epsilon(self, total_steps: int) -> float:
        s = self.settings
        progress = min(1.0, self.steps / max(1.0, s.exploration_fraction * total_steps))
        return s.exploration_initial_eps + progress * (s.exploration_final_eps - s.exploration_initial_eps)

    def _store(self, obs: np.ndarray, actions: np.ndarray, rewards: np.ndarray, next_obs: np.ndarray,
               terminated: np.ndarray) -> None:
        n, size = len(obs), self.settings.buffer_size
        index = (self.buffer_pos + np.arange(n)) % size
        for key, value in (("obs", obs), ("next_obs", next_obs), ("action", actions), ("reward", rewards),
                           ("terminated", terminated)):
            self.buffer[key][index] = torch.as_tensor(np.asarray(value), dtype=self.buffer[key].dtype)
        self.buffer_full |= self.buffer_pos + n >= size
        self.buffer_pos = (self.buffer_pos + n) % size

    @property
    def buffer_len(self) -> int:
        return self.settings.buffer_size if self.buffer_full else self.buffer_pos

    def learn(self, total_steps: int, callback: Callable[[Progress], bool | None] | None = None) -> None:
        """Train until ``total_steps`` environment steps in all; ``callback`` gets a :class:`Progress` about every
        :attr:`steps_per_report` steps and stops training by returning ``False``."""
        s, n = self.settings, self.env.num_envs
        if self._obs is None:
            self._obs, _ = self.env.reset(seed=self.seed)
        episodes: list[tuple[float, int]] = []
        losses: list[float] = []
        next_report = self.steps + self.steps_per_report
        while self.steps < total_steps:
            for _ in range(s.train_freq):
                obs = np.asarray(self._obs, np.float32)
                with torch.no_grad():
                    if s.normalize_obs:
                        self.policy.obs_rms.update(torch.from_numpy(obs[~self.episodes.resetting]).flatten(1))
                    mask = torch.from_numpy(self.action_mask()).to(self.device) if self.action_mask else None
                    greedy, _ = self.policy.act(self.policy.features(torch.from_numpy(obs).to(self.device)), mask)
                actions = greedy.cpu().numpy()
                explore = self.rng.random(n) < self.epsilon(total_steps)
                if explore.any():
                    random = self.rng.integers(0, self.policy.nvec[0], n)
                    if mask is not None:  # a random allowed action
                        allowed = mask.cpu().numpy()
                        random = np.argmax(allowed * self.rng.random(allowed.shape), axis=1)
                    actions = np.where(explore, random, actions)
                self._obs, reward, terminated, truncated, _ = self.env.step(actions)
                valid, _, ended = self.episodes.step(reward, terminated, truncated)
                episodes += ended
                if valid.any():  # a reset step is no transition
                    self._store(obs[valid], actions[valid], reward[valid], np.asarray(self._obs, np.float32)[valid],
                                terminated[valid])
                previous, self.steps = self.steps, self.steps + n
                if s.tau >= 1.0 and self.steps // s.target_update_interval > previous // s.target_update_interval:
                    self.target.load_state_dict(self.policy.state_dict())
            if self.buffer_len >= max(s.learning_starts, s.batch_size):
                losses += [self._train_step() for _ in range(s.gradient_steps)]
            if self.steps >= next_report or self.steps >= total_steps:
                next_report = self.steps + self.steps_per_report
                stats = {"loss": float(np.mean(losses)) if losses else math.nan, "epsilon": self.epsilon(total_steps)}
                progress = Progress(self.steps, self.updates, episodes, stats, self.episodes.reward_per_step())
                episodes, losses = [], []
                if callback is not None and callback(progress) is False:
                    break

    def _train_step(self) -> float:
        s = self.settings
        index = torch.from_numpy(self.rng.integers(0, self.buffer_len, s.batch_size))
        batch = {key: value[index].to(self.device) for key, value in self.buffer.items()}
        with torch.no_grad():
            next_x = self.policy.features(batch["next_obs"])
            next_q = self.target.q(next_x)
            if s.double_q:
                best = self.policy.q(next_x).argmax(1, keepdim=True)
                next_value = next_q.gather(1, best).squeeze(1)
            else:
                next_value = next_q.max(1).values
            target = batch["reward"] + s.gamma * (1.0 - batch["terminated"]) * next_value
        q = self.policy.q(self.policy.features(batch["obs"])).gather(1, batch["action"][:, None]).squeeze(1)
        loss = nn.functional.smooth_l1_loss(q, target)
        self.optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(self.policy.q.parameters(), s.max_grad_norm)
        self.optimizer.step()
        self.updates += 1
        if s.tau < 1.0:
            with torch.no_grad():
                torch._foreach_lerp_(list(self.target.q.parameters()), list(self.policy.q.parameters()), s.tau)
        return loss.item()

    def state(self) -> dict[str, Any]:
        """Weights, target, optimiser, normalisation and step count (the replay buffer refills after a resume)."""
        return {"policy": self.policy.state_dict(), "target": self.target.state_dict(),
                "optimizer": self.optimizer.state_dict(), "steps": self.steps, "updates": self.updates}

    def load_state(self, state: dict[str, Any]) -> None:
        self.policy.load_state_dict(state["policy"])
        self.target.load_state_dict(state.get("target", state["policy"]))
        if "optimizer" in state:
            self.optimizer.load_state_dict(state["optimizer"])
        self.steps, self.updates = int(state["steps"]), int(state.get("updates", 0))
