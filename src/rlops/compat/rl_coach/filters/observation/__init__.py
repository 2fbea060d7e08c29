"""Coach's ``rl_coach.filters.observation``, on rlops (:mod:`rlops.toolkits.coach`)."""
