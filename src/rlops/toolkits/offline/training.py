"""An offline preset's job: train a d3rlpy algorithm on logged episodes, evaluating it off-policy every epoch.

1. The dataset comes from the preset's channel (a ``.csv`` or ``.jsonl`` file in it) or ``minari:ID``; it
   must fit the preset's environment. Its episodes are split (``train_to_eval_ratio``): d3rlpy trains on
   the first share, the off-policy estimates use the held-out rest.
2. Each epoch (``schedule.evaluation_every`` gradient steps, 1,000 by default) prints a ``Policy training>``
   line with d3rlpy's losses and an ``Off-policy evaluation>`` line (IPS, WIS, DM, DR, SDR of the greedy
   policy, fitted Q evaluation continued from the previous epoch; continuous actions: DM alone, see
   :mod:`rlops.toolkits.offline.continuous`), appends a row to Coach's batch-RL CSV, and writes a
   checkpoint (written then renamed) that a restarted job resumes from.
3. At the end the policy plays ``schedule.evaluation_episodes`` episodes in the live environment
   (``Testing>`` lines and the evaluation summary), and ``model/`` gets ``policy.onnx`` + ``policy.json``
   (``action``, ``q_values``, ``probabilities``: probability 1 on the greedy action; continuous policies:
   ``action``) and d3rlpy's own file.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path

import numpy as np

from rlops.datasets import Dataset, read_dataset
from rlops.exceptions import UsageError
from rlops.ope import COACH_COLUMNS as OPE_COLUMNS
from rlops.ope import MODEL_BASED, evaluate, fit_fqe
from rlops.toolkits.coach_lines import PRESET_FILE, emit, write_summary
from rlops.toolkits.numbered_checkpoints import load_newest, save_numbered
from rlops.toolkits.offline.algorithms import ALGORITHMS, CONTINUOUS, DISCRETE, estimators, import_d3rlpy

CHECKPOINT = "offline-checkpoint-{steps}.d3"
BATCH_CSV = "worker_0.batch_rl_graph.main_level.main_level.agent_0.csv"
CSV_COLUMNS = ["Episode #", "Training Iter", "Total steps", "Episode Length", "Training Reward", "Evaluation Reward",
               "Wall-Clock Time", "Loss", *OPE_COLUMNS.values()]
DEFAULT_EPOCH_STEPS = 1000
#: FQE iterations at the first epoch, and at each later one (continuing from the last).
FQE_FIRST, FQE_NEXT = 60, 20


def find_dataset(launcher, source: str) -> Dataset:
    """The dataset the preset names: ``minari:ID``, or the one ``.csv``/``.jsonl`` file in the channel ``source``."""
    if source.startswith("minari:"):
        return read_dataset(source)
    channels = launcher.context.channels
    if source not in channels:
        raise UsageError(f"The preset reads its dataset from the channel {source!r}, which this job does not have "
                         f"(channels: {', '.join(channels) or 'none'}). Pass it: estimator.fit({{'{source}': "
                         "'episodes.csv'}).")
    folder = channels[source]
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in (".csv", ".jsonl"))
    if len(files) != 1:
        raise UsageError(f"The channel {source!r} holds {len(files)} dataset files (.csv or .jsonl)"
                         + (f": {', '.join(p.name for p in files)}" if files else "") + "; give it exactly one.")
    return read_dataset(files[0])


def mdp_dataset(d3rlpy, dataset: Dataset):
    """d3rlpy's ``MDPDataset`` of the episodes. A cut-short episode gets one padding step (its final observation,
    marked as a timeout) so that d3rlpy keeps its real last transition, which it would otherwise drop."""
    parts = {key: [] for key in ("observations", "actions", "rewards", "terminals", "timeouts")}
    no_action = np.zeros((1, dataset.n_actions), np.float32) if dataset.continuous else np.zeros(1, np.int64)
    for episode in dataset:
        n = len(episode)
        observations, actions, rewards = episode.observations, episode.actions, episode.rewards
        ends = np.zeros(n, np.float32)
        cut = np.zeros(n, np.float32)
        if episode.terminated:
            ends[-1] = 1
        else:
            observations = np.concatenate([observations, episode.final_observation[None]])
            actions, rewards = np.concatenate([actions, no_action]), np.append(rewards, 0.0)
            ends, cut = np.append(ends, 0), np.append(cut, 1)
        for key, value in zip(parts, (observations, actions, rewards, ends, cut)):
            parts[key].append(value)
    arrays = {key: np.concatenate(values) for key, values in parts.items()}
    continuous = dataset.continuous
    return d3rlpy.dataset.MDPDataset(
        observations=arrays["observations"].astype(np.float32),
        actions=arrays["actions"].astype(np.float32 if continuous else np.int64),
        rewards=arrays["rewards"].astype(np.float32), terminals=arrays["terminals"], timeouts=arrays["timeouts"],
        action_space=d3rlpy.ActionSpace.CONTINUOUS if continuous else d3rlpy.ActionSpace.DISCRETE,
        action_size=dataset.n_actions)


def make_algorithm(d3rlpy, preset, device, env):
    """The preset's d3rlpy algorithm. Its hyperparameters are d3rlpy's config fields, with factories and scalers
    written as d3rlpy serialises them (``{type: vector, params: {hidden_units: [64, 64]}}``)."""
    import dataclasses

    from rlops.toolkits.offline.continuous import action_scaler

    config_class = getattr(d3rlpy.algos, ALGORITHMS[preset.algorithm.name])
    hyperparameters = dict(preset.algorithm.hyperparameters)
    accepted = sorted(f.name for f in dataclasses.fields(config_class))
    unknown = [key for key in hyperparameters if key not in accepted]
    if unknown:
        raise UsageError(f"{preset.algorithm.name} has no hyperparameter {unknown[0]!r}. d3rlpy's "
                         f"{config_class.__name__} takes: {', '.join(accepted)}.")
    if preset.algorithm.name in CONTINUOUS:
        scaler = action_scaler(env.action_space, hyperparameters)
        if scaler is not None:
            hyperparameters["action_scaler"] = scaler
    try:
        config = config_class.deserialize_from_dict({**config_class().serialize_to_dict(), **hyperparameters})
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise UsageError(f"{preset.algorithm.name}: bad hyperparameters {hyperparameters} ({type(exc).__name__}: "
                         f"{exc}). Factories and scalers are written as d3rlpy serialises them, e.g. "
                         "{type: vector, params: {hidden_units: [64, 64]}}.") from None
    return config.create(device=device)


def greedy(algo, n_actions: int):
    """The trained policy's action probabilities: 1 on its greedy action (what it does when deployed)."""
    identity = np.eye(n_actions)
    return lambda observations: identity[algo.predict(np.asarray(observations, np.float32))]


def train(launcher, preset) -> None:
    import gymnasium as gym
    import torch

    import rlops.envs  # noqa: F401  (registers rlops/ environments)

    d3rlpy = import_d3rlpy()  # first: it lends d3rlpy the gym stand-in it imports
    from d3rlpy.logging import NoopAdapterFactory

    context, offline, schedule = launcher.context, preset.offline, preset.schedule
    torch.set_num_threads(preset.torch_threads or max(1, context.num_cpus))
    if preset.seed is not None:
        d3rlpy.seed(preset.seed)  # NumPy, PyTorch and Python's random, for a run that repeats
    env = gym.make(preset.env.id, **preset.env.kwargs)
    continuous = preset.algorithm.name in CONTINUOUS
    space = env.action_space
    expected = gym.spaces.Box if continuous else gym.spaces.Discrete
    if not isinstance(space, expected) or len(space.shape) > 1:
        raise UsageError(f"{preset.env.id} has actions {space}; {preset.algorithm.name} trains "
                         f"{'continuous action vectors (a one-dimensional Box)' if continuous else 'discrete actions'}; "
                         f"for {'discrete' if continuous else 'continuous'} actions use "
                         f"{', '.join(DISCRETE if continuous else CONTINUOUS)}.")
    dataset = find_dataset(launcher, offline.dataset)
    dataset.check(env.observation_space.shape, int(space.shape[0]) if continuous else int(space.n),
                  what=preset.env.id, continuous=continuous)
    train_set, held_out = dataset.split(offline.train_to_eval_ratio, seed=preset.seed or 0)
    returns = dataset.returns()
    emit(f"Dataset {dataset.source}: {len(dataset)} episodes, {dataset.steps} steps, mean return {returns.mean():.2f} "
         f"(behaviour: {dataset.describe()['behaviour']}); training on {len(train_set)} episodes, off-policy "
         f"evaluation on {len(held_out)}")
    device = "cuda:0" if context.num_gpus and torch.cuda.is_available() else False
    resumed = load_newest(context.checkpoint_dir, CHECKPOINT, lambda path: d3rlpy.load_learnable(str(path), device=device))
    if resumed is not None:
        done_steps, checkpoint, algo = resumed
        emit(f"Resuming from {checkpoint.name} at step {done_steps}")
    else:
        done_steps, algo = 0, make_algorithm(d3rlpy, preset, device, env)
    per_epoch = schedule.evaluation_every or DEFAULT_EPOCH_STEPS
    remaining = schedule.training_steps - done_steps
    writer = _BatchCSV(context.intermediate_dir)
    fqe, start = None, time.monotonic()
    steps = done_steps
    names = estimators(preset)
    if remaining > 0:
        if continuous and names:
            from rlops.toolkits.offline.continuous import DirectMethod

            fqe = DirectMethod(d3rlpy, algo, held_out, mdp_dataset(d3rlpy, held_out), offline.gamma, device)
        fitter = algo.fitter(mdp_dataset(d3rlpy, train_set), n_steps=remaining, n_steps_per_epoch=min(per_epoch, remaining),
                             show_progress=False, logger_adapter=NoopAdapterFactory(), save_interval=10 ** 9)
        for _, metrics in fitter:
            steps = min(steps + per_epoch, schedule.training_steps)
            epoch = steps // per_epoch
            losses = {k: float(v) for k, v in metrics.items() if k.endswith("loss")}
            emit(f"Policy training> {', '.join(f'{_title(k)}={v:.6f}' for k, v in losses.items())}, Epoch={epoch}, "
                 f"Training iteration={epoch}, Steps={steps}")
            estimates = {}
            if continuous and names:
                estimates = fqe.estimate(offline.bootstrap, seed=epoch)
            elif names:  # an empty list turns off-policy evaluation off
                target = greedy(algo, dataset.n_actions)
                if any(name in MODEL_BASED for name in names):
                    fqe = fit_fqe(held_out, target, offline.gamma, fqe=fqe, seed=preset.seed or 0,
                                  iterations=FQE_NEXT if fqe else FQE_FIRST)
                estimates = evaluate(held_out, target, offline.gamma, names, fqe=fqe, bootstrap=offline.bootstrap,
                                     seed=epoch)
            if estimates:
                emit("Off-policy evaluation> " + ", ".join(f"{name}={e.value:.4f}" for name, e in estimates.items())
                     + f", Epoch={epoch}, " + ", ".join(f"{name} interval=[{e.low:.4f} {e.high:.4f}]"
                                                        for name, e in estimates.items()))
            writer.row(epoch, steps, losses.get("loss"), {OPE_COLUMNS[n]: e.value for n, e in estimates.items()},
                       time.monotonic() - start)
            emit(f"Progress> steps={steps}/{schedule.training_steps}")
            save_numbered(context.checkpoint_dir, CHECKPOINT, steps, lambda path: algo.save(str(path)),
                          schedule.keep_checkpoints)
            if launcher.stop_requested:
                emit(f"Stopped at step {steps}; saving the policy")
                break
    summary = live_evaluation(algo, preset, steps)
    if summary is not None:
        writer.row(steps // per_epoch, steps, None, {"Evaluation Reward": summary.mean}, time.monotonic() - start)
        write_summary(summary, context.output_data_dir)
    writer.close()
    save_model(algo, d3rlpy, preset, env, context.model_dir, dataset, summary, steps)


def _title(key: str) -> str:
    """d3rlpy's metric names as the SB3 toolkit's loss lines spell them (``td_loss`` -> ``TD loss``)."""
    words = key.split("_")
    return " ".join([words[0].upper() if len(words[0]) <= 2 else words[0].capitalize(), *words[1:]])


def live_evaluation(algo, preset, steps: int):
    """Play the policy in the environment (``Testing>`` lines); its summary, or None when no episodes are asked."""
    episodes = preset.schedule.evaluation_episodes
    if episodes < 1:
        return None
    from rlops.toolkits.fast.training import make_env, play

    env = make_env(preset, episodes)
    summary = play(lambda obs, mask: algo.predict(np.asarray(obs, np.float32)), env, episodes, seed=10_000,
                   training_steps=steps)
    emit(summary.line(steps))
    return summary


class _BatchCSV:
    """Coach's batch-RL experiment CSV (SPEC section 7): a row per epoch with the off-policy estimates, and the live
    evaluation's mean return."""

    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / BATCH_CSV
        fresh = not path.is_file()
        self._file = open(path, "a", newline="")
        self._writer = csv.writer(self._file)
        if fresh:
            self._writer.writerow(CSV_COLUMNS)

    def row(self, epoch: int, steps: int, loss: float | None, values: dict, seconds: float) -> None:
        row = {"Episode #": epoch, "Training Iter": epoch, "Total steps": steps, "Loss": loss,
               "Wall-Clock Time": round(seconds, 3), **values}
        self._writer.writerow(["" if row.get(c) is None else row[c] for c in CSV_COLUMNS])
        self._file.flush()

    def close(self) -> None:
        self._file.close()


def save_model(algo, d3rlpy, preset, env, folder: Path, dataset: Dataset, summary, steps: int) -> None:
    """``model/``: ``policy.onnx`` + ``policy.json`` (portable), d3rlpy's own file and the preset."""
    from rlops.toolkits.offline.export import export_policy
    folder.mkdir(parents=True, exist_ok=True)
    algo.save(str(folder / "model.d3"))
    (folder / PRESET_FILE).write_text(preset.dump())
    extra = {"env_id": preset.env.id, "env_kwargs": preset.env.kwargs, "preset": preset.name, "training_steps": steps,
             "dataset": {"source": dataset.source, "episodes": len(dataset), "mean_return": float(dataset.returns().mean())}}
    if summary is not None:
        extra["evaluation"] = {"episodes": summary.episodes, "mean_return": summary.mean, "std_return": summary.std}
    export_policy(algo, d3rlpy, env, folder, preset.algorithm.name, extra)
