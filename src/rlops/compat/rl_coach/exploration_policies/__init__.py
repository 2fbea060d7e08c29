"""Coach's ``rl_coach.exploration_policies``, on rlops (:mod:`rlops.toolkits.coach`)."""
