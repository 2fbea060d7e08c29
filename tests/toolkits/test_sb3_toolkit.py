"""The SB3 toolkit: overrides, Coach lines, checkpoints and resume, evaluation, jobs and bad input."""

from __future__ import annotations

import json
import re
import tarfile
from pathlib import Path

import pytest
from stable_baselines3 import PPO

from rlops.exceptions import UnexpectedStatusException, UsageError
from rlops.rl import RLEstimator, RLToolkit
from rlops.storage import resolve_uri
from rlops.store import JobStore
from rlops.toolkits.sb3.presets import load_preset
from tests.toolkits.sb3_helpers import SCRIPTS, context, run

FAST = {"preset": "cartpole-ppo", "rl.schedule.training_steps": 512, "rl.schedule.evaluation_every": 256,
        "rl.schedule.evaluation_episodes": 2, "rl.schedule.checkpoint_every": 256,
        "rl.algorithm.hyperparameters.n_epochs": 3, "rl.algorithm.hyperparameters.n_steps": 32}
EPISODE_LINE = re.compile(r"^(Heatup|Training|Testing)> Name=main_level/agent, Worker=0, Episode=\d+, "
                          r"Total reward=-?\d+\.\d\d, Exploration=\d+\.\d\d, Steps=\d+, Training iteration=\d+$")
EPOCH_LINE = re.compile(r"^Policy training> Surrogate loss=\S+, KL divergence=\S+, Entropy=\S+, "
                        r"training epoch=(\d+), learning_rate=\S+$")


# SPEC section 3's regexes, written out here rather than read from the code under test.
SPEC_REGEXES = {
    "reward-training": r"^Training>.*Total reward=(.*?),",
    "reward-testing": r"^Testing>.*Total reward=(.*?),",
    "surrogate-loss": r"^Policy training>.*Surrogate loss=(.*?),",
    "entropy": r"^Policy training>.*Entropy=(.*?),",
}


def coach_values(log: str, regex: str) -> list[float]:
    return [float(m.group(1)) for line in log.splitlines() if (m := re.search(regex, line))]


def test_overrides_keep_their_json_types():
    preset = load_preset("cartpole-ppo", {
        "rl.algorithm.hyperparameters.gamma": 0.9, "rl.env.n_envs": 2, "rl.env.check": False,
        "rl.algorithm.hyperparameters.policy_kwargs": {"net_arch": [32, 32]}, "discount": 0.95,
        "epochs": 7, "rl.algorithm.hyperparameters.normalize_advantage": False, "rl.target": 400,
    })
    hps = preset.algorithm.hyperparameters
    assert hps["gamma"] == 0.95 and isinstance(hps["gamma"], float)  # the alias wins: it came later
    assert preset.env.n_envs == 2 and isinstance(preset.env.n_envs, int)
    assert preset.env.check is False and hps["normalize_advantage"] is False
    assert hps["policy_kwargs"]["net_arch"] == [32, 32] and hps["n_epochs"] == 7
    assert preset.target == 400.0


@pytest.mark.parametrize("overrides, message", [
    ({"rl.algorithm.hyperparameters.gama": 0.9}, r"'algorithm.hyperparameters.gama'.*Did you mean 'gamma'"),
    ({"rl.schedule.training_step": 5}, r"Unknown preset field 'schedule.training_step'.*Did you mean 'training_steps'"),
    ({"rl.env.n_envs": "8"}, r"'env.n_envs' must be int; got '8' \(str\)"),
    ({"rl.algorithm.hyperparameters.n_steps": 32.5}, r"'algorithm.hyperparameters.n_steps' must be int; got 32.5"),
    ({"rl.algorithm.hyperparameters.learning_rate": "fast"}, r"number or a schedule such as 'lin_0.001'"),
    ({"rl.algorithm.name": "PP0"}, r"Unknown algorithm 'PP0'.*Did you mean 'PPO'"),
    ({"rl.env.vec_env": "threads"}, r"'env.vec_env' must be one of 'auto', 'dummy', 'subproc'"),
    ({"gamma": 0.9}, r"'gamma' is neither a preset override.*Did you mean 'seed'|'gamma' is neither"),
])
def test_bad_preset_input_names_the_field(overrides, message):
    with pytest.raises(UsageError, match=message):
        load_preset("cartpole-ppo", overrides)


def test_log_lines_match_the_coach_format_and_regexes(tmp_path):
    log = run(context(tmp_path, FAST))
    episodes = [l for l in log.splitlines() if l.startswith(("Heatup>", "Training>", "Testing>"))]
    assert episodes and all(EPISODE_LINE.match(l) for l in episodes)
    assert coach_values(log, SPEC_REGEXES["reward-training"])
    assert len(coach_values(log, SPEC_REGEXES["reward-testing"])) == 2 * 3  # 2 evals + final
    assert coach_values(log, SPEC_REGEXES["surrogate-loss"]) and coach_values(log, SPEC_REGEXES["entropy"])
    epochs = [int(EPOCH_LINE.match(l).group(1)) for l in log.splitlines() if l.startswith("Policy training>")]
    updates = 512 // (32 * 8)
    assert epochs == [0, 1, 2] * updates  # one line per PPO epoch
    defaults = {d["Name"]: d["Regex"] for d in RLEstimator.default_metric_definitions(RLToolkit.SB3)}
    assert {name: defaults[name] for name in SPEC_REGEXES} == SPEC_REGEXES  # the SB3 defaults are SPEC's
    for name in ("kl-divergence", "reward-evaluation"):  # rlops's own additions read the log too
        assert coach_values(log, defaults[name]), name


def test_off_policy_heatup_and_loss_lines(tmp_path):
    hps = {"preset": "cartpole-dqn", "rl.schedule": {"training_steps": 600, "heatup_steps": 200,
           "evaluation_episodes": 1}, "rl.algorithm.hyperparameters.learning_starts": 200,
           "rl.algorithm.hyperparameters.train_freq": 4, "rl.algorithm.hyperparameters.gradient_steps": 1}
    log = run(context(tmp_path, hps))
    phases = [l.split(">")[0] for l in log.splitlines() if EPISODE_LINE.match(l)]
    assert phases[0] == "Heatup" and "Training" in phases
    assert coach_values(log, r"^Policy training>.*?\bLoss=(.*?),")


def test_checkpoints_resume_step_count_and_normalisation(tmp_path):
    hps = {**FAST, "rl.env.normalize": True}
    first = context(tmp_path, hps, name="first")
    run(first)
    manifest = json.loads((first.checkpoint_dir / "latest.json").read_text())
    assert manifest["steps"] == 512 and (first.checkpoint_dir / manifest["vecnormalize"]).is_file()
    count_before = _obs_count(first.model_dir / "vecnormalize.pkl")

    second = context(tmp_path, {**hps, "rl.schedule.training_steps": 1024}, name="second")
    second.checkpoint_dir = first.checkpoint_dir  # the same checkpoint_uri, restored into the new job
    log = run(second)
    assert "Resuming from checkpoint at step 512" in log
    assert PPO.load(second.model_dir / "model.zip").num_timesteps == 1024
    assert _obs_count(second.model_dir / "vecnormalize.pkl") > count_before
    first_episode = min(int(m) for m in re.findall(r"^Training>.*Episode=(\d+),", log, re.M))
    assert first_episode == manifest["episodes"]  # episode numbering continues

    third = context(tmp_path, {**hps, "rl.schedule.training_steps": 768}, name="third",
                    channels={"checkpoint": first.checkpoint_dir})
    assert "Resuming from checkpoint at step 1024" in run(third)  # a checkpoint channel works too


def test_a_damaged_checkpoint_is_skipped_for_the_one_before(tmp_path):
    first = context(tmp_path, FAST, name="first")
    run(first)  # checkpoints at 256 and 512 steps (the last 2 are kept)
    assert sorted(p.name for p in first.checkpoint_dir.glob("checkpoint_*_steps.json")) == [
        "checkpoint_256_steps.json", "checkpoint_512_steps.json"]
    newest = first.checkpoint_dir / "model_512_steps.zip"
    newest.write_bytes(newest.read_bytes()[:300])  # cut short, as a disk or a copy might leave it
    second = context(tmp_path, {**FAST, "rl.schedule.training_steps": 768}, name="second")
    second.checkpoint_dir = first.checkpoint_dir
    log = run(second)
    assert f"Warning: skipping the unreadable checkpoint {newest} at step 512" in log
    assert "Resuming from checkpoint at step 256" in log
    assert PPO.load(second.model_dir / "model.zip").num_timesteps == 768


def _obs_count(path: Path) -> float:
    import pickle

    with open(path, "rb") as f:
        return pickle.load(f).obs_rms.count


def test_evaluation_mode_from_model_and_checkpoint_channels(tmp_path):
    trained = context(tmp_path, FAST, name="trained")
    run(trained)
    evaluation = context(tmp_path, {"evaluate_episodes": 3}, name="eval", channels={"model": trained.model_dir})
    log = run(evaluation)
    testing = [l for l in log.splitlines() if l.startswith("Testing>")]
    assert len(testing) == 3 and all(EPISODE_LINE.match(l) for l in testing)
    summary = json.loads((evaluation.output_data_dir / "evaluation.json").read_text())
    assert summary["episodes"] == 3 and f"mean return={summary['mean']:.2f}" in log

    by_steps = context(tmp_path, {"evaluate_steps": 200}, name="eval2", channels={"checkpoint": trained.checkpoint_dir})
    assert "Evaluation summary>" in run(by_steps)


def test_tensorboard_events_in_intermediate(tmp_path):
    ctx = context(tmp_path, FAST)
    run(ctx)
    assert list((ctx.intermediate_dir / "tensorboard").rglob("events.out.tfevents.*"))


def test_unknown_hyperparameter_without_mapping(tmp_path):
    with pytest.raises(UsageError, match="Unknown hyperparameter 'budget'.*map_hyperparameter"):
        run(context(tmp_path, {"preset": "cartpole-ppo", "budget": 5}))


# -- real jobs ----------------------------------------------------------------------------------


def model_members(model_data: str) -> set[str]:
    with tarfile.open(resolve_uri(model_data)) as archive:
        return set(archive.getnames())


@pytest.mark.slow
def test_preset_job_without_a_script_then_evaluation_job(tmp_path):
    estimator = RLEstimator(toolkit=RLToolkit.SB3, hyperparameters={**FAST, "rl.schedule.training_steps": 256},
                            output_path=str(tmp_path / "out"), checkpoint_uri=str(tmp_path / "ckpt"))
    estimator.fit(logs=False)
    assert {"model.zip", "policy.onnx", "policy.json", "preset.yaml"} <= model_members(estimator.model_data)
    frame = estimator.training_job_analytics.dataframe()
    assert {"reward-training", "reward-testing", "surrogate-loss", "entropy"} <= set(frame.metric_name)
    assert (tmp_path / "ckpt" / "latest.json").is_file()
    assert list((tmp_path / "out" / estimator.latest_training_job.name / "output" / "intermediate" / "tensorboard").rglob("events*"))

    evaluator = RLEstimator(toolkit="sb3", hyperparameters={"evaluate_episodes": 2}, output_path=str(tmp_path / "out"))
    evaluator.fit({"model": estimator.model_data}, logs=False)  # a model_data URI works directly
    testing = evaluator.training_job_analytics.dataframe().query("metric_name == 'reward-testing'")
    assert len(testing) == 2


@pytest.mark.slow
def test_launcher_subclass_script_as_a_job(tmp_path):
    estimator = RLEstimator(entry_point="sb3_launcher.py", source_dir=str(SCRIPTS), toolkit=RLToolkit.SB3,
                            hyperparameters={"budget": 256, "rl.schedule.evaluation_episodes": 1},
                            output_path=str(tmp_path / "out"))
    estimator.fit(logs=False)
    log = Path(JobStore().get(estimator.latest_training_job.name).log_path).read_text()
    assert "Steps=256" in log and "Evaluation summary> episodes=1" in log


def test_bad_preset_is_refused_before_the_job_starts(tmp_path):
    with pytest.raises(UsageError, match="Did you mean 'cartpole-ppo'"):
        RLEstimator(toolkit="sb3", hyperparameters={"preset": "cartpole-pp"})
    with pytest.raises(UsageError, match="'schedule.training_steps' must be int"):
        RLEstimator(toolkit="sb3", hyperparameters={"preset": "cartpole-ppo", "rl.schedule.training_steps": "lots"})
    assert JobStore().list() == []


@pytest.mark.slow
def test_environment_failing_the_checker_fails_the_job_with_the_check(tmp_path):
    estimator = RLEstimator(toolkit="sb3", source_dir=str(SCRIPTS), output_path=str(tmp_path / "out"),
                            hyperparameters={**FAST, "rl.env.id": "masked_env:BrokenEnv"})
    with pytest.raises(UnexpectedStatusException):
        estimator.fit(logs=False)
    reason = estimator.latest_training_job.describe()["FailureReason"]
    assert "fails Gymnasium's environment checker" in reason and "observation" in reason


@pytest.mark.filterwarnings("ignore:You have specified a mini-batch size")
@pytest.mark.parametrize("batch_size", [256, 100])  # 100: a truncated last minibatch takes the slow path
def test_epoch_lines_agree_with_sb3s_own_averages(batch_size):
    import contextlib
    import io

    import numpy as np
    from stable_baselines3.common.env_util import make_vec_env

    from rlops.toolkits.sb3.coach_log import PPOEpochLog

    model = PPO("MlpPolicy", make_vec_env("CartPole-v1", n_envs=8, seed=0), n_steps=32, batch_size=batch_size,
                n_epochs=4, seed=0)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        model.learn(256, callback=PPOEpochLog())
    lines = [l for l in out.getvalue().splitlines() if l.startswith("Policy training>")]
    assert [int(EPOCH_LINE.match(l).group(1)) for l in lines] == [0, 1, 2, 3]
    surrogate = np.mean(coach_values(out.getvalue(), r"Surrogate loss=(.*?),"))
    entropy = np.mean(coach_values(out.getvalue(), r"Entropy=(.*?),"))
    logged = model.logger.name_to_value
    assert surrogate == pytest.approx(logged["train/policy_gradient_loss"], rel=1e-3, abs=1e-6)
    assert -entropy == pytest.approx(logged["train/entropy_loss"], rel=1e-3)
