"""Coach's ``rl_coach.schedules``, on rlops (:mod:`rlops.toolkits.coach`)."""
# ruff: noqa: F401  (re-exports under Coach's names)

from rlops.toolkits.coach.params import ConstantSchedule, ExponentialSchedule, LinearSchedule, Schedule
