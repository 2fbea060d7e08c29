"""Coach's parameter classes, as plain objects with Coach's names, fields and defaults.

SageMaker's Coach presets build a ``graph_manager`` out of these and its launcher sets fields by
dotted path (``rl.agent_params.algorithm.discount``) through ``obj.__dict__``, so every field is a
plain attribute. Nothing here trains: :mod:`rlops.toolkits.coach.translate` turns a graph manager
into an SB3 preset. The ``rl_coach`` package on a Coach job's path re-exports these classes under
Coach's module names.
"""

from __future__ import annotations

import enum
from typing import Any


class Parameters:
    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({fields})"


# -- core types ------------------------------------------------------------------------------


class StepMethod:
    """A number of steps of some kind (Coach's ``core_types.StepMethod``)."""

    def __init__(self, num_steps: int):
        self._num_steps = num_steps

    @property
    def num_steps(self) -> int:
        return self._num_steps

    @num_steps.setter
    def num_steps(self, value: int) -> None:
        self._num_steps = value

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._num_steps})"

    def __eq__(self, other) -> bool:
        return type(self) is type(other) and self._num_steps == other._num_steps

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._num_steps))


class Frames(StepMethod):
    pass


class EnvironmentSteps(StepMethod):
    pass


class EnvironmentEpisodes(StepMethod):
    pass


class TrainingSteps(StepMethod):
    pass


class Time(StepMethod):
    pass


class RunPhase(enum.Enum):
    HEATUP = "Heatup"
    TRAIN = "Training"
    TEST = "Testing"
    UNDEFINED = "Undefined"


class SelectedPhaseOnlyDumpFilter:
    def __init__(self, run_phases):
        self.run_phases = run_phases if isinstance(run_phases, list) else [run_phases]


class MaxDumpFilter:
    pass


class AlwaysDumpFilter:
    pass


# -- schedules -------------------------------------------------------------------------------


class Schedule:
    def __init__(self, initial_value: float):
        self.initial_value = initial_value
        self.current_value = initial_value


class ConstantSchedule(Schedule):
    pass


class LinearSchedule(Schedule):
    def __init__(self, initial_value: float, final_value: float, decay_steps: int):
        super().__init__(initial_value)
        self.final_value, self.decay_steps = final_value, decay_steps


class ExponentialSchedule(Schedule):
    def __init__(self, initial_value: float, final_value: float, decay_coefficient: float):
        super().__init__(initial_value)
        self.final_value, self.decay_coefficient = final_value, decay_coefficient


# -- networks --------------------------------------------------------------------------------


class Dense:
    def __init__(self, units: int):
        self.units = units

    def __repr__(self) -> str:
        return f"Dense({self.units})"


class EmbedderScheme(enum.Enum):
    Empty = "Empty"
    Shallow = "Shallow"
    Medium = "Medium"
    Deep = "Deep"


MiddlewareScheme = EmbedderScheme
#: The layers Coach's named schemes stand for (vector observations).
EMBEDDER_SCHEMES = {"Empty": [], "Shallow": [64], "Medium": [256], "Deep": [256, 256, 256]}
MIDDLEWARE_SCHEMES = {"Empty": [], "Shallow": [64], "Medium": [512], "Deep": [128, 128, 128]}


class InputEmbedderParameters(Parameters):
    def __init__(self, activation_function: str = "relu", scheme=EmbedderScheme.Medium, batchnorm: bool = False,
                 dropout_rate: float = 0.0, name: str = "embedder", input_rescaling=None, input_offset=None,
                 input_clipping=None, dense_layer=None, is_training: bool = False, flatten: bool = True):
        self.activation_function, self.scheme, self.batchnorm = activation_function, scheme, batchnorm
        self.dropout_rate, self.name, self.input_rescaling = dropout_rate, name, input_rescaling
        self.input_offset, self.input_clipping, self.dense_layer = input_offset, input_clipping, dense_layer
        self.is_training, self.flatten = is_training, flatten


class FCMiddlewareParameters(Parameters):
    def __init__(self, activation_function: str = "relu", scheme=MiddlewareScheme.Medium, batchnorm: bool = False,
                 dropout_rate: float = 0.0, name: str = "middleware_fc_embedder", dense_layer=None,
                 is_training: bool = False, num_streams: int = 1):
        self.activation_function, self.scheme, self.batchnorm = activation_function, scheme, batchnorm
        self.dropout_rate, self.name, self.dense_layer = dropout_rate, name, dense_layer
        self.is_training, self.num_streams = is_training, num_streams


class HeadParameters(Parameters):
    def __init__(self, activation_function: str = "relu", name: str = "head", **kwargs):
        self.activation_function, self.name = activation_function, name
        self.__dict__.update(kwargs)


class QHeadParameters(HeadParameters):
    pass


class DuelingQHeadParameters(HeadParameters):
    pass


class QuantileRegressionQHeadParameters(HeadParameters):
    pass


class RainbowQHeadParameters(HeadParameters):
    pass


class PPOHeadParameters(HeadParameters):
    pass


class VHeadParameters(HeadParameters):
    pass


class PolicyHeadParameters(HeadParameters):
    pass


class NetworkParameters(Parameters):
    def __init__(self, framework=None, learning_rate: float = 0.00025, batch_size: int = 32,
                 input_embedders_parameters: dict | None = None, middleware_parameters=None, heads_parameters=None,
                 **kwargs):
        self.framework = framework
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.optimizer_type = "Adam"
        self.optimizer_epsilon = 0.0001
        self.adam_optimizer_beta1 = 0.9
        self.adam_optimizer_beta2 = 0.99
        self.rms_prop_optimizer_decay = 0.9
        self.clip_gradients = None
        self.gradients_clipping_method = "ClipByGlobalNorm"
        self.l2_regularization = 0
        self.learning_rate_decay_rate = 0
        self.learning_rate_decay_steps = 0
        self.replace_mse_with_huber_loss = False
        self.create_target_network = False
        self.shared_optimizer = True
        self.scale_down_gradients_by_number_of_workers_for_sync_training = True
        self.async_training = False
        self.use_separate_networks_per_head = False
        self.input_embedders_parameters = input_embedders_parameters or {"observation": InputEmbedderParameters()}
        self.middleware_parameters = middleware_parameters or FCMiddlewareParameters()
        self.heads_parameters = heads_parameters or [QHeadParameters()]
        self.__dict__.update(kwargs)


# -- exploration ------------------------------------------------------------------------------


class ExplorationParameters(Parameters):
    pass


class EGreedyParameters(ExplorationParameters):
    def __init__(self):
        self.epsilon_schedule = LinearSchedule(0.5, 0.01, 50000)
        self.evaluation_epsilon = 0.05
        self.continuous_exploration_policy_parameters = AdditiveNoiseParameters()


class AdditiveNoiseParameters(ExplorationParameters):
    def __init__(self):
        self.noise_schedule = LinearSchedule(0.1, 0.1, 50000)
        self.evaluation_noise = 0.05
        self.noise_as_percentage_from_action_space = True


class CategoricalParameters(ExplorationParameters):
    pass


class ContinuousEntropyParameters(AdditiveNoiseParameters):
    pass


class OUProcessParameters(ExplorationParameters):
    def __init__(self):
        self.mu, self.theta, self.sigma, self.dt = 0, 0.15, 0.2, 0.01


class TruncatedNormalParameters(AdditiveNoiseParameters):
    pass


class GreedyParameters(ExplorationParameters):
    pass


# -- memories --------------------------------------------------------------------------------


class MemoryGranularity(enum.Enum):
    Transitions = 0
    Episodes = 1


class MemoryParameters(Parameters):
    def __init__(self):
        self.max_size = (MemoryGranularity.Transitions, 1000000)
        self.shared_memory = False
        self.load_memory_from_file_path = None


class ExperienceReplayParameters(MemoryParameters):
    def __init__(self):
        super().__init__()
        self.allow_duplicates_in_batch_sampling = True


class EpisodicExperienceReplayParameters(MemoryParameters):
    def __init__(self):
        super().__init__()
        self.max_size = (MemoryGranularity.Transitions, 1000000)
        self.n_step = -1
        self.train_to_eval_ratio = 1


class PrioritizedExperienceReplayParameters(ExperienceReplayParameters):
    def __init__(self):
        super().__init__()
        self.alpha, self.beta, self.epsilon = 0.6, ConstantSchedule(0.4), 1e-6


# -- filters ---------------------------------------------------------------------------------


class ObservationNormalizationFilter(Parameters):
    def __init__(self, clip_min: float = -5.0, clip_max: float = 5.0, name: str = "observation_stats"):
        self.clip_min, self.clip_max, self.name = clip_min, clip_max, name


class RewardRescaleFilter(Parameters):
    def __init__(self, rescale_factor: float):
        self.rescale_factor = rescale_factor


class RewardClippingFilter(Parameters):
    def __init__(self, clipping_low: float = -float("inf"), clipping_high: float = float("inf")):
        self.clipping_low, self.clipping_high = clipping_low, clipping_high


class RewardNormalizationFilter(Parameters):
    def __init__(self, clip_min: float = -5.0, clip_max: float = 5.0):
        self.clip_min, self.clip_max = clip_min, clip_max


class InputFilter(Parameters):
    def __init__(self, is_a_reference_filter: bool = False, name: str = "input_filter"):
        self._observation_filters: dict[str, dict[str, Any]] = {}
        self._reward_filters: dict[str, Any] = {}
        self.is_a_reference_filter, self.name = is_a_reference_filter, name

    def add_observation_filter(self, observation_name: str, filter_name: str, filter, add_as_the_first_filter=False):
        self._observation_filters.setdefault(observation_name, {})[filter_name] = filter

    def add_reward_filter(self, filter_name: str, filter, add_as_the_first_filter=False):
        self._reward_filters[filter_name] = filter

    def remove_observation_filter(self, observation_name: str, filter_name: str) -> None:
        self._observation_filters.get(observation_name, {}).pop(filter_name, None)

    def remove_reward_filter(self, filter_name: str) -> None:
        self._reward_filters.pop(filter_name, None)

    @property
    def observation_filters(self):
        return self._observation_filters

    @property
    def reward_filters(self):
        return self._reward_filters

    def filters(self) -> list:
        return [f for group in self._observation_filters.values() for f in group.values()] + list(
            self._reward_filters.values())


class NoInputFilter(InputFilter):
    pass


class OutputFilter(Parameters):
    def __init__(self, *args, **kwargs):
        self._action_filters = {}


class NoOutputFilter(OutputFilter):
    pass


# -- agents ----------------------------------------------------------------------------------


class AlgorithmParameters(Parameters):
    def __init__(self):
        self.discount = 0.99
        self.num_consecutive_playing_steps = EnvironmentSteps(1)
        self.num_steps_between_copying_online_weights_to_target = TrainingSteps(0)
        self.rate_for_copying_weights_to_target = 1.0
        self.heatup_using_network_decisions = False
        self.apply_gradients_every_x_episodes = 5
        self.num_consecutive_training_steps = 1
        self.act_for_full_episodes = False
        self.store_transitions_only_when_episodes_are_terminated = False
        self.distributed_coach_synchronization_type = None
        self.share_statistics_between_workers = True
        self.load_memory_from_file_path = None
        self.update_pre_network_filters_state_on_train = False
        self.update_pre_network_filters_state_on_inference = True
        self.n_step = -1
        self.supports_parameter_noise = False


class VisualizationParameters(Parameters):
    def __init__(self, print_networks_summary: bool = False, dump_csv: bool = True, dump_signals_to_csv_every_x_episodes: int = 5,
                 dump_gifs: bool = False, dump_mp4: bool = False, video_dump_methods=None, dump_in_episode_signals: bool = False,
                 dump_parameters_documentation: bool = True, render: bool = False, native_rendering: bool = False,
                 max_fps_for_human_control: int = 10, tensorboard: bool = False, add_rendered_image_to_env_response: bool = False):
        self.print_networks_summary, self.dump_csv = print_networks_summary, dump_csv
        self.dump_signals_to_csv_every_x_episodes = dump_signals_to_csv_every_x_episodes
        self.dump_gifs, self.dump_mp4, self.video_dump_methods = dump_gifs, dump_mp4, video_dump_methods or []
        self.dump_in_episode_signals = dump_in_episode_signals
        self.dump_parameters_documentation, self.render = dump_parameters_documentation, render
        self.native_rendering, self.max_fps_for_human_control = native_rendering, max_fps_for_human_control
        self.tensorboard, self.add_rendered_image_to_env_response = tensorboard, add_rendered_image_to_env_response


class AgentParameters(Parameters):
    def __init__(self, algorithm, exploration, memory, networks: dict, visualization=None):
        self.visualization = visualization or VisualizationParameters()
        self.algorithm = algorithm
        self.exploration = exploration
        self.memory = memory
        self.network_wrappers = networks
        self.input_filter = NoInputFilter()
        self.output_filter = NoOutputFilter()
        self.pre_network_filter = NoInputFilter()
        self.full_name_id = None
        self.name = None
        self.is_a_highest_level_agent = True
        self.is_a_lowest_level_agent = True
        self.task_parameters = None
        self.is_batch_rl_training = False


class PresetValidationParameters(Parameters):
    def __init__(self, test: bool = False, min_reward_threshold: float = 0, max_episodes_to_achieve_reward: int = 1,
                 num_workers: int = 1, reward_test_level=None, test_using_a_trace_test: bool = True,
                 trace_test_levels=None, trace_max_env_steps: int = 5000, read_csv_tries: int = 200):
        self.test, self.min_reward_threshold = test, min_reward_threshold
        self.max_episodes_to_achieve_reward, self.num_workers = max_episodes_to_achieve_reward, num_workers
        self.reward_test_level, self.test_using_a_trace_test = reward_test_level, test_using_a_trace_test
        self.trace_test_levels, self.trace_max_env_steps = trace_test_levels, trace_max_env_steps
        self.read_csv_tries = read_csv_tries


class Frameworks(enum.Enum):
    tensorflow = "TensorFlow"
    mxnet = "MXNet"
    pytorch = "PyTorch"  # what rlops runs, whatever a script asks for


class DistributedCoachSynchronizationType(enum.Enum):
    SYNC = "sync"
    ASYNC = "async"


class TaskParameters(Parameters):
    def __init__(self, framework_type=Frameworks.tensorflow, evaluate_only: int | None = None,
                 use_cpu: bool = False, experiment_path: str = "/tmp", seed: int | None = None,
                 checkpoint_save_secs: int | None = None, checkpoint_restore_dir: str | None = None,
                 checkpoint_restore_path: str | None = None, checkpoint_save_dir: str | None = None,
                 export_onnx_graph: bool = False, apply_stop_condition: bool = False, num_gpu: int = 1):
        self.framework_type, self.evaluate_only, self.use_cpu = framework_type, evaluate_only, use_cpu
        self.experiment_path, self.seed, self.checkpoint_save_secs = experiment_path, seed, checkpoint_save_secs
        self.checkpoint_restore_path = checkpoint_restore_path or checkpoint_restore_dir
        self.checkpoint_save_dir, self.export_onnx_graph = checkpoint_save_dir, export_onnx_graph
        self.apply_stop_condition, self.num_gpu = apply_stop_condition, num_gpu

    @property
    def checkpoint_restore_dir(self):
        return self.checkpoint_restore_path
