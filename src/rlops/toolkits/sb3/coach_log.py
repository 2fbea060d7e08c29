"""Coach's log lines from Stable-Baselines3 training, so Coach's metric regexes work unchanged.

Episode lines (SPEC section 3)::

    Training> Name=main_level/agent, Worker=0, Episode=19, Total reward=-102.88, Exploration=0.1, Steps=19019, Training iteration=1

and, for the PPO family, one line per optimisation epoch::

    Policy training> Surrogate loss=-0.0909, KL divergence=0.00039, Entropy=2.838, training epoch=0, learning_rate=0.0003

Other algorithms print a ``Policy training>`` line with their losses each time SB3 logs them.
The launcher's stdout is the metric channel, so these are ``print``\\ s, flushed at once.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
import torch as th
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.logger import KVWriter

AGENT = "Name=main_level/agent, Worker=0"


def episode_line(phase: str, episode: int, total_reward: float, exploration: float, steps: int, iteration: int) -> str:
    return (f"{phase}> {AGENT}, Episode={episode}, Total reward={total_reward:.2f}, "
            f"Exploration={exploration:.2f}, Steps={steps}, Training iteration={iteration}")


def emit(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def exploration_of(model) -> float:
    return float(getattr(model, "exploration_rate", 0.0))


class EpisodeLog(BaseCallback):
    """Prints a ``Heatup>`` or ``Training>`` line for every episode the training environments finish."""

    def __init__(self, heatup_steps: int, first_episode: int = 0):
        super().__init__()
        self.heatup_steps = heatup_steps
        self.episodes = first_episode

    def _on_step(self) -> bool:
        for info in self.locals.get("infos", ()):
            episode = info.get("episode")
            if episode is None:
                continue
            phase = "Heatup" if self.model.num_timesteps <= self.heatup_steps else "Training"
            emit(episode_line(phase, self.episodes, float(episode["r"]), exploration_of(self.model),
                              self.model.num_timesteps, self.model._n_updates))
            self.episodes += 1
        return True


class PPOEpochLog(BaseCallback):
    """One ``Policy training>`` line per PPO optimisation epoch.

    SB3's PPO reports only averages over all epochs of an update, so while ``train()`` runs this
    watches the two calls each minibatch makes: ``rollout_buffer.get()`` (called once per epoch)
    and ``policy.evaluate_actions()``, and computes the clipped surrogate loss, approximate KL
    and entropy of each minibatch exactly as ``PPO.train`` does. The watch is installed when a
    rollout ends (just before ``train()``) and removed when the next rollout starts.
    """

    def __init__(self):
        super().__init__()
        self._installed = False
        self._batch = None
        self._epoch = -1
        self._stats: list[tuple[float, float, float]] = []

    def _on_step(self) -> bool:
        return True

    def _on_rollout_end(self) -> None:
        self._install()

    def _on_rollout_start(self) -> None:
        self._flush()
        self._uninstall()

    def _on_training_end(self) -> None:
        self._flush()
        self._uninstall()

    def _install(self) -> None:
        if self._installed:
            return
        model = self.model
        buffer_get = model.rollout_buffer.get
        evaluate = model.policy.evaluate_actions

        def get(*args, **kwargs):
            self._flush()
            self._epoch += 1
            for batch in buffer_get(*args, **kwargs):
                self._batch = batch
                yield batch

        def evaluate_actions(*args, **kwargs):
            result = evaluate(*args, **kwargs)
            self._record(result)
            return result

        model.rollout_buffer.get = get
        model.policy.evaluate_actions = evaluate_actions
        self._installed = True
        self._epoch = -1

    def _uninstall(self) -> None:
        if self._installed:
            del self.model.rollout_buffer.get
            del self.model.policy.evaluate_actions
            self._installed = False

    def _record(self, result) -> None:
        batch = self._batch
        if batch is None:
            return
        _, log_prob, entropy = result
        with th.no_grad():
            mask = getattr(batch, "mask", None)
            mask = mask > 1e-8 if mask is not None else slice(None)
            advantages = batch.advantages
            if self.model.normalize_advantage and len(advantages) > 1:
                advantages = (advantages - advantages[mask].mean()) / (advantages[mask].std() + 1e-8)
            log_ratio = log_prob - batch.old_log_prob
            ratio = th.exp(log_ratio)
            clip = self.model.clip_range(self.model._current_progress_remaining)
            surrogate = -th.min(advantages * ratio, advantages * th.clamp(ratio, 1 - clip, 1 + clip))[mask].mean()
            kl = ((ratio - 1) - log_ratio)[mask].mean()
            ent = (entropy if entropy is not None else -log_prob)[mask].mean()
        self._stats.append((surrogate.item(), kl.item(), ent.item()))

    def _flush(self) -> None:
        if not self._stats:
            return
        surrogate, kl, entropy = np.mean(self._stats, axis=0)
        lr = self.model.policy.optimizer.param_groups[0]["lr"]
        emit(f"Policy training> Surrogate loss={surrogate:.4g}, KL divergence={kl:.5g}, Entropy={entropy:.4g}, "
             f"training epoch={self._epoch}, learning_rate={lr:.4g}")
        self._stats = []


class LossLog(KVWriter):
    """An SB3 logger output: prints a ``Policy training>`` line with the losses of each log dump."""

    LABELS = {
        "train/loss": "Loss", "train/value_loss": "Value loss", "train/policy_loss": "Policy loss",
        "train/actor_loss": "Actor loss", "train/critic_loss": "Critic loss", "train/entropy_loss": "Entropy loss",
        "train/ent_coef": "Entropy coefficient", "train/kl_divergence_loss": "KL divergence",
    }

    def write(self, key_values: dict[str, Any], key_excluded: dict[str, Any], step: int = 0) -> None:
        parts = [f"{label}={float(key_values[key]):.4g}" for key, label in self.LABELS.items() if key in key_values]
        if not parts:
            return
        iteration = key_values.get("train/n_updates", 0)
        lr = key_values.get("train/learning_rate")
        tail = f", training iteration={int(iteration)}" + (f", learning_rate={float(lr):.4g}" if lr is not None else "")
        emit("Policy training> " + ", ".join(parts) + tail)

    def close(self) -> None:
        pass
