"""Coach's agent parameter classes with Coach's defaults, each naming the SB3 algorithm it becomes.

``SB3`` is the algorithm a translated job trains; ``None`` marks an agent rlops does not translate
(the job fails before training, naming the agents it can). ``NOTE`` says what differs.
"""

from __future__ import annotations

from rlops.toolkits.coach.params import (
    AgentParameters, AlgorithmParameters, CategoricalParameters, ConstantSchedule, ContinuousEntropyParameters,
    EGreedyParameters, EnvironmentEpisodes, EnvironmentSteps, EpisodicExperienceReplayParameters,
    ExperienceReplayParameters, FCMiddlewareParameters, InputEmbedderParameters, LinearSchedule, MemoryGranularity,
    NetworkParameters, OUProcessParameters, PPOHeadParameters, QHeadParameters, QuantileRegressionQHeadParameters,
    RainbowQHeadParameters, TruncatedNormalParameters, VHeadParameters,
)


class TranslatableAgent(AgentParameters):
    SB3: str | None = None
    NOTE: str = ""


# -- PPO family ------------------------------------------------------------------------------------


class ClippedPPONetworkParameters(NetworkParameters):
    def __init__(self):
        super().__init__(input_embedders_parameters={"observation": InputEmbedderParameters(activation_function="tanh")},
                         middleware_parameters=FCMiddlewareParameters(activation_function="tanh"),
                         heads_parameters=[VHeadParameters(), PPOHeadParameters()])
        self.batch_size = 64
        self.optimizer_type = "Adam"
        self.clip_gradients = None
        self.use_separate_networks_per_head = True
        self.learning_rate = 0.0003
        self.optimizer_epsilon = 1e-5
        self.adam_optimizer_beta1 = 0.9
        self.adam_optimizer_beta2 = 0.999


class ClippedPPOAlgorithmParameters(AlgorithmParameters):
    def __init__(self):
        super().__init__()
        self.num_episodes_in_experience_replay = 1000000
        self.policy_gradient_rescaler = "GAE"
        self.gae_lambda = 0.95
        self.use_kl_regularization = False
        self.clip_likelihood_ratio_using_epsilon = 0.2
        self.estimate_state_value_using_gae = True
        self.beta_entropy = 0.01
        self.num_consecutive_playing_steps = EnvironmentSteps(2048)
        self.optimization_epochs = 10
        self.normalization_stats = None
        self.clipping_decay_schedule = ConstantSchedule(1)
        self.act_for_full_episodes = True
        self.update_pre_network_filters_state_on_train = True
        self.update_pre_network_filters_state_on_inference = False


class ClippedPPOAgentParameters(TranslatableAgent):
    SB3 = "PPO"

    def __init__(self):
        super().__init__(algorithm=ClippedPPOAlgorithmParameters(), exploration=CategoricalParameters(),
                         memory=EpisodicExperienceReplayParameters(), networks={"main": ClippedPPONetworkParameters()})


class PPOAlgorithmParameters(ClippedPPOAlgorithmParameters):
    def __init__(self):
        super().__init__()
        self.use_kl_regularization = True
        self.initial_kl_coefficient = 1.0
        self.target_kl_divergence = 0.01
        self.high_kl_penalty_coefficient = 1000
        self.clip_likelihood_ratio_using_epsilon = None
        self.num_consecutive_playing_steps = EnvironmentEpisodes(5)


class PPOAgentParameters(TranslatableAgent):
    SB3 = "PPO"
    NOTE = ("Coach's PPO (a KL penalty) runs as SB3's PPO (a clipped objective, clip 0.2, with target_kl from "
            "target_kl_divergence).")

    def __init__(self):
        super().__init__(algorithm=PPOAlgorithmParameters(), exploration=CategoricalParameters(),
                         memory=EpisodicExperienceReplayParameters(), networks={"main": ClippedPPONetworkParameters()})


class ActorCriticAlgorithmParameters(AlgorithmParameters):
    def __init__(self):
        super().__init__()
        self.policy_gradient_rescaler = "A_VALUE"
        self.apply_gradients_every_x_episodes = 5
        self.beta_entropy = 0
        self.num_steps_between_gradient_updates = 5000
        self.gae_lambda = 0.96
        self.estimate_state_value_using_gae = False


class ActorCriticAgentParameters(TranslatableAgent):
    SB3 = "A2C"
    NOTE = "Coach's A3C (asynchronous workers) runs as SB3's A2C (synchronous, vectorised environments)."

    def __init__(self):
        network = NetworkParameters(heads_parameters=[VHeadParameters(), PPOHeadParameters()])
        network.learning_rate = 0.0001
        super().__init__(algorithm=ActorCriticAlgorithmParameters(), exploration=CategoricalParameters(),
                         memory=EpisodicExperienceReplayParameters(), networks={"main": network})


# -- DQN family ------------------------------------------------------------------------------------


class DQNNetworkParameters(NetworkParameters):
    def __init__(self):
        super().__init__(heads_parameters=[QHeadParameters()])
        self.optimizer_type = "Adam"
        self.batch_size = 32
        self.replace_mse_with_huber_loss = True
        self.create_target_network = True
        self.should_get_softmax_probabilities = False


class DQNAlgorithmParameters(AlgorithmParameters):
    def __init__(self):
        super().__init__()
        self.num_steps_between_copying_online_weights_to_target = EnvironmentSteps(10000)
        self.num_consecutive_playing_steps = EnvironmentSteps(4)
        self.discount = 0.99
        self.supports_parameter_noise = True


def _dqn_exploration() -> EGreedyParameters:
    exploration = EGreedyParameters()
    exploration.epsilon_schedule = LinearSchedule(1, 0.1, 1000000)
    exploration.evaluation_epsilon = 0.05
    return exploration


class DQNAgentParameters(TranslatableAgent):
    SB3 = "DQN"

    def __init__(self):
        memory = ExperienceReplayParameters()
        memory.max_size = (MemoryGranularity.Transitions, 1000000)
        super().__init__(algorithm=DQNAlgorithmParameters(), exploration=_dqn_exploration(), memory=memory,
                         networks={"main": DQNNetworkParameters()})


class DDQNAgentParameters(DQNAgentParameters):
    NOTE = ("Coach's Double DQN runs as SB3's DQN, whose target is the target network's maximum (not the online "
            "network's choice evaluated by the target network).")


class QuantileRegressionDQNAlgorithmParameters(DQNAlgorithmParameters):
    def __init__(self):
        super().__init__()
        self.atoms = 200
        self.huber_loss_interval = 1


class QuantileRegressionDQNAgentParameters(TranslatableAgent):
    SB3 = "QRDQN"

    def __init__(self):
        network = DQNNetworkParameters()
        network.heads_parameters = [QuantileRegressionQHeadParameters()]
        network.learning_rate = 0.00005
        network.optimizer_epsilon = 0.01 / 32
        memory = ExperienceReplayParameters()
        super().__init__(algorithm=QuantileRegressionDQNAlgorithmParameters(), exploration=_dqn_exploration(),
                         memory=memory, networks={"main": network})


class RainbowDQNAgentParameters(TranslatableAgent):
    SB3 = None  # neither SB3 nor sb3-contrib has Rainbow

    def __init__(self):
        network = DQNNetworkParameters()
        network.heads_parameters = [RainbowQHeadParameters()]
        super().__init__(algorithm=DQNAlgorithmParameters(), exploration=_dqn_exploration(),
                         memory=ExperienceReplayParameters(), networks={"main": network})


# -- continuous control ----------------------------------------------------------------------------


class DDPGAlgorithmParameters(AlgorithmParameters):
    def __init__(self):
        super().__init__()
        self.num_steps_between_copying_online_weights_to_target = EnvironmentSteps(1)
        self.rate_for_copying_weights_to_target = 0.001
        self.num_consecutive_playing_steps = EnvironmentSteps(1)
        self.use_target_network_for_evaluation = False
        self.action_penalty = 0
        self.clip_critic_targets = None
        self.use_non_zero_discount_for_terminal_states = False


def _actor_critic_networks() -> dict:
    actor, critic = NetworkParameters(heads_parameters=[]), NetworkParameters(heads_parameters=[])
    for network in (actor, critic):
        network.input_embedders_parameters = {"observation": InputEmbedderParameters(batchnorm=True)}
        network.learning_rate = 0.0001 if network is actor else 0.001
        network.batch_size = 64
        network.create_target_network = True
    return {"actor": actor, "critic": critic}


class DDPGAgentParameters(TranslatableAgent):
    SB3 = "DDPG"

    def __init__(self):
        super().__init__(algorithm=DDPGAlgorithmParameters(), exploration=OUProcessParameters(),
                         memory=EpisodicExperienceReplayParameters(), networks=_actor_critic_networks())


class TD3AlgorithmParameters(DDPGAlgorithmParameters):
    def __init__(self):
        super().__init__()
        self.rate_for_copying_weights_to_target = 0.005
        self.num_steps_between_copying_online_weights_to_target = EnvironmentSteps(2)
        self.policy_noise = 0.2
        self.noise_clipping = 0.5


class TD3AgentParameters(TranslatableAgent):
    SB3 = "TD3"

    def __init__(self):
        super().__init__(algorithm=TD3AlgorithmParameters(), exploration=TruncatedNormalParameters(),
                         memory=EpisodicExperienceReplayParameters(), networks=_actor_critic_networks())


class SoftActorCriticAlgorithmParameters(AlgorithmParameters):
    def __init__(self):
        super().__init__()
        self.num_steps_between_copying_online_weights_to_target = EnvironmentSteps(1)
        self.rate_for_copying_weights_to_target = 0.005
        self.use_deterministic_for_evaluation = True


class SoftActorCriticAgentParameters(TranslatableAgent):
    SB3 = "SAC"

    def __init__(self):
        networks = _actor_critic_networks()
        for network in networks.values():
            network.learning_rate = 0.0003
            network.batch_size = 256
        super().__init__(algorithm=SoftActorCriticAlgorithmParameters(), exploration=ContinuousEntropyParameters(),
                         memory=ExperienceReplayParameters(), networks=networks)


class PolicyGradientsAgentParameters(TranslatableAgent):
    SB3 = None  # REINFORCE: no SB3 equivalent; A2C or PPO are the nearest

    def __init__(self):
        super().__init__(algorithm=AlgorithmParameters(), exploration=CategoricalParameters(),
                         memory=EpisodicExperienceReplayParameters(), networks={"main": NetworkParameters()})


#: Every agent rlops translates, by Coach's name, for error messages and the README's table.
TRANSLATED = {cls.__name__: cls.SB3 for cls in (
    ClippedPPOAgentParameters, PPOAgentParameters, ActorCriticAgentParameters, DQNAgentParameters,
    DDQNAgentParameters, QuantileRegressionDQNAgentParameters, DDPGAgentParameters, TD3AgentParameters,
    SoftActorCriticAgentParameters)}
