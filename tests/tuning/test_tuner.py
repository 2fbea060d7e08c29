"""HyperparameterTuner on real jobs: each trial an rlops training job of ``tests/scripts/tunable.py``, whose score
peaks at x = 0.3, searched by Optuna in a tuner process of its own."""

from __future__ import annotations

import json
import os
import signal
import tarfile
import time

import pytest

from rlops.exceptions import NotFound, UnexpectedStatusException, UsageError
from rlops.records import JobStatus, ObjectiveStatus, TuningJobStatus
from rlops.session import Session
from rlops.storage import resolve_uri
from rlops.tuner import (
    CategoricalParameter, ContinuousParameter, HyperbandStrategyConfig, HyperparameterTuner, IntegerParameter,
    StrategyConfig, WarmStartConfig, WarmStartTypes,
)

SCORE = [{"Name": "score", "Regex": r"score=(\S+)"}]


@pytest.fixture
def tunable(estimator_factory):
    def make(**hyperparameters):
        return estimator_factory("tunable.py", hyperparameters=hyperparameters, metric_definitions=SCORE)

    return make


def received(job_name: str) -> dict:
    """The hyperparameters the job's script received (it wrote them into its model)."""
    job = Session().service.jobs.describe(job_name)
    with tarfile.open(resolve_uri(job.model_artifacts)) as archive:
        return json.load(archive.extractfile("received.json"))


@pytest.mark.slow
def test_random_search_runs_its_jobs_two_at_a_time_and_finds_the_best(tunable):
    tuner = HyperparameterTuner(tunable(steps=5), "score", {"x": ContinuousParameter(0.0, 1.0)}, strategy="Random",
                                max_jobs=4, max_parallel_jobs=2, random_seed=3)
    tuner.fit(job_name="random-tuning")
    frame = tuner.analytics().dataframe()
    assert len(frame) == 4 and set(frame["TrainingJobStatus"]) == {"Completed"}
    best = frame.loc[frame["FinalObjectiveValue"].idxmax()]
    assert tuner.best_training_job() == best["TrainingJobName"]
    assert best["FinalObjectiveValue"] == pytest.approx(100 - 1000 * (best["x"] - 0.3) ** 2, abs=1e-5)
    assert list(frame.columns[:4]) == ["x", "TrainingJobName", "TrainingJobStatus", "FinalObjectiveValue"]
    # each trial is an ordinary job, named as SageMaker names them, never more than 2 at once
    jobs = Session().service.jobs.list()
    assert sorted(j.name for j in jobs) == sorted(frame["TrainingJobName"])
    assert all(j.name.startswith("random-tuning-00") for j in jobs)
    spans = [(j.started_at, j.ended_at) for j in jobs]
    assert max(sum(s <= t < e for s, e in spans) for t, _ in spans) <= 2
    description = tuner.describe()
    assert description["HyperParameterTuningJobStatus"] == "Completed"
    assert description["TrainingJobStatusCounters"]["Completed"] == 4
    assert description["BestTrainingJob"]["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] == best["FinalObjectiveValue"]
    # the estimator's metric definitions reached the trials, and best_estimator() attaches to the best job
    assert tuner.best_estimator().latest_training_job.job_name == best["TrainingJobName"]


@pytest.mark.slow
def test_grid_runs_every_combination_once_with_exact_values(tunable):
    tiny = 0.000123456789
    tuner = HyperparameterTuner(
        tunable(steps=2, static=0.1 + 0.2), "score",
        {"x": CategoricalParameter([tiny, 0.3, 1e-300]), "net": CategoricalParameter([[64, 64], "small"])},
        strategy="Grid", max_parallel_jobs=3)
    assert tuner.max_jobs == 6
    tuner.fit(job_name="grid-tuning")
    frame = tuner.analytics().dataframe()
    tried = sorted((json.dumps(row.x), json.dumps(row.net)) for row in frame.itertuples())
    assert tried == sorted((json.dumps(x), json.dumps(n)) for x in (tiny, 0.3, 1e-300) for n in ([64, 64], "small"))
    for name in frame["TrainingJobName"]:
        got = received(name)
        assert got["static"] == 0.1 + 0.2  # exactly: 0.30000000000000004
        assert got["x"] in (tiny, 0.3, 1e-300) and type(got["x"]) is float
        assert got["net"] in ([64, 64], "small")
    assert received(frame.loc[frame["x"] == tiny, "TrainingJobName"].iloc[0])["x"] == tiny


@pytest.mark.slow
def test_sampled_floats_and_integers_arrive_exactly(tunable):
    tuner = HyperparameterTuner(tunable(steps=2), "score",
                                {"x": ContinuousParameter(1e-6, 0.99, "ReverseLogarithmic"),
                                 "lr": ContinuousParameter(1e-5, 1e-1, "Logarithmic"),
                                 "n": IntegerParameter(16, 256, "Logarithmic")},
                                strategy="Bayesian", max_jobs=2, max_parallel_jobs=2, random_seed=0)
    tuner.fit(job_name="exact-tuning")
    for row in tuner.analytics().dataframe().itertuples():
        got = received(row.TrainingJobName)
        assert (got["x"], got["lr"], got["n"]) == (row.x, row.lr, row.n)
        assert type(got["n"]) is int and 16 <= got["n"] <= 256 and 1e-6 <= got["x"] <= 0.99


@pytest.mark.slow
def test_hyperband_stops_poor_trials_early(tunable):
    # one Hyperband bracket (resources 1 and 2): from the second job on, a job whose first data point is below the
    # best first points so far is stopped; every job logs 20 points over 2 s, so the tuner sees it running
    tuner = HyperparameterTuner(tunable(steps=20, sleep=0.1), "score", {"x": ContinuousParameter(0.0, 1.0)},
                                strategy="Hyperband", max_jobs=6, max_parallel_jobs=2, random_seed=7,
                                strategy_config=StrategyConfig(HyperbandStrategyConfig(max_resource=2, min_resource=1)))
    tuner.fit(job_name="hyperband-tuning")
    frame = tuner.analytics().dataframe()
    stopped = frame[frame["EarlyStopped"]]
    assert len(frame) == 6 and len(stopped) >= 1
    assert set(stopped["TrainingJobStatus"]) == {"Stopped"}
    completed = frame[~frame["EarlyStopped"]]
    assert stopped["x"].sub(0.3).abs().min() > completed["x"].sub(0.3).abs().min()  # the poor ones went
    assert tuner.best_training_job() in set(completed["TrainingJobName"])
    log = Session().service.tuning.logs("hyperband-tuning")
    assert "early at data point" in log
    assert tuner.describe()["rlops"]["EarlyStopped"] == len(stopped)


@pytest.mark.slow
def test_a_killed_tuner_resumes_without_repeating_finished_trials(tunable):
    tuner = HyperparameterTuner(tunable(steps=8, sleep=0.1), "score", {"x": ContinuousParameter(0.0, 1.0)},
                                strategy="Random", max_jobs=4, max_parallel_jobs=1, random_seed=5)
    tuner.fit(job_name="killed-tuning", wait=False)
    service = Session().service
    deadline = time.time() + 120
    while sum(t.objective_status != ObjectiveStatus.PENDING for t in service.tuning.trials("killed-tuning")) < 2:
        assert time.time() < deadline
        time.sleep(0.2)
    before = {t.training_job_name: t.final_objective for t in service.tuning.trials("killed-tuning")
              if t.objective_status != ObjectiveStatus.PENDING}
    os.kill(service.tuning.describe("killed-tuning").supervisor_pid, signal.SIGKILL)
    tuner.wait()  # looking at the tuning job starts its tuner again
    record = service.tuning.describe("killed-tuning")
    trials = service.tuning.trials("killed-tuning")
    assert record.status == TuningJobStatus.COMPLETED and record.restarts == 1
    assert [t.trial_number for t in trials] == [1, 2, 3, 4]
    assert len({t.training_job_name for t in trials}) == 4 == len(service.jobs.list())
    assert all(t.job_status == JobStatus.COMPLETED and t.objective_status == ObjectiveStatus.SUCCEEDED for t in trials)
    assert {t.training_job_name: t.final_objective for t in trials if t.training_job_name in before} == before
    assert "started again" in service.tuning.logs("killed-tuning")


@pytest.mark.slow
def test_failed_trials_are_recorded_and_the_search_goes_on(tunable):
    tuner = HyperparameterTuner(tunable(steps=2, fail_above=0.5), "score", {"x": ContinuousParameter(0.0, 1.0)},
                                strategy="Random", max_jobs=5, max_parallel_jobs=2, random_seed=1)
    tuner.fit(job_name="partly-failing")
    frame = tuner.analytics().dataframe()
    failed = frame[frame["TrainingJobStatus"] == "Failed"]
    assert len(frame) == 5 and 1 <= len(failed) < 5 and (failed["x"] > 0.5).all()
    assert failed["FinalObjectiveValue"].isna().all()
    summaries = tuner.analytics().training_job_summaries()
    assert all("above fail_above" in s["FailureReason"] for s in summaries if s["TrainingJobStatus"] == "Failed")
    assert tuner.describe()["ObjectiveStatusCounters"] == {"Pending": 0, "Succeeded": 5 - len(failed),
                                                           "Failed": len(failed)}


@pytest.mark.slow
def test_the_tuning_job_fails_only_when_every_trial_failed(tunable):
    tuner = HyperparameterTuner(tunable(steps=2, fail_above=-1), "score", {"x": ContinuousParameter(0.0, 1.0)},
                                strategy="Random", max_jobs=2, max_parallel_jobs=2)
    with pytest.raises(UnexpectedStatusException, match="every training job .* failed.*above fail_above"):
        tuner.fit(job_name="all-failing")
    assert Session().service.tuning.describe("all-failing").status == TuningJobStatus.FAILED


@pytest.mark.slow
def test_stop_ends_the_search_and_its_running_jobs(tunable):
    tuner = HyperparameterTuner(tunable(steps=200, sleep=0.1), "score", {"x": ContinuousParameter(0.0, 1.0)},
                                strategy="Random", max_jobs=3, max_parallel_jobs=1)
    tuner.fit(job_name="stopped-tuning", wait=False)
    service = Session().service
    deadline = time.time() + 60
    while not service.tuning.trials("stopped-tuning"):
        assert time.time() < deadline
        time.sleep(0.1)
    tuner.stop_tuning_job()
    tuner.wait()
    assert service.tuning.describe("stopped-tuning").status == TuningJobStatus.STOPPED
    assert [j.status for j in service.jobs.list()] == [JobStatus.STOPPED]


@pytest.mark.slow
def test_attach_and_warm_start_from_a_finished_tuning_job(tunable, rlops_home):
    from tests.conftest import run_python

    first = HyperparameterTuner(tunable(steps=2), "score", {"x": ContinuousParameter(0.0, 1.0)}, strategy="Random",
                                max_jobs=3, max_parallel_jobs=3, random_seed=2)
    first.fit(job_name="parent-tuning")
    code = ("from rlops.tuner import HyperparameterTuner\n"
            "t = HyperparameterTuner.attach('parent-tuning')\n"
            "print(t.best_training_job(), t.objective_metric_name, type(t.estimator).__name__, t.max_jobs)")
    out = run_python(code, rlops_home).stdout.split()
    assert out == [first.best_training_job(), "score", "RLEstimator", "3"]
    second = first.identical_dataset_and_algorithm_tuner()
    assert second.warm_start_config.type == WarmStartTypes.IDENTICAL_DATA_AND_ALGORITHM
    second.max_jobs, second.max_parallel_jobs = 1, 1
    second.fit(job_name="child-tuning")
    assert "3 finished training jobs of parent-tuning given to the search" in Session().service.tuning.logs("child-tuning")
    assert second.describe()["WarmStartConfig"] == {"WarmStartType": "IdenticalDataAndAlgorithm",
                                                    "ParentHyperParameterTuningJobs": ["parent-tuning"]}


BAD = [
    (dict(hyperparameter_ranges={"x": ContinuousParameter(2.0, 1.0)}), r"'x'.*min_value 2.0 is above max_value 1.0"),
    (dict(hyperparameter_ranges={"x": ContinuousParameter(0.0, 1.0, "Logarithmic")}),
     r"'x'.*Logarithmic scaling needs values above zero; min_value is 0.0"),
    (dict(hyperparameter_ranges={"n": IntegerParameter(-4, 8, "Logarithmic")}), r"'n'.*above zero"),
    (dict(hyperparameter_ranges={"x": ContinuousParameter(0.5, 1.0, "ReverseLogarithmic")}),
     r"'x'.*max_value < 1"),
    (dict(hyperparameter_ranges={"x": ContinuousParameter(0, 1, "Loggy")}), r"unknown scaling_type 'Loggy'"),
    (dict(objective_metric_name="reward"), r"objective metric 'reward' is not named by any metric definition.*score"),
    (dict(hyperparameter_ranges={"steps": IntegerParameter(1, 3)}),
     r"'steps' is in hyperparameter_ranges and also fixed on the estimator"),
    (dict(max_jobs=2, max_parallel_jobs=3), r"max_parallel_jobs \(3\) is above max_jobs \(2\)"),
    (dict(strategy="Grid"), r"Grid.*categorical values only.*'x' is a ContinuousParameter"),
    (dict(strategy="Grid", hyperparameter_ranges={"x": CategoricalParameter([1, 2])}, max_jobs=5),
     r"one job per combination: 2 here; max_jobs is 5"),
    (dict(strategy="Bayes"), r"Unknown strategy 'Bayes'.*Did you mean 'Bayesian'"),
    (dict(strategy="Hyperband", early_stopping_type="Auto"), r"early_stopping_type must be 'Off'"),
    (dict(hyperparameter_ranges={"a.__class__": CategoricalParameter([1])}), r"'__class__'"),
    (dict(warm_start_config=WarmStartConfig("TransferLearning", ["ghost"])), r"No tuning job named 'ghost'"),
]


@pytest.mark.parametrize("change, message", BAD, ids=[m[:30] for _, m in BAD])
def test_bad_input_is_refused_before_any_job_starts(tunable, change, message):
    arguments = dict(objective_metric_name="score", hyperparameter_ranges={"x": ContinuousParameter(0.0, 1.0)},
                     max_jobs=4, max_parallel_jobs=2)
    arguments.update(change)
    with pytest.raises((UsageError, NotFound), match=message):
        HyperparameterTuner(tunable(steps=2), **arguments).fit()
    service = Session().service
    assert service.tuning.list() == [] and service.jobs.list() == []


def test_a_tuned_key_the_preset_cannot_take_is_refused_before_any_job(estimator_factory):
    from rlops.rl import RLEstimator

    estimator = RLEstimator(toolkit="sb3", hyperparameters={"preset": "cartpole-ppo"})
    with pytest.raises(UsageError, match="no_such_setting"):
        HyperparameterTuner(estimator, "reward-evaluation",
                            {"rl.algorithm.hyperparameters.no_such_setting": ContinuousParameter(0.0, 1.0)})
    assert Session().service.tuning.list() == []


@pytest.mark.slow
def test_median_rule_stops_jobs_below_the_median_of_earlier_ones(tunable):
    # the running average of tunable.py's points is proportional to its quality at every step, so a job is stopped
    # exactly when its quality is below the median of the jobs that completed before it (after 3 of them)
    tuner = HyperparameterTuner(tunable(steps=30, sleep=0.1), "score", {"x": ContinuousParameter(0.0, 1.0)},
                                strategy="Bayesian", early_stopping_type="Auto", max_jobs=6, max_parallel_jobs=1,
                                random_seed=11)
    tuner.fit(job_name="median-tuning")
    frame = tuner.analytics().dataframe()
    quality = 100 - 1000 * (frame["x"] - 0.3) ** 2
    stopped = frame.index[frame["EarlyStopped"]]
    assert len(stopped) >= 1 and min(stopped) >= 3  # the first 3 jobs are never stopped
    for i in stopped:
        earlier = quality[:i][~frame["EarlyStopped"][:i]]
        assert quality[i] < earlier.median()
    assert set(frame.loc[stopped, "TrainingJobStatus"]) == {"Stopped"}


@pytest.mark.slow
def test_the_tuning_job_outlives_the_process_that_started_it(tunable, rlops_home):
    from tests.conftest import run_python

    code = (f"from rlops.rl import RLEstimator\n"
            f"from rlops.tuner import HyperparameterTuner, IntegerParameter\n"
            f"e = RLEstimator(entry_point='tunable.py', source_dir={str(tunable(steps=1).source_dir)!r}, toolkit='sb3',"
            f" hyperparameters={{'steps': 10, 'sleep': 0.1}}, metric_definitions={SCORE!r})\n"
            f"HyperparameterTuner(e, 'score', {{'x': IntegerParameter(0, 1)}}, strategy='Random', max_jobs=2)"
            f".fit(job_name='orphan-tuning', wait=False)\n")
    run_python(code, rlops_home)  # the notebook closes as soon as the tuning job has started
    tuner = HyperparameterTuner.attach("orphan-tuning")
    assert Session().service.tuning.describe("orphan-tuning").status == TuningJobStatus.IN_PROGRESS
    tuner.wait()
    assert tuner.describe()["HyperParameterTuningJobStatus"] == "Completed"
    assert len(tuner.analytics().dataframe()) == 2
