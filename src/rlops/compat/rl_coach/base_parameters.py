"""Coach's ``rl_coach.base_parameters``, on rlops (:mod:`rlops.toolkits.coach`)."""
# ruff: noqa: F401  (re-exports under Coach's names)

from rlops.toolkits.coach.params import (
    AgentParameters, AlgorithmParameters, DistributedCoachSynchronizationType,
    EmbedderScheme, Frameworks, MiddlewareScheme, NetworkParameters, Parameters, PresetValidationParameters,
    TaskParameters, VisualizationParameters)
