"""SageMaker's old Ray configs translate to RLlib 2.x's new API stack; what cannot is refused by name."""

from __future__ import annotations

import pytest

from rlops.exceptions import UsageError
from rlops.toolkits.rllib.config import (
    apply_overrides, config_keys, stop_reached, translate_config, translate_stop,
)

ray_rllib = pytest.importorskip("ray.rllib.algorithms.ppo", reason="the ray extra is part of the test install")


@pytest.fixture(scope="module")
def ppo_keys():
    return config_keys(ray_rllib.PPOConfig())


def test_sagemaker_sample_config_translates(ppo_keys):
    # reinforcement_learning/rl_mujoco_ray/src/train-rl-hopper-ray.py, as SageMaker's sample has it
    old = {"framework": "tf", "gamma": 0.99, "kl_coeff": 1.0, "num_sgd_iter": 20, "lr": 0.0001,
           "sgd_minibatch_size": 1000, "train_batch_size": 25000, "model": {"free_log_std": True},
           "num_workers": 3, "num_gpus": 0, "batch_mode": "truncate_episodes", "lambda": 0.95,
           "num_envs_per_worker": 4, "use_pytorch": True, "env_config": {"x": 1}}
    translation = translate_config(old, known=ppo_keys)
    assert translation.settings == {
        "gamma": 0.99, "kl_coeff": 1.0, "num_epochs": 20, "lr": 0.0001, "minibatch_size": 1000,
        "train_batch_size_per_learner": 25000, "model_config": {"free_log_std": True}, "num_env_runners": 3,
        "batch_mode": "truncate_episodes", "lambda_": 0.95, "num_envs_per_env_runner": 4,
    }
    assert all(key in ppo_keys for key in translation.settings if key != "model_config")
    assert any("'framework' = 'tf' not applied: rlops runs RLlib on PyTorch" in n for n in translation.notes)
    assert "config key 'num_sgd_iter' is 'num_epochs' on RLlib 2.x." in translation.notes


@pytest.mark.parametrize("config, message", [
    ({"num_sgd_iters": 5}, r"Unknown Ray config key 'num_sgd_iters'.*Did you mean 'num_sgd_iter'"),
    ({"horizon": 200}, r"'horizon' has no equivalent.*gymnasium.wrappers.TimeLimit"),
    ({"observation_filter": "MeanStdFilter"}, r"'observation_filter'.*MeanStdFilter env-to-module connector"),
    ({"model": {"fcnet_hidden": [64]}}, r"model setting 'fcnet_hidden'.*Did you mean 'fcnet_hiddens'"),
    ({"model": [64, 64]}, r"'model' must be a dict"),
])
def test_what_cannot_be_translated_is_refused_by_name(ppo_keys, config, message):
    with pytest.raises(UsageError, match=message):
        translate_config(config, known=ppo_keys)


def test_new_stack_names_pass_through(ppo_keys):
    assert translate_config({"num_env_runners": 2, "minibatch_size": 64}, known=ppo_keys).settings == {
        "num_env_runners": 2, "minibatch_size": 64}


def test_stop_keys_translate_and_are_checked():
    stop = translate_stop({"episode_reward_mean": 450, "training_iteration": 60, "timesteps_total": 100000})
    assert stop == {"env_runners/episode_return_mean": 450, "training_iteration": 60,
                    "num_env_steps_sampled_lifetime": 100000}
    assert stop_reached({"env_runners": {"episode_return_mean": 451.0}, "training_iteration": 3}, stop) == (
        "env_runners/episode_return_mean = 451 >= 450")
    assert stop_reached({"env_runners": {"episode_return_mean": 20.0}, "training_iteration": 3}, stop) is None
    with pytest.raises(UsageError, match="Unknown stop criterion 'episode_reward_means'.*Did you mean 'episode_reward_mean'"):
        translate_stop({"episode_reward_means": 1})


def test_overrides_keep_json_types_and_win():
    experiment = {"training": {"run": "PPO", "config": {"lr": 0.1, "model": {"fcnet_hiddens": [256]}}}}
    apply_overrides(experiment, {"rl.training.config.lr": 0.0003, "rl.training.config.model.fcnet_hiddens": [32, 32],
                                 "rl.training.stop.training_iteration": 5, "not_rl": 1})
    assert experiment["training"]["config"] == {"lr": 0.0003, "model": {"fcnet_hiddens": [32, 32]}}
    assert experiment["training"]["stop"] == {"training_iteration": 5} and "not_rl" not in experiment
    with pytest.raises(UsageError, match="goes through 'lr', which is 0.0003"):
        apply_overrides(experiment, {"rl.training.config.lr.x": 1})


def test_an_unknown_algorithm_is_refused_with_the_ones_rllib_has():
    from rlops.toolkits.rllib.launcher import SageMakerRayLauncher

    with pytest.raises(UsageError, match=r"Unknown RLlib algorithm 'PP0' \(training.run\).*APPO.*Did you mean 'PPO'"):
        SageMakerRayLauncher().build_config({"run": "PP0", "env": "CartPole-v1"})
    with pytest.raises(UsageError, match="names no environment"):
        SageMakerRayLauncher().build_config({"run": "PPO"})
