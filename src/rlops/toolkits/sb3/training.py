"""A training run and an evaluation run, step by step (the launcher decides which)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch as th
from stable_baselines3.common.callbacks import BaseCallback, CallbackList
from stable_baselines3.common.logger import Logger, TensorBoardOutputFormat
from stable_baselines3.common.vec_env import SubprocVecEnv, VecEnv, sync_envs_normalization

from rlops.exceptions import UsageError
from rlops.toolkits.sb3 import checkpoints
from rlops.toolkits.sb3.algorithms import Algorithm, build_kwargs, get_algorithm, hyperparameter_defaults
from rlops.toolkits.sb3.coach_log import CoachCSV, EpisodeLog, LossLog, PPOEpochLog, ProgressLog, emit, episode_line
from rlops.toolkits.sb3.checkpoints import CheckpointEvery
from rlops.toolkits.sb3.environments import check_environment, make_eval_env, make_training_env, vec_env_class
from rlops.toolkits.coach_lines import PRESET_FILE, write_summary
from rlops.toolkits.sb3.evaluation import located_policy, play
from rlops.policies.manifest import describe_space
from rlops.toolkits.sb3.export import export_policy
from rlops.toolkits.sb3.presets import Preset



class StopOnRequest(BaseCallback):
    """Ends training at the next step once the job is asked to stop (SIGTERM)."""

    def __init__(self, launcher):
        super().__init__()
        self.launcher = launcher

    def _on_step(self) -> bool:
        return not self.launcher.stop_requested


class PeriodicEvaluation(BaseCallback):
    """Every ``every`` steps, plays ``episodes`` deterministic episodes and prints ``Testing>`` lines.

    With ``best_path`` it also keeps the parameters that scored best so far.
    """

    def __init__(self, eval_env: VecEnv, algorithm: Algorithm, every: int, episodes: int, best_path: Path | None = None,
                 csv: CoachCSV | None = None, episode_log: EpisodeLog | None = None, gif_folder: Path | None = None):
        super().__init__()
        self.eval_env, self.algorithm, self.every, self.episodes = eval_env, algorithm, every, episodes
        self.best_path = best_path
        self.csv, self.episode_log, self.gif_folder = csv, episode_log, gif_folder
        self.best: tuple[float, int] | None = None  # (mean return, step)
        self.played = 0
        self.next_at = None

    def _on_training_start(self) -> None:
        self.next_at = (self.model.num_timesteps // self.every + 1) * self.every if self.every else None

    def _on_step(self) -> bool:
        if self.next_at is not None and self.model.num_timesteps >= self.next_at:
            self.evaluate()
            self.next_at += self.every
        return True

    def evaluate(self):
        sync_envs_normalization(self.model.get_env(), self.eval_env)
        summary = play(self.model, self.algorithm, self.eval_env, episodes=self.episodes, first_episode=self.played,
                       training_steps=self.model.num_timesteps, iteration=self.model._n_updates, gif_folder=self.gif_folder)
        self.played += summary.episodes
        emit(summary.line(self.model.num_timesteps))
        if self.csv is not None:
            self.csv.evaluation(self.episode_log.episodes if self.episode_log else 0, self.model._n_updates,
                                self.model.num_timesteps, summary.mean)
        if self.best_path is not None and (self.best is None or summary.mean > self.best[0]):
            self.best = (summary.mean, self.model.num_timesteps)
            self.model.save(self.best_path)
        return summary


def _logger(folder: Path, algorithm: Algorithm) -> Logger:
    formats = [TensorBoardOutputFormat(str(folder / "tensorboard"))]
    if not algorithm.ppo_family:  # the PPO family prints one line per epoch instead
        formats.append(LossLog())
    return Logger(folder=str(folder), output_formats=formats)


def _heatup(venv: VecEnv, algorithm: Algorithm, steps: int, episode_log: EpisodeLog) -> None:
    """On-policy heatup: random actions before training, which also warms the normalisation statistics."""
    venv.reset()
    for _ in range(math.ceil(steps / venv.num_envs)):
        if algorithm.masked:
            masks = venv.env_method("action_masks")
            actions = np.array([venv.action_space.sample(mask=np.asarray(m, dtype=np.int8)) for m in masks])
        else:
            actions = np.array([venv.action_space.sample() for _ in range(venv.num_envs)])
        _, _, _, infos = venv.step(actions)
        for info in infos:
            if "episode" in info:
                emit(episode_line("Heatup", episode_log.episodes, float(info["episode"]["r"]), 1.0, 0, 0))
                episode_log.episodes += 1


def _resume_points(context) -> list[tuple[Path, checkpoints.Checkpoint]]:
    """The checkpoints to resume from, newest first: the job's checkpoint folder's, else a ``checkpoint`` channel's."""
    for folder in (context.checkpoint_dir, context.channels.get("checkpoint")):
        if folder is not None and (found := checkpoints.candidates(folder)):
            return [(folder, point) for point in found]
    return []


def _resume(cls, preset, context, gamma, device):
    """``(model, training env, (folder, checkpoint))`` from the newest checkpoint that loads; a damaged one is
    skipped with a warning naming it. None when there is none (or none loads)."""
    for folder, point in _resume_points(context):
        venv = None
        try:
            venv = make_training_env(preset, context.num_cpus, preset.seed, gamma,
                                     normalizer_path=folder / point.vecnormalize if point.vecnormalize else None)
            model = cls.load(folder / point.model, env=venv, device=device)
            if point.replay_buffer and (folder / point.replay_buffer).is_file():
                model.load_replay_buffer(folder / point.replay_buffer)
            return model, venv, (folder, point)
        except Exception as exc:  # noqa: BLE001 - a checkpoint cut short or damaged: the one before it
            emit(f"Warning: skipping the unreadable checkpoint {folder / point.model} at step {point.steps} "
                 f"({type(exc).__name__}: {str(exc)[:200]})")
            if venv is not None:
                venv.close()
    return None


def train(launcher, preset: Preset) -> None:
    context = launcher.context
    subprocesses = vec_env_class(preset, context.num_cpus) is SubprocVecEnv
    threads = preset.torch_threads or (1 if subprocesses else None)
    if threads:
        th.set_num_threads(threads)
    algorithm = get_algorithm(preset.algorithm.name)
    if preset.env.check:
        check_environment(preset)
    kwargs = build_kwargs(algorithm, preset.algorithm.hyperparameters)
    gamma = kwargs.get("gamma", hyperparameter_defaults(algorithm).get("gamma", 0.99))
    device = "auto" if context.num_gpus else "cpu"
    cls = algorithm.load_class()
    resumed = _resume(cls, preset, context, gamma, device)
    resume = resumed[2] if resumed else None
    schedule = preset.schedule
    context.checkpoint_dir.mkdir(parents=True, exist_ok=True)
    (context.checkpoint_dir / PRESET_FILE).write_text(preset.dump())

    if resumed:
        model, venv, (folder, point) = resumed
        emit(f"Resuming from checkpoint at step {model.num_timesteps} (episode {point.episodes}) in {folder}")
        first_episode = point.episodes
    else:
        venv = make_training_env(preset, context.num_cpus, preset.seed, gamma)
        if algorithm.off_policy and schedule.heatup_steps:
            kwargs.setdefault("learning_starts", schedule.heatup_steps)
        model = cls(preset.algorithm.policy, venv, seed=preset.seed, device=device, verbose=0, **kwargs)
        first_episode = 0
    model.set_logger(_logger(context.intermediate_dir, algorithm))

    coach_csv = CoachCSV(context.intermediate_dir)
    episode_log = EpisodeLog(model.learning_starts if algorithm.off_policy else 0, first_episode, coach_csv)
    eval_env = make_eval_env(preset, preset.seed, training_env=venv)
    best_path = context.checkpoint_dir / "best_model.zip" if schedule.keep_best else None
    evaluation = PeriodicEvaluation(eval_env, algorithm, schedule.evaluation_every, schedule.evaluation_episodes,
                                    best_path, coach_csv, episode_log, gif_folder(preset, context))
    callbacks = [episode_log, StopOnRequest(launcher), evaluation, ProgressLog(schedule.training_steps),
                 CheckpointEvery(context.checkpoint_dir, schedule.checkpoint_every, schedule.keep_checkpoints,
                                 algorithm.off_policy, lambda: episode_log.episodes)]
    if algorithm.ppo_family:
        callbacks.append(PPOEpochLog())
    if not resume and not algorithm.off_policy and schedule.heatup_steps:
        _heatup(venv, algorithm, schedule.heatup_steps, episode_log)

    remaining = schedule.training_steps - model.num_timesteps
    if remaining > 0:
        model.learn(remaining, callback=CallbackList(callbacks), reset_num_timesteps=not resume,
                    log_interval=1 if not algorithm.off_policy else 4)
    checkpoints.save(model, context.checkpoint_dir, episode_log.episodes, schedule.keep_checkpoints, algorithm.off_policy)

    summary = None
    if not launcher.stop_requested and schedule.evaluation_episodes > 0:
        evaluation.model = model
        summary = evaluation.evaluate()
        best = evaluation.best
        if best_path is not None and best is not None and best[0] > summary.mean and best_path.is_file():
            emit(f"Keeping the best evaluated policy (step {best[1]}, mean return {best[0]:.2f}) over the final one "
                 f"(mean return {summary.mean:.2f}); evaluating it again")
            model.set_parameters(str(best_path), exact_match=True)
            evaluation.best_path = None
            summary = evaluation.evaluate()
        write_summary(summary, context.output_data_dir)
    save_model(model, algorithm, preset, context.model_dir, summary)
    coach_csv.close()
    venv.close()
    eval_env.close()


def gif_folder(preset: Preset, context) -> Path | None:
    """``output/intermediate/gifs/`` when the preset dumps GIFs of its evaluation episodes."""
    return context.intermediate_dir / "gifs" if preset.visualization.dump_gifs else None


def save_model(model, algorithm: Algorithm, preset: Preset, folder: Path, summary=None) -> None:
    """``model/``: the SB3 zip, normalisation statistics, the preset and the portable policy."""
    folder.mkdir(parents=True, exist_ok=True)
    model.save(folder / "model.zip")
    normalizer = model.get_vec_normalize_env()
    if normalizer is not None:
        normalizer.save(str(folder / "vecnormalize.pkl"))
    (folder / PRESET_FILE).write_text(preset.dump())
    extra = {"env_id": preset.env.id, "env_kwargs": preset.env.kwargs, "preset": preset.name,
             "training_steps": int(model.num_timesteps)}
    if summary is not None:
        extra["evaluation"] = {"episodes": summary.episodes, "mean_return": summary.mean, "std_return": summary.std}
    export_policy(model, algorithm, normalizer, folder, extra)


def evaluate(launcher) -> None:
    channels = launcher.context.channels
    from rlops.toolkits.fast.training import evaluate_saved

    if evaluate_saved(launcher, channels.get("checkpoint"), channels.get("model")):
        return  # a policy of the fast engine
    with located_policy(channels.get("checkpoint"), channels.get("model")) as (folder, model_zip, normalizer):
        _evaluate(launcher, folder, model_zip, normalizer)


def _evaluate(launcher, folder: Path, model_zip: Path, normalizer: Path | None) -> None:
    context = launcher.context
    saved = folder / PRESET_FILE
    preset, settings = launcher.preset(fallback=str(saved) if saved.is_file() else None)
    episodes, steps = settings.get("evaluate_episodes"), settings.get("evaluate_steps")
    for key, value in settings.items():
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise UsageError(f"{key} must be a positive integer; got {value!r} ({type(value).__name__}).")
    evaluate_policy(context, preset, folder, model_zip, normalizer, episodes, steps)


def evaluate_policy(context, preset: Preset, folder: Path, model_zip: Path, normalizer: Path | None,
                    episodes: int | None, steps: int | None) -> None:
    """Play a saved policy deterministically for ``episodes`` (or ``steps``): ``Testing>`` lines and
    ``output/data/evaluation.json``."""
    algorithm = get_algorithm(preset.algorithm.name)
    env = make_eval_env(preset, preset.seed, normalizer_path=normalizer)
    model = algorithm.load_class().load(model_zip, device="cpu")
    if model.observation_space.shape != env.observation_space.shape or model.action_space != env.action_space:
        raise UsageError(f"The policy in {folder} does not fit environment {preset.env.id!r}: policy spaces "
                         f"{describe_space(model.observation_space)} -> {describe_space(model.action_space)}, "
                         f"environment {describe_space(env.observation_space)} -> {describe_space(env.action_space)}.")
    emit(f"Evaluating {algorithm.name} policy from {model_zip} on {preset.env.id} "
         f"({'%d episodes' % episodes if episodes else '%d steps' % steps}, deterministic)")
    summary = play(model, algorithm, env, episodes=episodes, steps=steps, training_steps=int(model.num_timesteps),
                   gif_folder=gif_folder(preset, context))
    emit(summary.line())
    write_summary(summary, context.output_data_dir)
    env.close()
