"""Coach's ``rl_coach.memories.episodic``, on rlops (:mod:`rlops.toolkits.coach`)."""
