"""Coach's ``rl_coach.architectures.head_parameters``, on rlops (:mod:`rlops.toolkits.coach`)."""
# ruff: noqa: F401  (re-exports under Coach's names)

from rlops.toolkits.coach.params import (
    DuelingQHeadParameters, HeadParameters, PolicyHeadParameters,
    PPOHeadParameters, QHeadParameters, QuantileRegressionQHeadParameters, RainbowQHeadParameters, VHeadParameters)
