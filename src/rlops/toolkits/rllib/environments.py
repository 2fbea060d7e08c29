"""The environments of RLlib jobs: Gymnasium ids (rlops's sample environments included) and action masking.

Ray's env runners are fresh processes: :class:`GymnasiumCreator` is what they call to build an
environment, importing ``rlops.envs`` first. With ``training.action_masking`` the environment's
``action_masks()`` rides in each observation (:class:`ActionMaskObservations`), as RLlib's
action-masking module reads it.
"""

from __future__ import annotations

import gymnasium
import numpy as np
from gymnasium import spaces

from rlops.exceptions import UsageError


class GymnasiumCreator:
    """Makes a Gymnasium environment by id in any Ray process, rlops's sample environments included;
    ``masked``: with its ``action_masks()`` in every observation (:class:`ActionMaskObservations`)."""

    def __init__(self, env_id: str, masked: bool = False):
        self.env_id, self.masked = env_id, masked

    def __call__(self, env_config):
        import gymnasium

        import rlops.envs  # noqa: F401  (registers rlops/...; env runners are fresh processes)

        env = gymnasium.make(self.env_id, **dict(env_config or {}))
        return ActionMaskObservations(env) if self.masked else env


class ActionMaskObservations(gymnasium.ObservationWrapper):
    """Observations as RLlib's action-masking module reads them: ``{"action_mask", "observations"}``,
    the mask being the environment's ``action_masks()`` (1 for an allowed action).

    The observations are divided by their bound (``scale``) where the space has a finite one, as SB3's
    masked presets normalise theirs; the exported policy divides raw observations the same way.
    """

    def __init__(self, env):
        super().__init__(env)
        space = env.observation_space
        if not hasattr(env.unwrapped, "action_masks") or not isinstance(env.action_space, spaces.Discrete) \
                or not isinstance(space, spaces.Box):
            raise UsageError(f"training.action_masking needs an environment with a Box observation space, a Discrete "
                             f"action space and an action_masks() method (as rlops/Knapsack-v0 has); "
                             f"{env.spec.id if env.spec else env} has not.")
        bound = np.maximum(np.abs(space.low), np.abs(space.high))
        self.scale = np.where(np.isfinite(bound) & (bound > 0), bound, 1.0).astype(np.float32)
        self.observation_space = spaces.Dict({
            "action_mask": spaces.Box(0.0, 1.0, (int(env.action_space.n),), np.float32),
            "observations": spaces.Box(space.low / self.scale, space.high / self.scale, dtype=np.float32)})

    def observation(self, observation):
        return {"action_mask": np.asarray(self.env.unwrapped.action_masks(), np.float32),
                "observations": np.asarray(observation, np.float32) / self.scale}


def register_gymnasium_id(env, masked: bool = False) -> None:
    """Register a Gymnasium id with Ray unless the script registered a creator under that name."""
    from ray.tune.registry import ENV_CREATOR, _global_registry, register_env

    if isinstance(env, str) and not _global_registry.contains(ENV_CREATOR, env):
        register_env(env, GymnasiumCreator(env, masked))


def make_env(env_name, env_config: dict):
    """The environment ``env_name`` names: one registered with Ray, or a Gymnasium id."""
    from ray.tune.registry import ENV_CREATOR, _global_registry

    if isinstance(env_name, str) and _global_registry.contains(ENV_CREATOR, env_name):
        return _global_registry.get(ENV_CREATOR, env_name)(env_config)
    if isinstance(env_name, str):
        return GymnasiumCreator(env_name)(env_config)
    return env_name(env_config)
