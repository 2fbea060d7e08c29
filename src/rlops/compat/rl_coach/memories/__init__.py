"""Coach's ``rl_coach.memories``, on rlops (:mod:`rlops.toolkits.coach`)."""
