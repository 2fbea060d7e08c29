"""SageMaker's train-rl-cartpole-ray.py, with only its import line changed to rlops."""
import gymnasium
from ray.tune.registry import register_env

from rlops.toolkits.rllib import SageMakerRayLauncher


def create_environment(env_config):
    return gymnasium.make("CartPole-v1")


class MyLauncher(SageMakerRayLauncher):
    def register_env_creator(self):
        register_env("CartPole-v1", create_environment)

    def get_experiment_config(self):
        return {
            "training": {
                "env": "CartPole-v1",
                "run": "PPO",
                # RLlib's deterministic evaluation decides: a stochastic mean can hide a policy that drifts
                "stop": {"evaluation/env_runners/episode_return_mean": 500, "training_iteration": 80},
                "checkpoint_freq": 5,
                "config": {
                    "use_pytorch": True,
                    "gamma": 0.99,
                    "lr": 0.0003,
                    "kl_coeff": 1.0,
                    "num_sgd_iter": 6,
                    "vf_loss_coeff": 0.01,
                    "sgd_minibatch_size": 256,
                    "train_batch_size": 4000,
                    "num_workers": self.num_cpus,
                    "num_envs_per_worker": 4,
                    "model": {"fcnet_hiddens": [64, 64]},
                    "evaluation_interval": 2,
                    "evaluation_num_episodes": 20,
                    "evaluation_config": {"explore": False},
                },
            }
        }


if __name__ == "__main__":
    MyLauncher.train_main()
