"""Callbacks that run in RLlib's env runners and report back to the launcher."""

from __future__ import annotations

from ray.rllib.callbacks.callbacks import RLlibCallback

#: Where each iteration's finished episodes appear in the result: ``result["env_runners"][EPISODES_KEY]``.
EPISODES_KEY = "rlops_episodes"


class EpisodeReturns(RLlibCallback):
    """Reports each finished episode's return and length, so the driver prints Coach's line for it."""

    def on_episode_end(self, *, episode, metrics_logger=None, **kwargs):
        if metrics_logger is not None:
            metrics_logger.log_value(EPISODES_KEY, (float(episode.get_return()), int(len(episode))), reduce="item_series")
