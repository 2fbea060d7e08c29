"""Evaluating a trained cart-pole policy, as SageMaker RL's rl_cartpole_ray notebook does with its evaluate-ray.py
(written here for rlops): the launcher plays the policy of the ``model`` channel for ``evaluate_episodes``
deterministic episodes and prints each return, training nothing."""
import gym
from ray.tune.registry import register_env

from sagemaker_rl.ray_launcher import SageMakerRayLauncher


class EvaluationLauncher(SageMakerRayLauncher):
    def register_env_creator(self):
        register_env("CartPole-v1", lambda env_config: gym.make("CartPole-v1"))

    def get_experiment_config(self):
        return {"training": {"env": "CartPole-v1", "run": "PPO", "config": {}}}


if __name__ == "__main__":
    EvaluationLauncher().train_main()
