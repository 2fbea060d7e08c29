"""Coach's ``rl_coach.environments.environment``, on rlops (:mod:`rlops.toolkits.coach`)."""
# ruff: noqa: F401  (re-exports under Coach's names)

from rlops.toolkits.coach.graph import EnvironmentParameters
