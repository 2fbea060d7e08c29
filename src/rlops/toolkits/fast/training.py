"""A job on rlops's fast engine: batched environments and :class:`~rlops.toolkits.fast.ppo.PPO` or
:class:`~rlops.toolkits.fast.dqn.DQN`.

It keeps the SB3 toolkit's contract: the same presets (``toolkit: fast``) and ``rl.`` overrides,
Coach's log lines (one ``Training>`` line per update for the episodes that ended in it, one
``Policy training>`` line per update, ``Testing>`` lines), the Coach CSV, TensorBoard scalars,
checkpoints the job resumes from, and the same portable ``policy.onnx`` + ``policy.json`` in
``model/``, so evaluate, deploy, transform and export work unchanged.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from rlops.exceptions import UsageError
from rlops.toolkits.coach_lines import PRESET_FILE, emit, episode_line, write_summary
from rlops.toolkits.fast.dqn import DQN, DQNSettings
from rlops.toolkits.fast.ppo import CHOICES, PPO, PPOSettings, Progress
from rlops.toolkits.numbered_checkpoints import load_newest, save_numbered

#: What the fast engine trains: its class, its settings, and what it asks of the action space.
ALGORITHMS = {"PPO": (PPO, PPOSettings, "Discrete, MultiDiscrete or Box actions"),
              "DQN": (DQN, DQNSettings, "Discrete actions")}
CHECKPOINT = "fast-checkpoint-{steps}.pt"
Agent = PPO | DQN


def settings_fields(algorithm: str = "PPO") -> dict[str, Any]:
    """The hyperparameters of ``algorithm`` a preset may set, with their defaults (``n_envs`` and normalisation come
    from ``env``)."""
    skip = {"n_envs", "normalize_obs", "normalize_reward", "clip_obs", "clip_reward"}
    return {f.name: (f.default if f.default is not dataclasses.MISSING else f.default_factory())
            for f in dataclasses.fields(ALGORITHMS[algorithm][1]) if f.name not in skip}


def supported() -> str:
    return ", ".join(f"{name} ({spaces})" for name, (_, _, spaces) in ALGORITHMS.items())


def check_preset(preset) -> None:
    """Refuse, before training, what the fast engine does not do, naming what it does and which toolkit has the rest."""
    name = preset.algorithm.name
    if name not in ALGORITHMS:
        raise UsageError(f"The fast engine (toolkit: fast) trains {supported()}; the preset asks for {name}. "
                         f"Remove 'toolkit: fast' to train {name} with the SB3 toolkit.")
    if name == "DQN" and preset.env.normalize.reward:
        raise UsageError("The fast engine's DQN does not normalise rewards: set env.normalize.reward to false "
                         "(env.normalize.obs is supported).")
    known = settings_fields(name)
    for key, value in preset.algorithm.hyperparameters.items():
        if key not in known:
            from rlops.exceptions import did_you_mean

            raise UsageError(f"Unknown preset field 'algorithm.hyperparameters.{key}': the fast engine's {name} has no "
                             f"hyperparameter {key!r}. Accepted: {', '.join(sorted(known))}.{did_you_mean(key, known)}")
        default = known[key]
        if key in CHOICES and value not in CHOICES[key]:
            raise UsageError(f"Preset field 'algorithm.hyperparameters.{key}' must be one of "
                             f"{', '.join(map(repr, CHOICES[key]))}; got {value!r}.")
        if default is None:  # optional numbers (clip_range_vf, target_kl)
            ok, expected = value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)), "a number or null"
        else:
            kinds = (int, float) if isinstance(default, float) else (type(default),)
            ok = isinstance(value, kinds) and isinstance(value, bool) == isinstance(default, bool)
            expected = type(default).__name__
        if not ok:
            raise UsageError(f"Preset field 'algorithm.hyperparameters.{key}' must be {expected}; got {value!r}.")


def make_settings(preset) -> PPOSettings | DQNSettings:
    normalize = preset.env.normalize
    values = {**preset.algorithm.hyperparameters, "n_envs": preset.env.n_envs, "normalize_obs": normalize.obs,
              "clip_obs": normalize.clip_obs}
    if preset.algorithm.name == "DQN":
        return DQNSettings(**values)
    return PPOSettings(**values, normalize_reward=normalize.reward, clip_reward=normalize.clip_reward)


def make_agent(preset, env, device: str = "cpu") -> Agent:
    """The preset's algorithm on ``env`` (with the environment's action masks when it has them)."""
    cls = ALGORITHMS[preset.algorithm.name][0]
    try:
        return cls(env, make_settings(preset), seed=preset.seed or 0, device=device, action_mask=action_masks(env))
    except TypeError as exc:  # an action space the algorithm does not take
        raise UsageError(f"The fast engine's {preset.algorithm.name} cannot train {preset.env.id}: {exc} It trains "
                         f"{supported()}; the SB3 toolkit (remove 'toolkit: fast') has the other algorithms.") from None


def make_env(preset, n_envs: int):
    """The batched environment of the preset: rlops's own or Gymnasium's vectorised version, else Gymnasium's
    synchronous wrapper around single copies (with a warning: one Python call per copy per step)."""
    import gymnasium as gym

    import rlops.envs  # noqa: F401  (registers rlops/ environments)
    from rlops.envs.vector import make_vector

    env = None
    kwargs = dict(preset.env.kwargs)
    try:
        env = make_vector(preset.env.id, n_envs, **kwargs)
    except ValueError as exc:  # e.g. AutoScaling's original=True: drawn one number at a time
        emit(f"Warning: {exc}")
    if env is None:
        emit(f"Warning: {preset.env.id} has no vectorised version; the fast engine steps {n_envs} copies through "
             "gymnasium.vector.SyncVectorEnv, one Python call per copy per step (typically 10 to 100 times slower "
             "than a vectorised environment).")
        env = gym.make_vec(preset.env.id, num_envs=n_envs, vectorization_mode="sync", **kwargs)
    if preset.env.max_episode_steps:
        emit("Warning: env.max_episode_steps is not applied by the fast engine; the environment's own limit holds.")
    return env


def action_masks(env) -> Callable[[], np.ndarray] | None:
    """The batched environment's ``action_masks`` (``(copies, choices)`` booleans), when it has one: the engine's PPO
    then never picks a forbidden action, and the exported policy takes the mask as a second input."""
    return getattr(env, "action_masks", None)


def _device(num_gpus: int) -> str:
    return "cuda" if num_gpus and torch.cuda.is_available() else "cpu"


def latest_checkpoint(folder: Path | None, device: str = "cpu") -> tuple[Path, dict] | None:
    """``(file, state)`` of the newest checkpoint in ``folder`` that loads (:mod:`rlops.toolkits.numbered_checkpoints`)."""
    found = load_newest(folder, CHECKPOINT, lambda path: torch.load(path, map_location=device, weights_only=True))
    return (found[1], found[2]) if found else None


def save_checkpoint(ppo: Agent, folder: Path, episodes: int, keep: int) -> Path:
    return save_numbered(folder, CHECKPOINT, ppo.steps, lambda path: torch.save({**ppo.state(), "episodes": episodes},
                                                                                  path), keep)


def play(act: Callable[[np.ndarray, np.ndarray | None], np.ndarray], env, episodes: int, seed: int,
         first_episode: int = 0, training_steps: int = 0, iteration: int = 0, action_mask=None):
    """Play ``episodes`` deterministic episodes, one per copy of the batched ``env`` (seeds ``seed``, ``seed + 1``,
    ...), printing a ``Testing>`` line each; returns the SB3 toolkit's evaluation summary."""
    from rlops.toolkits.coach_lines import Summary

    obs, _ = env.reset(seed=seed)
    returns, lengths = np.zeros(env.num_envs), np.zeros(env.num_envs, np.int64)
    running = np.ones(env.num_envs, bool)
    while running.any():
        obs, reward, terminated, truncated, _ = env.step(act(obs, action_mask() if action_mask else None))
        returns += np.where(running, reward, 0.0)
        lengths += running
        running &= ~(terminated | truncated)
    for i in range(episodes):
        emit(episode_line("Testing", first_episode + i, float(returns[i]), 0.0, training_steps, iteration))
    values = returns[:episodes]
    return Summary(episodes, float(values.mean()), float(values.std()), float(values.min()), float(values.max()),
                   values.tolist(), lengths[:episodes].tolist())


def torch_actor(ppo: Agent) -> Callable:
    def act(obs, mask):
        with torch.no_grad():
            x = ppo.policy.features(torch.as_tensor(np.asarray(obs, np.float32), device=ppo.device))
            action, _ = ppo.policy.act(x, None if mask is None else torch.as_tensor(mask, device=ppo.device), deterministic=True)
        action = action.cpu().numpy()
        if ppo.policy.kind == "box":
            space = ppo.env.single_action_space
            action = np.clip(action, space.low, space.high)
        return action
    return act


class _Logger:
    """Coach lines, the Coach CSV and TensorBoard, for each update's :class:`Progress`."""

    def __init__(self, context, first_episode: int, steps_per_report: int, total_steps: int):
        from torch.utils.tensorboard import SummaryWriter

        from rlops.toolkits.coach_lines import CoachCSV

        self.csv = CoachCSV(context.intermediate_dir)
        self.board = SummaryWriter(str(context.intermediate_dir / "tensorboard"))
        self.episodes = first_episode
        self.steps_per_report, self.total_steps = steps_per_report, total_steps
        self.recent: list[float] = []
        self.start, self.start_steps = time.monotonic(), None

    def update(self, progress: Progress, lr: float) -> None:
        if self.start_steps is None:
            self.start_steps = progress.steps - self.steps_per_report
        if progress.episodes:
            rewards = [r for r, _ in progress.episodes]
            mean_length = int(np.mean([n for _, n in progress.episodes]))
            self.recent = (self.recent + rewards)[-100:]
            # one line for the episodes that ended in this update: their mean return, the last episode's number
            self.episodes += len(rewards)
            emit(episode_line("Training", self.episodes - 1, float(np.mean(rewards)), 0.0, progress.steps, progress.updates))
            self.csv.training(self.episodes - 1, progress.updates, progress.steps, mean_length, float(np.mean(rewards)),
                              0.0, False)
            self.board.add_scalar("rollout/ep_rew_mean", float(np.mean(self.recent)), progress.steps)
            self.board.add_scalar("rollout/ep_len_mean", mean_length, progress.steps)
        losses = progress.losses
        if "policy_loss" in losses:
            emit(f"Policy training> Surrogate loss={losses['policy_loss']:.4g}, KL divergence={losses['approx_kl']:.5g}, "
                 f"Entropy={losses['entropy']:.4g}, Value loss={losses['value_loss']:.4g}, "
                 f"training iteration={progress.updates}, learning_rate={lr:.4g}")
        elif "loss" in losses:
            emit(f"Policy training> Loss={losses['loss']:.4g}, epsilon={losses['epsilon']:.3g}, "
                 f"training iteration={progress.updates}, learning_rate={lr:.4g}")
        for key, value in losses.items():
            if np.isfinite(value):
                self.board.add_scalar(f"train/{key}", value, progress.steps)
        rate = (progress.steps - self.start_steps) / max(time.monotonic() - self.start, 1e-9)
        self.board.add_scalar("time/fps", rate, progress.steps)
        recent = f", recent return={np.mean(self.recent):.2f}" if self.recent else ""
        emit(f"Progress> steps={progress.steps}/{self.total_steps}{recent}, reward per step={progress.reward_per_step:.4g}")

    def close(self) -> None:
        self.csv.close()
        self.board.close()


def train(launcher, preset) -> None:
    """Train the preset's agent on the fast engine (resuming from the job's checkpoints), evaluate it and save it."""
    context = launcher.context
    torch.set_num_threads(preset.torch_threads or max(1, context.num_cpus))
    settings = make_settings(preset)
    device = _device(context.num_gpus)
    env = make_env(preset, settings.n_envs)
    schedule = preset.schedule
    ppo = make_agent(preset, env, device)
    masked = " with action masks" if ppo.action_mask else ""
    emit(f"rlops fast engine: {preset.algorithm.name}{masked} on {settings.n_envs} copies of {preset.env.id} ({type(env).__name__}), "
         f"{torch.get_num_threads()} threads, device {device}")
    context.checkpoint_dir.mkdir(parents=True, exist_ok=True)
    (context.checkpoint_dir / PRESET_FILE).write_text(preset.dump())
    first_episode = 0
    resume = (latest_checkpoint(context.checkpoint_dir, device)
              or latest_checkpoint(context.channels.get("checkpoint"), device))
    if resume is not None:
        resume, state = resume
        ppo.load_state(state)
        first_episode = int(state.get("episodes", 0))
        emit(f"Resuming from checkpoint at step {ppo.steps} (episode {first_episode}) in {resume.parent}")
    log = _Logger(context, first_episode, ppo.steps_per_report, schedule.training_steps)
    eval_env = make_env(preset, max(1, schedule.evaluation_episodes)) if schedule.evaluation_episodes else None
    eval_seed = (preset.seed or 0) + 100_000
    next_eval = _next(ppo.steps, schedule.evaluation_every)
    next_checkpoint = _next(ppo.steps, schedule.checkpoint_every)
    played = 0
    best: tuple[float, int, dict] | None = None  # (mean return, step, weights): schedule.keep_best

    def on_update(progress: Progress) -> bool:
        nonlocal next_eval, next_checkpoint, played, best
        log.update(progress, ppo.optimizer.param_groups[0]["lr"])
        if next_eval is not None and progress.steps >= next_eval and eval_env is not None:
            summary = play(torch_actor(ppo), eval_env, schedule.evaluation_episodes, eval_seed, played, progress.steps,
                           progress.updates, action_masks(eval_env))
            played += summary.episodes
            emit(summary.line(progress.steps))
            log.csv.evaluation(log.episodes, progress.updates, progress.steps, summary.mean)
            log.board.add_scalar("eval/mean_reward", summary.mean, progress.steps)
            next_eval = _next(progress.steps, schedule.evaluation_every)
            if schedule.keep_best and (best is None or summary.mean > best[0]):
                best = (summary.mean, progress.steps, copy.deepcopy(ppo.policy.state_dict()))
            if preset.target is not None and summary.mean >= preset.target:
                emit(f"Target reached: mean return {summary.mean:.2f} >= {preset.target:g} at step {progress.steps}; "
                     "training stops")
                return False
        if next_checkpoint is not None and progress.steps >= next_checkpoint:
            save_checkpoint(ppo, context.checkpoint_dir, log.episodes, schedule.keep_checkpoints)
            next_checkpoint = _next(progress.steps, schedule.checkpoint_every)
        return not launcher.stop_requested

    if ppo.steps < schedule.training_steps:
        ppo.learn(schedule.training_steps, on_update)
    save_checkpoint(ppo, context.checkpoint_dir, log.episodes, schedule.keep_checkpoints)
    summary = None
    if not launcher.stop_requested and eval_env is not None:
        summary = play(torch_actor(ppo), eval_env, schedule.evaluation_episodes, eval_seed, played, ppo.steps,
                       action_mask=action_masks(eval_env))
        emit(summary.line(ppo.steps))
        if best is not None and best[0] > summary.mean:
            emit(f"Keeping the best evaluated policy (step {best[1]}, mean return {best[0]:.2f}) over the final one "
                 f"(mean return {summary.mean:.2f}); evaluating it again")
            ppo.policy.load_state_dict(best[2])
            summary = play(torch_actor(ppo), eval_env, schedule.evaluation_episodes, eval_seed,
                           played + summary.episodes, ppo.steps, action_mask=action_masks(eval_env))
            emit(summary.line(ppo.steps))
        log.csv.evaluation(log.episodes, ppo.steps // ppo.steps_per_report, ppo.steps, summary.mean)
        write_summary(summary, context.output_data_dir)
    save_model(ppo, preset, context.model_dir, summary)
    log.close()
    env.close()


def _next(steps: int, every: int) -> int | None:
    return (steps // every + 1) * every if every else None


def save_model(ppo: Agent, preset, folder: Path, summary=None) -> None:
    """``model/``: the engine's weights, the preset and the portable policy."""
    from rlops.toolkits.fast.export import export_policy

    folder.mkdir(parents=True, exist_ok=True)
    torch.save({"policy": ppo.policy.state_dict(), "steps": ppo.steps}, folder / "fast-policy.pt")
    (folder / PRESET_FILE).write_text(preset.dump())
    extra = {"env_id": preset.env.id, "env_kwargs": preset.env.kwargs, "preset": preset.name, "training_steps": ppo.steps}
    if summary is not None:
        extra["evaluation"] = {"episodes": summary.episodes, "mean_return": summary.mean, "std_return": summary.std}
    export_policy(ppo, folder, extra, masked=ppo.action_mask is not None)


def evaluate_saved(launcher, checkpoint_channel: Path | None, model_channel: Path | None) -> bool:
    """Evaluation mode for a policy the fast engine trained: the newest of its checkpoints in the ``checkpoint``
    channel, or its ``policy.onnx`` in the ``model`` channel. ``False`` when neither holds one (an SB3 policy)."""
    from rlops.policies.manifest import PolicyError, read_manifest
    from rlops.policies.portable import PortablePolicy, policy_folder

    found = latest_checkpoint(checkpoint_channel)
    checkpoint = found[0] if found else None
    with contextlib.ExitStack() as stack:
        if checkpoint is not None:
            saved = checkpoint.parent / PRESET_FILE
        elif model_channel is not None:
            try:
                folder = stack.enter_context(policy_folder(model_channel))
                if read_manifest(folder).get("toolkit") != "fast":
                    return False
            except PolicyError:
                return False
            saved = folder / PRESET_FILE
        else:
            return False
        preset, settings = launcher.preset(fallback=str(saved) if saved.is_file() else None)
        episodes = settings.get("evaluate_episodes")
        if not isinstance(episodes, int) or isinstance(episodes, bool) or episodes < 1:
            raise UsageError("The fast engine evaluates whole episodes: give evaluate_episodes a positive integer "
                             f"(evaluate_steps is for SB3 policies); got {settings}.")
        env = make_env(preset, episodes)
        masks = action_masks(env)
        if checkpoint is not None:
            ppo = make_agent(preset, env)
            ppo.load_state(found[1])
            act, source, steps = torch_actor(ppo), checkpoint, ppo.steps
        else:
            policy = PortablePolicy(folder)
            masked = policy.manifest.get("action_mask")

            def act(obs, mask):
                return policy.predict(obs, action_masks=mask.astype(np.float32) if masked else None)[0]

            source, steps = folder, policy.manifest.get("training_steps", 0)
        emit(f"Evaluating the fast engine's {preset.algorithm.name} policy from {source} on {preset.env.id} ({episodes} episodes, deterministic)")
        summary = play(act, env, episodes, (preset.seed or 0) + 100_000, training_steps=int(steps), action_mask=masks)
        emit(summary.line())
        write_summary(summary, launcher.context.output_data_dir)
        env.close()
    return True
