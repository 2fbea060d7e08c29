"""Coach's ``rl_coach.environments.gym_environment``, on rlops (:mod:`rlops.toolkits.coach`)."""
# ruff: noqa: F401  (re-exports under Coach's names)

from rlops.toolkits.coach.graph import (
    GymEnvironment, GymEnvironmentParameters, GymVectorEnvironment,
    atari_deterministic_v4, atari_schedule, mujoco_v2)
