"""Coach's ``rl_coach.filters``, on rlops (:mod:`rlops.toolkits.coach`)."""
