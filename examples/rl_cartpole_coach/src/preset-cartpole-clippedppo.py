"""A Coach preset in the style of SageMaker RL's cart-pole sample (written for rlops)."""
from rl_coach.agents.clipped_ppo_agent import ClippedPPOAgentParameters
from rl_coach.architectures.layers import Dense
from rl_coach.base_parameters import PresetValidationParameters, VisualizationParameters
from rl_coach.core_types import EnvironmentEpisodes, EnvironmentSteps, TrainingSteps
from rl_coach.environments.gym_environment import GymVectorEnvironment
from rl_coach.exploration_policies.e_greedy import EGreedyParameters
from rl_coach.filters.observation.observation_normalization_filter import ObservationNormalizationFilter
from rl_coach.graph_managers.basic_rl_graph_manager import BasicRLGraphManager
from rl_coach.graph_managers.graph_manager import ScheduleParameters
from rl_coach.schedules import LinearSchedule

schedule_params = ScheduleParameters()
schedule_params.improve_steps = TrainingSteps(40000)
schedule_params.steps_between_evaluation_periods = EnvironmentSteps(10000)
schedule_params.evaluation_steps = EnvironmentEpisodes(5)
schedule_params.heatup_steps = EnvironmentSteps(0)

agent_params = ClippedPPOAgentParameters()
main = agent_params.network_wrappers["main"]
main.learning_rate = 0.001
main.input_embedders_parameters["observation"].activation_function = "tanh"
main.input_embedders_parameters["observation"].scheme = [Dense(64)]
main.middleware_parameters.scheme = [Dense(64)]
main.middleware_parameters.activation_function = "tanh"
main.batch_size = 256
agent_params.algorithm.clip_likelihood_ratio_using_epsilon = 0.2
agent_params.algorithm.clipping_decay_schedule = LinearSchedule(1.0, 0, 1000000)
agent_params.algorithm.beta_entropy = 0
agent_params.algorithm.gae_lambda = 0.8
agent_params.algorithm.discount = 0.98
agent_params.algorithm.optimization_epochs = 20
agent_params.algorithm.num_consecutive_playing_steps = EnvironmentSteps(512)
agent_params.exploration = EGreedyParameters()
agent_params.exploration.epsilon_schedule = LinearSchedule(1.0, 0.01, 10000)
agent_params.pre_network_filter.add_observation_filter(
    "observation", "normalize_observation", ObservationNormalizationFilter(name="normalize_observation"))

env_params = GymVectorEnvironment(level="CartPole-v0")

vis_params = VisualizationParameters()
vis_params.dump_gifs = True

preset_validation_params = PresetValidationParameters()
preset_validation_params.test = True
preset_validation_params.min_reward_threshold = 150

graph_manager = BasicRLGraphManager(agent_params=agent_params, env_params=env_params, schedule_params=schedule_params,
                                    vis_params=vis_params, preset_validation_params=preset_validation_params)
