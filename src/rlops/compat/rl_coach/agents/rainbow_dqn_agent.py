"""Coach's ``rl_coach.agents.rainbow_dqn_agent``, on rlops (:mod:`rlops.toolkits.coach`)."""
# ruff: noqa: F401  (re-exports under Coach's names)

from rlops.toolkits.coach.agents import RainbowDQNAgentParameters
