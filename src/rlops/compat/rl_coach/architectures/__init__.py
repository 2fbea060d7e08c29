"""Coach's ``rl_coach.architectures``, on rlops (:mod:`rlops.toolkits.coach`)."""
