"""Coach's ``rl_coach.filters.reward.reward_rescale_filter``, on rlops (:mod:`rlops.toolkits.coach`)."""
# ruff: noqa: F401  (re-exports under Coach's names)

from rlops.toolkits.coach.params import RewardRescaleFilter
