"""Coach's log lines from Stable-Baselines3 training, so Coach's metric regexes work unchanged.

Episode lines (SPEC section 3)::

    Training> Name=main_level/agent, Worker=0, Episode=19, Total reward=-102.88, Exploration=0.1, Steps=19019, Training iteration=1

and, for the PPO family, one line per optimisation epoch::

    Policy training> Surrogate loss=-0.0909, KL divergence=0.00039, Entropy=2.838, training epoch=0, learning_rate=0.0003

Other algorithms print a ``Policy training>`` line with their losses each time SB3 logs them.
The launcher's stdout is the metric channel, so these are ``print``\\ s, flushed at once.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch as th
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.logger import KVWriter

from rlops.toolkits.coach_lines import COACH_CSV, COACH_COLUMNS, CoachCSV, emit, episode_line

__all__ = ["COACH_CSV", "COACH_COLUMNS", "CoachCSV", "EpisodeLog", "LossLog", "PPOEpochLog", "emit", "episode_line"]

def exploration_of(model) -> float:
    return float(getattr(model, "exploration_rate", 0.0))


class EpisodeLog(BaseCallback):
    """Prints a ``Heatup>`` or ``Training>`` line for every episode the training environments finish."""

    def __init__(self, heatup_steps: int, first_episode: int = 0, csv: CoachCSV | None = None):
        super().__init__()
        self.heatup_steps = heatup_steps
        self.episodes = first_episode
        self.csv = csv

    def _on_step(self) -> bool:
        for info in self.locals.get("infos", ()):
            episode = info.get("episode")
            if episode is None:
                continue
            heatup = self.model.num_timesteps <= self.heatup_steps
            reward, epsilon = float(episode["r"]), exploration_of(self.model)
            emit(episode_line("Heatup" if heatup else "Training", self.episodes, reward, epsilon,
                              self.model.num_timesteps, self.model._n_updates))
            if self.csv is not None:
                self.csv.training(self.episodes, self.model._n_updates, self.model.num_timesteps, int(episode["l"]),
                                  reward, epsilon, heatup)
            self.episodes += 1
        return True


class ProgressLog(BaseCallback):
    """A ``Progress> steps=N/TOTAL, recent return=R`` line every 1% of the training steps: what ``fit()``'s progress
    bar draws and what ``TrainingJob.progress()`` reads (the fast engine and offline presets print the same)."""

    def __init__(self, total_steps: int):
        super().__init__()
        self.total = total_steps
        self.every = max(1, total_steps // 100)
        self.next_at = 0

    def _on_training_start(self) -> None:
        self.next_at = (self.model.num_timesteps // self.every + 1) * self.every

    def _on_step(self) -> bool:
        if self.model.num_timesteps >= self.next_at:
            self.next_at = (self.model.num_timesteps // self.every + 1) * self.every
            episodes = self.model.ep_info_buffer
            recent = f", recent return={sum(e['r'] for e in episodes) / len(episodes):.2f}" if episodes else ""
            emit(f"Progress> steps={self.model.num_timesteps}/{self.total}{recent}")
        return True


class PPOEpochLog(BaseCallback):
    """One ``Policy training>`` line per PPO optimisation epoch.

    SB3's PPO reports only averages over all epochs of an update, so while ``train()`` runs this
    watches the two calls each minibatch makes: ``rollout_buffer.get()`` (called once per epoch)
    and ``policy.evaluate_actions()``, keeping (detached) what each minibatch saw. When the update
    is over it computes, for every epoch, the clipped surrogate loss, approximate KL and entropy
    exactly as ``PPO.train`` does, in one batched pass (per-minibatch arithmetic would cost a few
    percent of training time). The watch is installed when a rollout ends (just before
    ``train()``) and removed when the next rollout starts.
    """

    def __init__(self):
        super().__init__()
        self._installed = False
        self._batch = None
        self._epoch = -1
        self._seen: list[tuple] = []  # (epoch, log_prob, entropy, advantages, old_log_prob, mask)

    def _on_step(self) -> bool:
        return True

    def _on_rollout_end(self) -> None:
        self._install()

    def _on_rollout_start(self) -> None:
        self._uninstall()
        self._flush()

    def _on_training_end(self) -> None:
        self._uninstall()
        self._flush()

    def _install(self) -> None:
        if self._installed:
            return
        model = self.model
        buffer_get = model.rollout_buffer.get
        evaluate = model.policy.evaluate_actions

        def get(*args, **kwargs):
            self._epoch += 1
            for batch in buffer_get(*args, **kwargs):
                self._batch = batch
                yield batch

        def evaluate_actions(*args, **kwargs):
            result = evaluate(*args, **kwargs)
            batch = self._batch
            _, log_prob, entropy = result
            self._seen.append((self._epoch, log_prob.detach(), None if entropy is None else entropy.detach(),
                               batch.advantages, batch.old_log_prob, getattr(batch, "mask", None)))
            return result

        model.rollout_buffer.get = get
        model.policy.evaluate_actions = evaluate_actions
        self._installed = True
        self._epoch = -1
        self._clip = model.clip_range(model._current_progress_remaining)
        self._lr = model.policy.optimizer.param_groups[0]["lr"]

    def _uninstall(self) -> None:
        if self._installed:
            del self.model.rollout_buffer.get
            del self.model.policy.evaluate_actions
            self._installed = False

    def _flush(self) -> None:
        if not self._seen:
            return
        seen, self._seen = self._seen, []
        sizes = {len(item[1]) for item in seen}
        uniform = len(sizes) == 1 and all(item[5] is None for item in seen) and all(item[2] is not None for item in seen)
        if uniform:  # the usual case: stack every minibatch and compute all statistics at once
            stats = self._statistics(*(th.stack([item[i] for item in seen]) for i in range(1, 5)), None)
        else:
            stats = th.stack([self._statistics(*(None if t is None else t[None] for t in item[1:])).squeeze(0)
                              for item in seen])
        epochs = np.array([item[0] for item in seen])
        stats = stats.numpy()
        for epoch in np.unique(epochs):
            surrogate, kl, entropy = stats[epochs == epoch].mean(axis=0)
            emit(f"Policy training> Surrogate loss={surrogate:.4g}, KL divergence={kl:.5g}, Entropy={entropy:.4g}, "
                 f"training epoch={epoch}, learning_rate={self._lr:.4g}")

    def _statistics(self, log_prob, entropy, advantages, old_log_prob, mask=None) -> th.Tensor:
        """Rows of (surrogate loss, approximate KL, entropy), one per minibatch (rows of the inputs)."""
        with th.no_grad():
            if mask is None:
                mask = th.ones_like(advantages, dtype=th.bool)
            else:
                mask = mask > 1e-8
            count = mask.sum(dim=1).clamp(min=1)

            def mean(x):
                return (x * mask).sum(dim=1) / count

            if self.model.normalize_advantage and advantages.shape[1] > 1:
                centred = advantages - mean(advantages)[:, None]
                std = ((centred ** 2 * mask).sum(dim=1) / (count - 1).clamp(min=1)).sqrt()
                advantages = centred / (std[:, None] + 1e-8)
            log_ratio = log_prob - old_log_prob
            ratio = th.exp(log_ratio)
            clip = self._clip
            surrogate = -mean(th.min(advantages * ratio, advantages * th.clamp(ratio, 1 - clip, 1 + clip)))
            kl = mean((ratio - 1) - log_ratio)
            ent = mean(entropy if entropy is not None else -log_prob)
            return th.stack([surrogate, kl, ent], dim=1)


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
