"""Coach's ``rl_coach.exploration_policies.greedy``, on rlops (:mod:`rlops.toolkits.coach`)."""
# ruff: noqa: F401  (re-exports under Coach's names)

from rlops.toolkits.coach.params import GreedyParameters
