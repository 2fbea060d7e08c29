"""Coach's ``rl_coach.utils``, on rlops (:mod:`rlops.toolkits.coach`)."""
# ruff: noqa: F401  (re-exports under Coach's names)

from rlops.toolkits.coach.launcher import short_dynamic_import
