"""Coach's ``rl_coach.exploration_policies.additive_noise``, on rlops (:mod:`rlops.toolkits.coach`)."""
# ruff: noqa: F401  (re-exports under Coach's names)

from rlops.toolkits.coach.params import AdditiveNoiseParameters
