"""Coach's ``rl_coach.agents``, on rlops (:mod:`rlops.toolkits.coach`)."""
