"""SageMaker RL's Coach workflow, unchanged: train-coach.py + preset + the shipped sagemaker_rl launcher,
then evaluate-coach.py from the checkpoint, on rlops's translation to Stable-Baselines3."""

from __future__ import annotations

import csv
import re
import tarfile
from pathlib import Path

import pytest

from rlops.exceptions import UnexpectedStatusException
from rlops.policies import PortablePolicy
from rlops.rl import RLEstimator, RLFramework, RLToolkit
from rlops.session import Session
from rlops.storage import resolve_uri
from tests.conftest import SCRIPTS

pytestmark = pytest.mark.slow
EXAMPLE = Path(__file__).parents[2] / "examples" / "rl_cartpole_coach"  # the SageMaker-style notebook's files
SOURCE = EXAMPLE / "src"
COACH_CSV = "worker_0.simple_rl_graph.main_level.main_level.agent_0.csv"  # SPEC section 7
SUMMARY = re.compile(r"^Evaluation summary> episodes=(\d+), mean return=(\S+),", re.M)


def coach_estimator(tmp_path, entry_point="train-coach.py", extra=(), **hyperparameters):
    # the notebook's cell, with `sagemaker` changed to `rlops`
    return RLEstimator(entry_point=entry_point, source_dir=str(SOURCE),
                       dependencies=[str(EXAMPLE / "common/sagemaker_rl"), *map(str, extra)],
                       toolkit=RLToolkit.COACH, toolkit_version="0.11.0", framework=RLFramework.MXNET,
                       instance_type="local", instance_count=1, output_path=str(tmp_path / "out"),
                       base_job_name="rl-cart-pole", hyperparameters=hyperparameters)


def job_log(estimator) -> str:
    return "".join(Session().service.jobs.logs(estimator.latest_training_job.name))


def test_a_coach_notebook_trains_and_evaluates_unchanged(tmp_path):
    estimator = coach_estimator(tmp_path, **{
        "RLCOACH_PRESET": "preset-cartpole-clippedppo", "rl.agent_params.algorithm.discount": 0.98,
        "rl.evaluation_steps:EnvironmentEpisodes": 5, "improve_steps": 40000, "save_model": 1})
    estimator.fit(logs=False)
    log = job_log(estimator)
    assert "RLToolkit.COACH (toolkit_version 0.11.0, framework mxnet) runs on the Stable-Baselines3 toolkit" in log
    assert ("Coach preset translated: agent ClippedPPOAgentParameters runs as Stable-Baselines3 PPO on CartPole-v0 "
            "for 40000 steps") in log
    assert "exploration=EGreedyParameters: not used by PPO" in log  # reported once, with what was done
    assert "Applying RL hyperparameter rl.improve_steps:TrainingSteps=40000" in log
    returns = [float(m[1]) for m in SUMMARY.findall(log)]
    assert returns[-1] >= 150  # the preset's own validation threshold (CartPole-v0 caps episodes at 200)

    output = resolve_uri(estimator.model_data).parent
    rows = list(csv.DictReader(open(output / "intermediate" / COACH_CSV)))  # what the notebook plots
    training = [r for r in rows if r["Training Reward"]]
    assert len(training) > 100 and {"Episode #", "Total steps", "Evaluation Reward"} <= set(rows[0])
    assert any(r["Evaluation Reward"] for r in rows)
    gifs = sorted((output / "intermediate" / "gifs").glob("*.gif"))  # the preset's vis_params.dump_gifs
    assert gifs and all(re.match(r".*episode-(\d*)_.*", g.name) for g in gifs) and gifs[0].read_bytes()[:6] == b"GIF89a"
    with tarfile.open(output / "output.tar.gz") as archive:  # Coach's checkpoint folder, inside output.tar.gz
        names = archive.getnames()
        assert "checkpoint/latest.json" in names
        archive.extractall(tmp_path / "output", filter="data")
    assert PortablePolicy.load(estimator.model_data).manifest["algorithm"] == "PPO"
    predictor = estimator.deploy(initial_instance_count=1, instance_type="local", entry_point="deploy-mxnet-coach.py")
    value, action = predictor.predict([0.0, 0.0, 2.0, 2.0])  # the notebook's cell: Coach-MXNet's answer shape
    assert len(value) == 1 and len(action) == 2 and abs(sum(action) - 1) < 1e-5 and action[1] > action[0]
    predictor.delete_endpoint()

    evaluation = coach_estimator(tmp_path, entry_point="evaluate-coach.py", RLCOACH_PRESET="preset-cartpole-clippedppo",
                                 evaluate_steps=600)
    evaluation.fit({"checkpoint": (tmp_path / "output" / "checkpoint").as_uri()}, logs=False)
    log = job_log(evaluation)
    assert "Evaluating PPO policy from" in log and re.search(r"^Testing> .*Total reward=", log, re.M)
    assert not re.search(r"^Training> ", log, re.M)  # evaluation trains nothing


def test_an_agent_rlops_cannot_translate_fails_before_training(tmp_path):
    estimator = coach_estimator(tmp_path, extra=[SCRIPTS / "coach" / "preset-cartpole-pg.py"],
                                RLCOACH_PRESET="preset-cartpole-pg")
    with pytest.raises(UnexpectedStatusException):
        estimator.fit(logs=False)
    job = Session().service.jobs.describe(estimator.latest_training_job.name)
    assert "The Coach agent PolicyGradientsAgentParameters has no translation in rlops" in job.failure_reason
    assert "ClippedPPOAgentParameters (as PPO)" in job.failure_reason
    assert "Training>" not in job_log(estimator)


def test_a_dueling_dqn_preset_is_translated_with_the_difference_reported():
    # Coach's Dueling DQN is a DQN agent with a dueling head: SB3 has none, so the note says what was done
    from rlops.toolkits.coach.agents import DQNAgentParameters
    from rlops.toolkits.coach.graph import BasicRLGraphManager, GymVectorEnvironment, SimpleSchedule
    from rlops.toolkits.coach.params import DuelingQHeadParameters
    from rlops.toolkits.coach.translate import translate

    agent = DQNAgentParameters()
    agent.network_wrappers["main"].heads_parameters = [DuelingQHeadParameters()]
    graph = BasicRLGraphManager(agent_params=agent, env_params=GymVectorEnvironment(level="CartPole-v1"),
                                schedule_params=SimpleSchedule())
    preset, notes = translate(graph)
    assert preset["algorithm"]["name"] == "DQN"
    assert [n for n in notes if "DuelingQHeadParameters()" in n and "plain Q head" in n]
