"""Coach's ``rl_coach.utils``, on rlops: only the name Coach's scripts import from it. The function lives beside its
caller, in :mod:`rlops.toolkits.coach.launcher`."""
# ruff: noqa: F401  (re-exports under Coach's names)

from rlops.toolkits.coach.launcher import short_dynamic_import
