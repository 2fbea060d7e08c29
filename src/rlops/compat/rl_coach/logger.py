"""Coach's ``rl_coach.logger``, on rlops (:mod:`rlops.toolkits.coach`)."""
# ruff: noqa: F401  (re-exports under Coach's names)

from rlops.toolkits.coach.logger import experiment_path, get_experiment_name, screen, ScreenLogger
