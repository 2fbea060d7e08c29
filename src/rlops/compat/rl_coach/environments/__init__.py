"""Coach's ``rl_coach.environments``, on rlops (:mod:`rlops.toolkits.coach`)."""
