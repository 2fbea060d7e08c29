"""Coach's ``rl_coach.exploration_policies.e_greedy``, on rlops (:mod:`rlops.toolkits.coach`)."""
# ruff: noqa: F401  (re-exports under Coach's names)

from rlops.toolkits.coach.params import EGreedyParameters
