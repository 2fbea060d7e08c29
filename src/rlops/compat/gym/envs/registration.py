"""``gym.envs.registration``: Gymnasium's registry (an id registered here is a Gymnasium id)."""

from gymnasium.envs.registration import EnvSpec, make, register, registry, spec  # noqa: F401
