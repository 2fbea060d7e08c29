"""Coach's ``rl_coach.core_types``, on rlops (:mod:`rlops.toolkits.coach`)."""
# ruff: noqa: F401  (re-exports under Coach's names)

from rlops.toolkits.coach.params import (
    AlwaysDumpFilter, EnvironmentEpisodes, EnvironmentSteps, Frames, MaxDumpFilter,
    RunPhase, SelectedPhaseOnlyDumpFilter, StepMethod, Time, TrainingSteps)
