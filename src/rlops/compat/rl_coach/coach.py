"""Coach's ``rl_coach.coach``, on rlops (:mod:`rlops.toolkits.coach`)."""
# ruff: noqa: F401  (re-exports under Coach's names)

from rlops.toolkits.coach.launcher import CoachLauncher, start_graph
