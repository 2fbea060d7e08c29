"""Coach's ``rl_coach.graph_managers.graph_manager``, on rlops (:mod:`rlops.toolkits.coach`)."""
# ruff: noqa: F401  (re-exports under Coach's names)

from rlops.toolkits.coach.graph import GraphManager, ScheduleParameters, SimpleSchedule
