"""Coach's ``rl_coach.graph_managers.basic_rl_graph_manager``, on rlops (:mod:`rlops.toolkits.coach`)."""
# ruff: noqa: F401  (re-exports under Coach's names)

from rlops.toolkits.coach.graph import BasicRLGraphManager
