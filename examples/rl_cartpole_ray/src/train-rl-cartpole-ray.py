"""Cart-pole on Ray RLlib, as SageMaker RL's rl_cartpole_ray notebook trains it (its train-rl-cartpole-ray.py,
written here for rlops): a gym environment registered with Ray, and the experiment as Ray Tune's dict."""
import os

import gym
from ray.tune.registry import register_env

from sagemaker_rl.ray_launcher import SageMakerRayLauncher


def create_environment(env_config):
    return gym.make("CartPole-v1")


class MyLauncher(SageMakerRayLauncher):
    def register_env_creator(self):
        register_env("CartPole-v1", create_environment)

    def get_experiment_config(self):
        return {
            "training": {
                "env": "CartPole-v1",
                "run": "PPO",
                "stop": {"episode_reward_mean": 475, "training_iteration": 40},
                "config": {
                    "use_pytorch": True,
                    "gamma": 0.99,
                    "kl_coeff": 1.0,
                    "num_sgd_iter": 6,
                    "lr": 0.0003,
                    "vf_loss_coeff": 0.01,
                    "sgd_minibatch_size": 256,
                    "train_batch_size": 4000,
                    "num_workers": max(self.num_cpus - 1, 1),
                    "num_envs_per_worker": 4,
                    "model": {"fcnet_hiddens": [64, 64]},
                },
                "checkpoint_freq": int(os.environ.get("SM_HP_CHECKPOINT_FREQ", 5)),
            }
        }


if __name__ == "__main__":
    MyLauncher().train_main()
