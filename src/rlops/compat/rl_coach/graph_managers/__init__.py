"""Coach's ``rl_coach.graph_managers``, on rlops (:mod:`rlops.toolkits.coach`)."""
