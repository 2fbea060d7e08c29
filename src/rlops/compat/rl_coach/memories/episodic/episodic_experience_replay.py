"""Coach's ``rl_coach.memories.episodic.episodic_experience_replay``, on rlops (:mod:`rlops.toolkits.coach`)."""
# ruff: noqa: F401  (re-exports under Coach's names)

from rlops.toolkits.coach.params import EpisodicExperienceReplayParameters
