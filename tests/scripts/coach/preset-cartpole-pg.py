"""A preset whose agent rlops does not translate (Coach's REINFORCE)."""
from rl_coach.agents.policy_gradients_agent import PolicyGradientsAgentParameters
from rl_coach.environments.gym_environment import GymVectorEnvironment
from rl_coach.graph_managers.basic_rl_graph_manager import BasicRLGraphManager
from rl_coach.graph_managers.graph_manager import ScheduleParameters

graph_manager = BasicRLGraphManager(agent_params=PolicyGradientsAgentParameters(),
                                    env_params=GymVectorEnvironment(level="CartPole-v0"),
                                    schedule_params=ScheduleParameters())
