"""Coach's ``rl_coach.memories.non_episodic``, on rlops (:mod:`rlops.toolkits.coach`)."""
