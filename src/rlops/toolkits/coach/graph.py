"""Coach's graph managers, schedule and environment parameters; training runs on the SB3 toolkit.

``BasicRLGraphManager(agent_params, env_params, schedule_params, vis_params)`` keeps Coach's
attributes (``agent_params``, ``env_params``, ``improve_steps``, ``steps_between_evaluation_periods``,
``evaluation_steps``, ``heatup_steps``, ...), so presets and ``rl.*`` hyperparameters set them as
they did. ``create_graph()`` translates the whole configuration into an SB3 preset
(:mod:`rlops.toolkits.coach.translate`), reporting once each field that has no equivalent;
``improve()`` trains it with the SB3 toolkit; ``evaluate(steps)`` plays the policy restored from
the checkpoint folder.
"""

from __future__ import annotations

from typing import Any

from rlops.toolkits.coach.params import EnvironmentEpisodes, EnvironmentSteps, Parameters, TrainingSteps, VisualizationParameters


class ScheduleParameters(Parameters):
    def __init__(self):
        self.heatup_steps = EnvironmentSteps(0)
        self.evaluation_steps = EnvironmentEpisodes(1)
        self.steps_between_evaluation_periods = EnvironmentSteps(10000)
        self.improve_steps = TrainingSteps(10000000000)


class SimpleSchedule(ScheduleParameters):
    pass


class EnvironmentParameters(Parameters):
    def __init__(self, level=None):
        self.level = level
        self.frame_skip = 4
        self.seed = None
        self.human_control = False
        self.custom_reward_threshold = None
        self.default_input_filter = None
        self.default_output_filter = None
        self.experiment_path = None
        self.additional_simulator_parameters: dict[str, Any] = {}


class GymEnvironmentParameters(EnvironmentParameters):
    def __init__(self, level=None):
        super().__init__(level)
        self.random_initialization_steps = 0
        self.max_over_num_frames = 1
        self.observation_space_type = None


class GymVectorEnvironment(GymEnvironmentParameters):
    """A Gymnasium id (``CartPole-v0``) or ``module:Class`` from the job's code, with keyword arguments."""

    def __init__(self, level=None, additional_simulator_parameters: dict | None = None, **kwargs):
        super().__init__(level)
        self.frame_skip = 1
        self.additional_simulator_parameters = dict(additional_simulator_parameters or {})
        self.__dict__.update(kwargs)


GymEnvironment = GymVectorEnvironment
#: Coach's level names for MuJoCo and Atari suites (presets import them; rlops runs Gymnasium's ids).
mujoco_v2 = {name: f"{name}-v2" for name in ("HalfCheetah", "Hopper", "Walker2d", "Ant", "Humanoid", "Reacher",
                                              "Swimmer", "InvertedPendulum", "InvertedDoublePendulum")}
atari_deterministic_v4 = {}
atari_schedule = ScheduleParameters()


class GraphManager:
    """Coach's ``GraphManager`` surface: built from parameters, trained by ``improve()``."""

    def __init__(self, name: str, schedule_params: ScheduleParameters, vis_params: VisualizationParameters | None = None):
        self.name = name
        self.schedule_params = schedule_params
        self.visualization_parameters = vis_params or VisualizationParameters()
        self.improve_steps = schedule_params.improve_steps
        self.steps_between_evaluation_periods = schedule_params.steps_between_evaluation_periods
        self.evaluation_steps = schedule_params.evaluation_steps
        self.heatup_steps = schedule_params.heatup_steps
        self.task_parameters = None
        self.preset_validation_params = None
        self._run = None

    def create_graph(self, task_parameters=None):
        from rlops.toolkits.coach.run import CoachRun

        self.task_parameters = task_parameters
        self._run = CoachRun(self, task_parameters)
        return self

    def _require_graph(self):
        if self._run is None:
            self.create_graph(self.task_parameters)
        return self._run

    def improve(self) -> None:
        """Heatup, then train with periodic evaluation, as the schedule says (on the SB3 toolkit)."""
        self._require_graph().train()

    def evaluate(self, steps) -> None:
        """Play the policy restored from the checkpoint folder for ``steps`` (EnvironmentSteps or EnvironmentEpisodes)."""
        self._require_graph().evaluate(steps)

    def save_checkpoint(self) -> None:
        pass  # checkpoints are written as training goes, and at its end

    def close(self) -> None:
        pass

    def setup_logger(self):
        pass


class BasicRLGraphManager(GraphManager):
    def __init__(self, agent_params, env_params, schedule_params, vis_params=None, preset_validation_params=None,
                 name: str = "simple_rl_graph"):
        super().__init__(name, schedule_params, vis_params)
        self.agent_params = agent_params
        self.env_params = env_params
        self.preset_validation_params = preset_validation_params
        if agent_params is not None:
            agent_params.visualization = self.visualization_parameters
