"""RLToolkit.RAY jobs end to end: SageMaker's cart-pole launcher script on RLlib 2.x, in a real job."""

from __future__ import annotations

import json
import re
import tarfile

import numpy as np
import psutil
import pytest

from rlops.exceptions import UnexpectedStatusException
from rlops.policies import PortablePolicy
from rlops.rl import RLEstimator, RLToolkit
from rlops.session import Session
from rlops.storage import resolve_uri
from tests.toolkits.sb3_helpers import SCRIPTS

pytest.importorskip("ray.rllib", reason="the ray extra is part of the test install")
pytestmark = pytest.mark.slow

# SPEC sections 3 and 7, written out rather than read from the code under test
TRAINING_LINE = re.compile(r"^Training> Name=main_level/agent, Worker=0, Episode=\d+, Total reward=\d+\.\d\d, "
                           r"Exploration=0\.00, Steps=\d+, Training iteration=\d+$", re.M)
SUMMARY = re.compile(r"^Evaluation summary> episodes=10, mean return=(\S+),", re.M)


def ray_job(tmp_path, **hyperparameters):
    return RLEstimator(entry_point="ray_cartpole.py", source_dir=str(SCRIPTS), toolkit=RLToolkit.RAY,
                       output_path=str(tmp_path / "out"), checkpoint_uri=str(tmp_path / "checkpoints"),
                       hyperparameters=hyperparameters)


def job_log(estimator) -> str:
    return "".join(Session().service.jobs.logs(estimator.latest_training_job.name))


def no_ray_left(within: float = 10.0) -> bool:
    """No Ray node process (raylet, GCS) runs on this machine, at the latest ``within`` seconds from now."""
    import time

    deadline = time.monotonic() + within
    while True:
        left = [p for p in psutil.process_iter(["name"]) if p.info["name"] in ("raylet", "gcs_server")]
        if not left or time.monotonic() > deadline:
            return not left
        time.sleep(0.2)


def test_cartpole_launcher_job_learns_reports_and_exports(tmp_path):
    estimator = ray_job(tmp_path)
    estimator.fit(logs=False)
    log = job_log(estimator)

    assert float(SUMMARY.search(log).group(1)) >= 475  # the exported policy, played deterministically
    assert "rlops: config key 'num_sgd_iter' is 'num_epochs' on RLlib 2.x." in log
    assert re.search(r"^rlops: Ray \S+ started on 127\.0\.0\.1:\d+ with \d+ CPU", log, re.M)  # loopback only
    iterations = int(re.findall(r"^training_iteration: (\d+)$", log, re.M)[-1])
    frame = estimator.training_job_analytics.dataframe()  # the default RAY regexes read SageMaker's Ray lines
    assert len(frame[frame.metric_name == "episode_reward_mean"]) == iterations
    assert "rlops: stopping after iteration" in log and "evaluation/env_runners/episode_return_mean" in log
    assert len(TRAINING_LINE.findall(log)) > iterations  # one Coach line per finished episode
    assert (tmp_path / "checkpoints" / "latest.json").is_file()
    with tarfile.open(resolve_uri(estimator.model_data)) as archive:
        names = set(archive.getnames())
    assert {"policy.onnx", "policy.json", "params.json", "checkpoint/rllib_checkpoint.json"} <= names

    # The portable policy acts as RLlib's module does, deterministically, on 1,000 observations.
    from ray.rllib.core.rl_module.rl_module import RLModule
    import torch

    policy = PortablePolicy.load(estimator.model_data)
    assert policy.manifest["toolkit"] == "rllib" and policy.manifest["outputs"] == ["action", "probabilities", "value"]
    unpacked = tmp_path / "model"
    with tarfile.open(resolve_uri(estimator.model_data)) as archive:
        archive.extractall(unpacked, filter="data")
    module = RLModule.from_checkpoint(str(unpacked / "checkpoint/learner_group/learner/rl_module/default_policy"))
    observations = np.random.default_rng(0).uniform(-2.4, 2.4, (1000, 4)).astype(np.float32)
    with torch.no_grad():
        logits = module.forward_inference({"obs": torch.from_numpy(observations)})["action_dist_inputs"].numpy()
    actions, _ = policy.predict(observations)
    assert (actions == logits.argmax(-1)).all()

    # Served like any rlops policy.
    predictor = estimator.deploy(endpoint_name="ray-cartpole")
    try:
        inside = [0.01, -0.02, 0.03, 0.04]  # the server refuses observations outside the space
        assert predictor.predict(inside)["action"] == int(policy.predict(np.array(inside, np.float32))[0])
    finally:
        predictor.delete_endpoint()

    # Evaluation mode, training nothing: from the model channel (no script), and from the checkpoint channel.
    evaluator = RLEstimator(toolkit=RLToolkit.RAY, output_path=str(tmp_path / "out"), hyperparameters={"evaluate_episodes": 3})
    evaluator.fit({"model": estimator.model_data}, logs=False)
    summary = re.search(r"^Evaluation summary> episodes=3, mean return=(\S+),", job_log(evaluator), re.M)
    assert summary and float(summary.group(1)) >= 475
    from_checkpoint = RLEstimator(entry_point="ray_cartpole.py", source_dir=str(SCRIPTS), toolkit=RLToolkit.RAY,
                                  output_path=str(tmp_path / "out"), hyperparameters={"evaluate_episodes": 2})
    from_checkpoint.fit({"checkpoint": str(tmp_path / "checkpoints")}, logs=False)
    assert re.search(r"^Evaluation summary> episodes=2, ", job_log(from_checkpoint), re.M)

    # A job restarted on the same checkpoint_uri resumes where the first stopped.
    again = ray_job(tmp_path, **{"rl.training.stop.training_iteration": iterations + 1,
                                 "rl.training.stop.episode_reward_mean": 1e9})
    again.fit(logs=False)
    log = job_log(again)
    assert f"(iteration {iterations})" in log and "Resuming from checkpoint" in log
    assert re.findall(r"^training_iteration: (\d+)$", log, re.M) == [str(iterations + 1)]
    assert no_ray_left()


def test_a_config_key_rllib_lacks_fails_the_job_naming_it(tmp_path):
    estimator = ray_job(tmp_path, **{"rl.training.config.num_sgd_iters": 3})
    with pytest.raises(UnexpectedStatusException):
        estimator.fit(logs=False)
    reason = estimator.latest_training_job.describe()["FailureReason"]
    assert "Unknown Ray config key 'num_sgd_iters'" in reason and "Did you mean 'num_sgd_iter'" in reason
    assert no_ray_left()  # the job's own Ray instance went with it


def test_cartpole_preset_without_a_script(tmp_path):
    estimator = RLEstimator(toolkit=RLToolkit.RAY, output_path=str(tmp_path / "out"),
                            hyperparameters={"preset": "cartpole-rllib-ppo"})
    estimator.fit(logs=False)
    assert float(SUMMARY.search(job_log(estimator)).group(1)) >= 475


def test_autoscaling_preset_exports_a_multidiscrete_policy(tmp_path):
    import gymnasium
    import torch
    from ray.rllib.core.rl_module.rl_module import RLModule

    import rlops.envs  # noqa: F401

    estimator = RLEstimator(toolkit=RLToolkit.RAY, output_path=str(tmp_path / "out"), hyperparameters={
        "preset": "autoscaling-rllib-ppo", "rl.training.stop.timesteps_total": 4000, "rl.evaluation_episodes": 1,
        "rl.training.config.train_batch_size_per_learner": 2000, "rl.training.config.minibatch_size": 500,
        "rl.training.config.num_epochs": 1, "rl.training.config.num_envs_per_env_runner": 2})
    estimator.fit(logs=False)
    assert re.search(r"^Evaluation summary> episodes=1, ", job_log(estimator), re.M)
    policy = PortablePolicy.load(estimator.model_data)
    assert policy.manifest["env_id"] == "rlops/AutoScaling-v0" and policy.manifest["action_space"]["nvec"] == [11, 11]

    env = gymnasium.make("rlops/AutoScaling-v0")
    observations = np.array([env.reset(seed=s)[0] for s in range(20)]
                            + [env.step(env.action_space.sample())[0] for _ in range(180)], dtype=np.float32)
    unpacked = tmp_path / "model"
    with tarfile.open(resolve_uri(estimator.model_data)) as archive:
        archive.extractall(unpacked, filter="data")
    module = RLModule.from_checkpoint(str(unpacked / "checkpoint/learner_group/learner/rl_module/default_policy"))
    with torch.no_grad():
        logits = module.forward_inference({"obs": torch.from_numpy(observations)})["action_dist_inputs"].numpy()
    expected = np.stack([logits[:, :11].argmax(-1), logits[:, 11:].argmax(-1)], axis=-1)
    actions, _ = policy.predict(observations)
    assert actions.shape == (200, 2) and (actions == expected).all()


def test_knapsack_preset_masks_actions_in_rllib_and_in_its_onnx_policy(tmp_path):
    import gymnasium
    import torch
    from ray.rllib.core.rl_module.rl_module import RLModule

    import rlops.envs  # noqa: F401
    from rlops.toolkits.rllib.environments import ActionMaskObservations

    estimator = RLEstimator(toolkit=RLToolkit.RAY, output_path=str(tmp_path / "out"), hyperparameters={
        "preset": "knapsack-rllib-ppo", "rl.training.stop.timesteps_total": 4000, "rl.evaluation_episodes": 2,
        "rl.training.config.train_batch_size_per_learner": 2000, "rl.training.config.num_epochs": 2})
    estimator.fit(logs=False)
    policy = PortablePolicy.load(estimator.model_data)
    assert policy.manifest["action_mask"] is True and policy.manifest["inputs"] == ["observation", "action_mask"]

    env = gymnasium.make("rlops/Knapsack-v0")
    observations, masks = [], []
    for seed in range(50):  # 1,000 observations of 50 episodes, with their masks
        obs, _ = env.reset(seed=seed)
        for _ in range(20):
            observations.append(obs)
            masks.append(env.unwrapped.action_masks())
            obs, *_ = env.step(int(env.unwrapped.action_masks()[1] and env.np_random.random() < 0.5))
    observations, masks = np.array(observations, np.float32), np.array(masks, np.float32)
    assert 0 < masks[:, 1].sum() < len(masks)  # some items fit, some do not
    unpacked = tmp_path / "model"
    with tarfile.open(resolve_uri(estimator.model_data)) as archive:
        archive.extractall(unpacked, filter="data")
    module = RLModule.from_checkpoint(str(unpacked / "checkpoint/learner_group/learner/rl_module/default_policy"))
    scaled = observations / ActionMaskObservations(env).scale  # what the module was trained on
    with torch.no_grad():
        batch = {"obs": {"observations": torch.from_numpy(scaled), "action_mask": torch.from_numpy(masks)}}
        expected = module.forward_inference(batch)["action_dist_inputs"].numpy().argmax(-1)
    actions, _ = policy.predict(observations, action_masks=masks)
    assert (actions == expected).all()
    assert not (actions[masks[:, 1] == 0] == 1).any()  # never an item that does not fit
    everything_allowed, _ = policy.predict(observations)  # without a mask: every action allowed
    assert everything_allowed.shape == actions.shape


def test_two_instances_form_one_ray_cluster_with_runners_on_both(tmp_path):
    estimator = RLEstimator(entry_point="ray_cartpole.py", source_dir=str(SCRIPTS), toolkit=RLToolkit.RAY,
                            instance_count=2, output_path=str(tmp_path / "out"),
                            hyperparameters={"rl.training.stop.training_iteration": 2, "rl.evaluation_episodes": 1})
    estimator.fit(logs=False)
    log = job_log(estimator)
    assert re.search(r"^algo-1 \| rlops: Ray \S+ cluster at 127\.0\.0\.1:\d+: 2 nodes \(algo-1, algo-2\) on 127\.0\.0\.1,",
                     log, re.M)  # every node on loopback
    assert "algo-2 | algo-2: the driver is done; node stopped" in log
    output = resolve_uri(estimator.latest_training_job.describe()["ModelArtifacts"]["S3ModelArtifacts"]).parent
    with tarfile.open(output / "output.tar.gz") as archive:
        placement = json.load(archive.extractfile("placement.json"))  # as Ray placed them, asked by the driver
    assert placement["env_runners"] == {"algo-1": 1, "algo-2": 1}
    assert PortablePolicy.load(estimator.model_data).manifest["toolkit"] == "rllib"
    assert no_ray_left()


def test_a_heterogeneous_job_puts_the_learner_and_the_runners_on_their_groups(tmp_path):
    from rlops.instance_group import InstanceGroup

    estimator = RLEstimator(entry_point="ray_cartpole.py", source_dir=str(SCRIPTS), toolkit=RLToolkit.RAY,
                            output_path=str(tmp_path / "out"),
                            instance_groups=[InstanceGroup("learner", "ml.g5.xlarge", 1),
                                             InstanceGroup("rollouts", "ml.c5.4xlarge", 2)],
                            hyperparameters={"rl.training.stop.training_iteration": 2, "rl.evaluation_episodes": 1})
    estimator.fit(logs=False)
    log = job_log(estimator)
    assert "(learner on learner)" in log and "algo-3 | algo-3: the driver is done; node stopped" in log
    output = resolve_uri(estimator.model_data).parent
    with tarfile.open(output / "output.tar.gz") as archive:
        placement = json.load(archive.extractfile("placement.json"))  # asked of Ray by the driver
    assert placement["env_runners"] == {"algo-2": 1, "algo-3": 1}  # the rollout group's hosts, none on the learner's
    assert placement["learners"] == [{"host": "algo-1", "device": "cpu"}]  # no GPU on this machine
    assert no_ray_left()


def test_a_killed_host_fails_the_job_and_leaves_nothing_running(tmp_path):
    import time

    estimator = RLEstimator(entry_point="ray_cartpole.py", source_dir=str(SCRIPTS), toolkit=RLToolkit.RAY,
                            instance_count=2, output_path=str(tmp_path / "out"), stop_grace_period=5,
                            hyperparameters={"rl.training.stop.training_iteration": 500})
    estimator.fit(wait=False)
    jobs, name = Session().service.jobs, estimator.latest_training_job.name
    deadline = time.time() + 120
    while "training_iteration: 1\n" not in "".join(jobs.logs(name)) and time.time() < deadline:
        time.sleep(0.2)
    supervisor = psutil.Process(jobs.describe(name).supervisor_pid)
    algo_2 = next(p for p in supervisor.children() if p.environ().get("SM_CURRENT_HOST") == "algo-2")
    algo_2.kill()
    job = jobs.wait(name)
    assert job.status == "Failed" and "exit code -9 on algo-2" in job.failure_reason
    assert no_ray_left()
