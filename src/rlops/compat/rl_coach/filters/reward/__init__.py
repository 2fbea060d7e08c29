"""Coach's ``rl_coach.filters.reward``, on rlops (:mod:`rlops.toolkits.coach`)."""
