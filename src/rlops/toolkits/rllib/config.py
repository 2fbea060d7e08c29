"""SageMaker's Ray experiment configs, translated to RLlib 2.x's new API stack.

SageMaker RL scripts were written for RLlib 0.8 to 1.6: ``num_workers``, ``sgd_minibatch_size``,
``model.fcnet_hiddens``, stop keys like ``episode_reward_mean``. RLlib 2.x renamed most of them
(``num_env_runners``, ``minibatch_size``, ``rl_module(model_config=...)``,
``env_runners/episode_return_mean``). :func:`translate_config` maps each old key to its new name,
passes keys that are already new-stack names through, and refuses a key it cannot translate
with its name and, where one exists, the new-stack way to get the same behaviour.

>>> translate_config({"num_workers": 3, "sgd_minibatch_size": 128, "model": {"fcnet_hiddens": [64, 64]}},
...                  known={"num_env_runners", "minibatch_size"}).settings
{'num_env_runners': 3, 'minibatch_size': 128, 'model_config': {'fcnet_hiddens': [64, 64]}}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from rlops.exceptions import UsageError, did_you_mean

#: Old (RLlib <= 1.x, SageMaker sample) config keys and their new-API-stack attribute names.
RENAMED = {
    "num_workers": "num_env_runners",
    "num_envs_per_worker": "num_envs_per_env_runner",
    "train_batch_size": "train_batch_size_per_learner",
    "sgd_minibatch_size": "minibatch_size",
    "num_sgd_iter": "num_epochs",
    "lambda": "lambda_",
    "num_gpus": "num_gpus_per_learner",
    "sample_batch_size": "rollout_fragment_length",
    "timesteps_per_iteration": "min_sample_timesteps_per_iteration",
    "learning_starts": "num_steps_sampled_before_learning_starts",
    "evaluation_num_episodes": "evaluation_duration",
    "ignore_worker_failures": "restart_failed_env_runners",
    "num_cpus_for_driver": "num_cpus_for_main_process",
}
#: Keys that mean nothing on rlops's stack (PyTorch, no Tune): accepted and reported, not applied.
NOTED = {
    "use_pytorch": "rlops runs RLlib on PyTorch",
    "framework": "rlops runs RLlib on PyTorch",
    "eager": "rlops runs RLlib on PyTorch",
    "log_sys_usage": "system usage is not logged",
}
#: Old keys with no direct translation, and what to do instead on the new API stack.
REFUSED = {
    "horizon": "wrap the environment in gymnasium.wrappers.TimeLimit (or register it with max_episode_steps)",
    "soft_horizon": "wrap the environment in gymnasium.wrappers.TimeLimit",
    "monitor": "record episodes with gymnasium.wrappers.RecordVideo in your env creator",
    "observation_filter": "add a MeanStdFilter env-to-module connector "
                          "(config.env_runners(env_to_module_connector=...))",
    "exploration_config": "the new API stack explores through the RLModule; remove exploration_config",
    "callbacks": "subclass ray.rllib.callbacks.callbacks.RLlibCallback and pass it with config.callbacks()",
    "multiagent": "use config.multi_agent(policies=..., policy_mapping_fn=...)",
    "custom_model": "write an RLModule (config.rl_module(rl_module_spec=...))",
}
#: ``model`` keys RLlib's DefaultModelConfig still has.
MODEL_KEYS = {
    "fcnet_hiddens", "fcnet_activation", "fcnet_kernel_initializer", "fcnet_bias_initializer",
    "head_fcnet_hiddens", "head_fcnet_activation", "conv_filters", "conv_activation", "free_log_std",
    "log_std_clip_param", "vf_share_layers", "use_lstm", "max_seq_len", "lstm_cell_size", "lstm_use_prev_action",
    "lstm_use_prev_reward",
}
#: Old stop keys (Tune results of RLlib 1.x) and where RLlib 2.x reports the same value.
STOP_KEYS = {
    "episode_reward_mean": "env_runners/episode_return_mean",
    "episode_reward_max": "env_runners/episode_return_max",
    "episode_reward_min": "env_runners/episode_return_min",
    "episode_len_mean": "env_runners/episode_len_mean",
    "timesteps_total": "num_env_steps_sampled_lifetime",
    "training_iteration": "training_iteration",
    "time_total_s": "time_total_s",
}


@dataclass
class Translation:
    """New-stack settings (attribute names of ``AlgorithmConfig``, plus ``model_config``) and notes to print."""

    settings: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def translate_config(config: dict[str, Any], known: Iterable[str]) -> Translation:
    """Translate an old-style RLlib config; ``known`` are the attribute names of the algorithm's new config."""
    known = set(known)
    result = Translation()
    for key, value in config.items():
        if key in ("env", "env_config"):
            continue  # the environment is set on its own
        if key == "model":
            result.settings["model_config"] = _model_config(value)
        elif key in NOTED:
            if key != "use_pytorch" or value is not True:
                result.notes.append(f"config key {key!r} = {value!r} not applied: {NOTED[key]}.")
        elif key in REFUSED:
            raise UsageError(f"The Ray config key {key!r} has no equivalent on RLlib 2.x's new API stack: "
                             f"{REFUSED[key]}.")
        elif key in RENAMED:
            new = RENAMED[key]
            if key == "evaluation_num_episodes":
                result.settings["evaluation_duration_unit"] = "episodes"
            if key == "num_gpus" and not value:
                continue
            result.settings[new] = value
            result.notes.append(f"config key {key!r} is {new!r} on RLlib 2.x.")
        elif key in known:
            result.settings[key] = value
        else:
            raise UsageError(f"Unknown Ray config key {key!r} for this algorithm.{did_you_mean(key, known | set(RENAMED))} "
                             "rlops accepts RLlib 2.x config names and the old names SageMaker samples used "
                             f"({', '.join(sorted(RENAMED))}).")
    return result


def config_keys(config: Any) -> set[str]:
    """The setting names an ``AlgorithmConfig`` accepts: its attributes and its settable properties."""
    properties: set[str] = set()
    for base in type(config).__mro__:
        properties |= {name for name, attr in vars(base).items() if isinstance(attr, property) and attr.fset}
    return {name for name in vars(config) if not name.startswith("_")} | properties


def _model_config(model: Any) -> dict[str, Any]:
    if not isinstance(model, dict):
        raise UsageError(f"The Ray config key 'model' must be a dict such as {{'fcnet_hiddens': [64, 64]}}; got {model!r}.")
    unknown = sorted(set(model) - MODEL_KEYS)
    if unknown:
        raise UsageError(f"The model setting {unknown[0]!r} does not exist on RLlib 2.x's new API stack (its "
                         f"DefaultModelConfig).{did_you_mean(unknown[0], MODEL_KEYS)} Known: {', '.join(sorted(MODEL_KEYS))}.")
    return dict(model)


def translate_stop(stop: dict[str, Any]) -> dict[str, float]:
    """Stop criteria keyed by their path in an RLlib 2.x result (``env_runners/episode_return_mean``)."""
    translated = {}
    for key, value in (stop or {}).items():
        path = STOP_KEYS.get(key, key)
        if path not in STOP_KEYS.values() and "/" not in path:
            raise UsageError(f"Unknown stop criterion {key!r}.{did_you_mean(key, STOP_KEYS)} Accepted: "
                             f"{', '.join(STOP_KEYS)}, or a result path such as 'env_runners/episode_return_mean'.")
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise UsageError(f"The stop criterion {key!r} must be a number; got {value!r}.")
        translated[path] = value
    return translated


def result_value(result: dict[str, Any], path: str) -> Any:
    """The value at ``a/b`` in a nested RLlib result, or None."""
    value: Any = result
    for part in path.split("/"):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def stop_reached(result: dict[str, Any], stop: dict[str, float]) -> str | None:
    """The first stop criterion ``result`` meets (``path >= value``), or None."""
    for path, threshold in stop.items():
        value = result_value(result, path)
        if value is not None and value >= threshold:
            return f"{path} = {value:g} >= {threshold:g}"
    return None


def apply_overrides(experiment: dict[str, Any], hyperparameters: dict[str, Any]) -> dict[str, Any]:
    """Apply ``rl.training.config.lr``-style hyperparameters to the experiment dict (the user's values win)."""
    for name, value in hyperparameters.items():
        if not name.startswith("rl."):
            continue
        path = name[len("rl."):].split(".")
        if any(not part or part.startswith("__") for part in path):
            raise UsageError(f"Hyperparameter {name!r} is not a dotted path such as 'rl.training.config.lr'.")
        target = experiment
        for part in path[:-1]:
            child = target.get(part)
            if child is None:
                child = target[part] = {}
            elif not isinstance(child, dict):
                raise UsageError(f"Hyperparameter {name!r} goes through {part!r}, which is {child!r}, not a dict.")
            target = child
        target[path[-1]] = value
    return experiment
