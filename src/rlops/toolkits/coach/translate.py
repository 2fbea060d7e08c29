"""A Coach graph manager (agent, environment, schedule, filters) as an SB3 preset, field by field.

Each Coach field maps to the SB3 setting that does the same job (the README's "Coach, translated"
table); a field set to something with no equivalent is reported once, with what was done about
it; an agent with no translation stops the job before training, naming those that have one.
"""

from __future__ import annotations

from typing import Any

from rlops.exceptions import UsageError
from rlops.toolkits.coach.agents import TRANSLATED, TranslatableAgent
from rlops.toolkits.coach.params import (
    EMBEDDER_SCHEMES, MIDDLEWARE_SCHEMES, ConstantSchedule, DuelingQHeadParameters, EGreedyParameters, EmbedderScheme, EnvironmentEpisodes,
    EnvironmentSteps, LinearSchedule, MemoryGranularity, ObservationNormalizationFilter, RewardNormalizationFilter,
    RewardRescaleFilter, StepMethod, TrainingSteps,
)

#: Environment steps an episode is taken to last when Coach counts episodes and SB3 counts steps.
EPISODE_STEPS_GUESS = 200


def translate(graph) -> tuple[dict[str, Any], list[str]]:
    """``(SB3 preset data, notes)`` for a Coach graph manager."""
    agent = getattr(graph, "agent_params", None)
    if agent is None:
        raise UsageError("This Coach graph manager has no agent_params (multi-agent graphs such as HAC are not "
                         f"translated); rlops translates single-agent presets with {', '.join(TRANSLATED)}.")
    name = type(agent).__name__
    algorithm = getattr(type(agent), "SB3", None) if isinstance(agent, TranslatableAgent) else None
    if algorithm is None:
        raise UsageError(f"The Coach agent {name} has no translation in rlops. Translated agents: "
                         + ", ".join(f"{k} (as {v})" for k, v in TRANSLATED.items())
                         + ". Nearest: ClippedPPOAgentParameters for policy-gradient agents, "
                           "DQNAgentParameters or QuantileRegressionDQNAgentParameters for value-based ones.")
    notes = [f"agent: {type(agent).NOTE}"] if type(agent).NOTE else []
    env = _environment(graph.env_params, notes)
    schedule = _schedule(graph, algorithm, agent, notes)
    hyperparameters = _hyperparameters(agent, algorithm, schedule, notes)
    normalize = _filters(agent, notes)
    env["normalize"] = normalize
    seed = getattr(getattr(graph, "task_parameters", None), "seed", None)
    data = {
        "name": f"coach-{name.removesuffix('Parameters').lower()}",
        "description": f"Coach {name} translated for Stable-Baselines3",
        "env": env,
        "algorithm": {"name": algorithm, "hyperparameters": hyperparameters},
        "schedule": schedule,
        "seed": seed if seed is not None else 0,
        "visualization": {"dump_gifs": bool(getattr(graph.visualization_parameters, "dump_gifs", False))},
    }
    return data, notes


def _steps(value, what: str, notes: list[str]) -> int:
    """A Coach step count in environment steps. Coach's ``TrainingSteps`` count iterations of its
    act-one-step-then-maybe-train loop, so one is one environment step of the training phase."""
    if isinstance(value, (EnvironmentSteps, TrainingSteps)):
        return int(value.num_steps)
    if isinstance(value, EnvironmentEpisodes):
        notes.append(f"{what}: EnvironmentEpisodes({value.num_steps}) counted as {value.num_steps} x "
                     f"{EPISODE_STEPS_GUESS} environment steps (SB3 schedules by steps)")
        return int(value.num_steps) * EPISODE_STEPS_GUESS
    if isinstance(value, StepMethod):
        raise UsageError(f"{what}: {type(value).__name__} has no translation; use EnvironmentSteps, TrainingSteps "
                         "or EnvironmentEpisodes.")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    raise UsageError(f"{what} is {value!r}; Coach presets give EnvironmentSteps(n), TrainingSteps(n) or "
                     "EnvironmentEpisodes(n).")


def _environment(env_params, notes: list[str]) -> dict[str, Any]:
    level = getattr(env_params, "level", None)
    if isinstance(level, dict) or not level:
        raise UsageError(f"env_params.level must name one environment (a Gymnasium id such as 'CartPole-v1', or "
                         f"'module:Class' in the job's code); got {level!r}.")
    kwargs = dict(getattr(env_params, "additional_simulator_parameters", None) or {})
    if getattr(env_params, "frame_skip", 1) not in (1, None):
        notes.append(f"env_params.frame_skip={env_params.frame_skip}: not applied (each step is one environment step)")
    return {"id": str(level), "kwargs": kwargs, "n_envs": 1, "vec_env": "dummy"}


def _rollout_steps(agent) -> int:
    playing = agent.algorithm.num_consecutive_playing_steps
    if isinstance(playing, EnvironmentSteps):
        return int(playing.num_steps)
    if isinstance(playing, EnvironmentEpisodes):
        return int(playing.num_steps) * EPISODE_STEPS_GUESS
    return 2048


def _schedule(graph, algorithm: str, agent, notes: list[str]) -> dict[str, Any]:
    training = _steps(graph.improve_steps, "schedule improve_steps", notes)
    every = _steps(graph.steps_between_evaluation_periods, "schedule steps_between_evaluation_periods", notes)
    evaluation = graph.evaluation_steps
    if isinstance(evaluation, EnvironmentEpisodes):
        episodes = int(evaluation.num_steps)
    else:
        episodes = max(1, _steps(evaluation, "schedule evaluation_steps", notes) // EPISODE_STEPS_GUESS)
        notes.append(f"schedule evaluation_steps={evaluation!r}: evaluated as {episodes} whole episode(s)")
    return {"training_steps": max(1, training), "heatup_steps": _steps(graph.heatup_steps, "schedule heatup_steps", notes),
            "evaluation_every": every, "evaluation_episodes": episodes, "checkpoint_every": every}


def _off_policy_playing(agent) -> int:
    playing = agent.algorithm.num_consecutive_playing_steps
    return int(playing.num_steps) if isinstance(playing, EnvironmentSteps) else 1


def _layers(network) -> list[int]:
    """The hidden layers: the observation embedder's, then the middleware's."""
    units: list[int] = []
    embedder = (network.input_embedders_parameters or {}).get("observation")
    for part, schemes in ((embedder, EMBEDDER_SCHEMES), (network.middleware_parameters, MIDDLEWARE_SCHEMES)):
        if part is None:
            continue
        scheme = part.scheme
        if isinstance(scheme, EmbedderScheme):
            units += schemes[scheme.value]
        elif isinstance(scheme, list):
            units += [int(getattr(layer, "units", layer)) for layer in scheme]
    return units


def _hyperparameters(agent, algorithm: str, schedule: dict, notes: list[str]) -> dict[str, Any]:
    alg, networks = agent.algorithm, agent.network_wrappers
    network = networks.get("main") or networks.get("actor") or next(iter(networks.values()))
    activation = getattr(network.middleware_parameters, "activation_function", "relu") or "relu"
    policy_kwargs: dict[str, Any] = {"net_arch": _layers(network), "activation_fn": str(activation).lower()}
    hp: dict[str, Any] = {"gamma": float(alg.discount), "learning_rate": float(network.learning_rate)}
    if getattr(network, "optimizer_type", "Adam") == "Adam":
        policy_kwargs["optimizer_kwargs"] = {"eps": float(network.optimizer_epsilon),
                                             "betas": [float(network.adam_optimizer_beta1), float(network.adam_optimizer_beta2)]}
    if algorithm == "PPO":
        rollout = _rollout_steps(agent)
        hp.update(n_steps=rollout, batch_size=min(int(network.batch_size), rollout), n_epochs=int(alg.optimization_epochs),
                  gae_lambda=float(alg.gae_lambda), ent_coef=float(alg.beta_entropy))
        epsilon = alg.clip_likelihood_ratio_using_epsilon
        if epsilon is None:
            hp["target_kl"] = float(getattr(alg, "target_kl_divergence", 0.01))
            epsilon = 0.2
        decay = alg.clipping_decay_schedule
        if isinstance(decay, LinearSchedule) and decay.final_value == 0:
            hp["clip_range"] = f"lin_{float(epsilon) * float(decay.initial_value)}"
            if decay.decay_steps != schedule["training_steps"]:
                notes.append(f"algorithm.clipping_decay_schedule=LinearSchedule(..., {decay.decay_steps}): the clip "
                             f"range decays to 0 over the job's {schedule['training_steps']} steps instead")
        else:
            hp["clip_range"] = float(epsilon) * float(getattr(decay, "initial_value", 1.0))
        if not alg.estimate_state_value_using_gae:
            notes.append("algorithm.estimate_state_value_using_gae=False: SB3 always uses GAE for its advantages")
        if isinstance(agent.exploration, EGreedyParameters):
            notes.append("exploration=EGreedyParameters: not used by PPO, which explores by sampling its policy")
    elif algorithm == "A2C":
        hp.update(n_steps=5, ent_coef=float(getattr(alg, "beta_entropy", 0.0)),
                  gae_lambda=float(alg.gae_lambda) if alg.estimate_state_value_using_gae else 1.0)
    else:  # off-policy
        hp.update(batch_size=int(network.batch_size), train_freq=_off_policy_playing(agent),
                  buffer_size=_buffer_size(agent, notes))
        copy = alg.num_steps_between_copying_online_weights_to_target
        if algorithm in ("DQN", "QRDQN"):
            hp["target_update_interval"] = max(1, _steps(copy, "algorithm.num_steps_between_copying_online_weights_"
                                                              "to_target", notes))
            exploration = agent.exploration
            if isinstance(exploration, EGreedyParameters):
                eps = exploration.epsilon_schedule
                if isinstance(eps, LinearSchedule):
                    hp.update(exploration_initial_eps=float(eps.initial_value), exploration_final_eps=float(eps.final_value),
                              exploration_fraction=min(1.0, eps.decay_steps / schedule["training_steps"]))
                elif isinstance(eps, ConstantSchedule):
                    hp.update(exploration_initial_eps=float(eps.initial_value), exploration_final_eps=float(eps.initial_value))
            if algorithm == "QRDQN":
                policy_kwargs["n_quantiles"] = int(getattr(alg, "atoms", 200))
            if any(isinstance(head, DuelingQHeadParameters) for head in network.heads_parameters or []):
                notes.append("network_wrappers['main'].heads_parameters=[DuelingQHeadParameters()]: SB3's DQN has no "
                             "dueling head; trained with a plain Q head of the same layers")
        else:
            hp["tau"] = float(alg.rate_for_copying_weights_to_target)
            policy_kwargs.pop("optimizer_kwargs", None)
    hp["policy_kwargs"] = policy_kwargs
    return hp


def _buffer_size(agent, notes: list[str]) -> int:
    granularity, size = getattr(agent.memory, "max_size", (MemoryGranularity.Transitions, 1000000))
    if granularity == MemoryGranularity.Episodes:
        notes.append(f"memory.max_size=(Episodes, {size}): kept as {size * EPISODE_STEPS_GUESS} transitions")
        return int(size) * EPISODE_STEPS_GUESS
    return int(size)


def _filters(agent, notes: list[str]) -> dict[str, Any]:
    normalize: dict[str, Any] = {"obs": False, "reward": False}
    for filters in (agent.input_filter, agent.pre_network_filter):
        for group in filters.observation_filters.values():
            for name, filter_ in group.items():
                if isinstance(filter_, ObservationNormalizationFilter):
                    normalize.update(obs=True, clip_obs=float(max(abs(filter_.clip_min), abs(filter_.clip_max))))
                else:
                    notes.append(f"observation filter {name!r} ({type(filter_).__name__}): not applied")
        for name, filter_ in filters.reward_filters.items():
            if isinstance(filter_, (RewardRescaleFilter, RewardNormalizationFilter)):
                normalize["reward"] = True
                if isinstance(filter_, RewardRescaleFilter):
                    notes.append(f"reward filter {name!r} (RewardRescaleFilter({filter_.rescale_factor})): rewards are "
                                 "normalised by a running estimate of the return's scale instead")
            else:
                notes.append(f"reward filter {name!r} ({type(filter_).__name__}): not applied")
    return normalize
