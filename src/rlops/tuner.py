"""``HyperparameterTuner``: SageMaker's automatic model tuning on rlops jobs, with Optuna's search underneath.

A notebook's tuning cell ports by changing ``sagemaker.tuner`` to ``rlops.tuner``::

    from rlops.tuner import HyperparameterTuner, ContinuousParameter, IntegerParameter

    tuner = HyperparameterTuner(estimator, objective_metric_name="reward-evaluation",
                                hyperparameter_ranges={"learning_rate": ContinuousParameter(1e-4, 1e-2, "Logarithmic"),
                                                       "rl.algorithm.hyperparameters.n_steps": IntegerParameter(16, 128)},
                                strategy="Bayesian", max_jobs=12, max_parallel_jobs=2)
    tuner.fit()
    tuner.analytics().dataframe()

Each trial is an ordinary training job (``rlops jobs list`` shows it); the tuning job runs in a process of
its own and is recorded in the store, so it survives the notebook, and ``HyperparameterTuner.attach(name)``
finds it from anywhere. Unlike SageMaker's tuner, it inherits the estimator's metric definitions, passes
every value with full precision and its JSON type, and its early stopping is Optuna's median rule
(``early_stopping_type="Auto"``) or Hyperband (``strategy="Hyperband"``), both documented.
"""

from __future__ import annotations

import copy
import enum
import importlib
import math
import sys
import time
from typing import Any, Iterable

from rlops.contract import encode_hyperparameters
from rlops.exceptions import UnexpectedStatusException, UsageError, did_you_mean
from rlops.records import TuningJobStatus
from rlops.runtime.metrics import compile_definitions
from rlops.runtime.spec import TuningSpec
from rlops.parameter import (
    RANGE_KEYS, CategoricalParameter, ContinuousParameter, IntegerParameter, ParameterRange, range_from_api,
)
from rlops.session import Session

STRATEGIES = ("Bayesian", "Random", "Grid", "Hyperband")
OBJECTIVE_TYPES = ("Maximize", "Minimize")
EARLY_STOPPING_TYPES = ("Off", "Auto")
#: SageMaker's limits: tuning job names, parent tuning jobs of a warm start.
MAX_TUNING_NAME = 32
MAX_PARENTS = 5
WAIT_POLL_S = 0.5


# -- warm start and strategy settings ---------------------------------------------------------------


class WarmStartTypes(enum.Enum):
    IDENTICAL_DATA_AND_ALGORITHM = "IdenticalDataAndAlgorithm"
    TRANSFER_LEARNING = "TransferLearning"


class WarmStartConfig:
    """Start a tuning job from what earlier ones (``parents``, at most 5) learnt: their finished trials are given to
    the search first. ``IdenticalDataAndAlgorithm`` takes trials that tried every tuned hyperparameter;
    ``TransferLearning`` also those that tried some of them. Trials outside this job's ranges are left out."""

    def __init__(self, warm_start_type: WarmStartTypes | str, parents: Iterable[str]):
        types = [t.value for t in WarmStartTypes]
        value = warm_start_type.value if isinstance(warm_start_type, WarmStartTypes) else warm_start_type
        if value not in types:
            raise UsageError(f"Unknown warm_start_type {warm_start_type!r}; accepted: {', '.join(types)}.")
        self.type = WarmStartTypes(value)
        self.parents = set([parents] if isinstance(parents, str) else parents)

    def to_input_req(self) -> dict[str, Any]:
        return {"WarmStartType": self.type.value, "ParentHyperParameterTuningJobs": sorted(self.parents)}

    @classmethod
    def from_job_desc(cls, config: dict[str, Any] | None) -> "WarmStartConfig | None":
        return cls(config["WarmStartType"], config["ParentHyperParameterTuningJobs"]) if config else None


class HyperbandStrategyConfig:
    """Hyperband's resources: a job's nth data point of the objective metric is resource n. ``min_resource``: the
    fewest a job gets before it may be stopped; ``max_resource``: the most (default: what the first finished
    job logged)."""

    def __init__(self, max_resource: int | None = None, min_resource: int | None = None):
        self.max_resource = max_resource
        self.min_resource = min_resource


class StrategyConfig:
    def __init__(self, hyperband_strategy_config: HyperbandStrategyConfig):
        self.hyperband_strategy_config = hyperband_strategy_config


# -- the tuner ----------------------------------------------------------------------------------


def tuning_job_name(base: str) -> str:
    """``<base>-<yymmdd-hhmmss>-<ms>``, cut to SageMaker's 32 characters for tuning job names."""
    now = time.time()
    stamp = time.strftime("%y%m%d-%H%M%S", time.localtime(now)) + f"-{int(now * 1000) % 1000:03d}"
    return f"{base[:MAX_TUNING_NAME - len(stamp) - 1].rstrip('-')}-{stamp}"


class _TuningJob:
    """``tuner.latest_tuning_job``: ``name``, ``describe()``, ``wait()``, ``stop()``."""

    def __init__(self, sagemaker_session: Session, name: str):
        self.sagemaker_session = sagemaker_session
        self.name = name

    def describe(self) -> dict[str, Any]:
        from rlops.analytics import describe_tuning_job

        return describe_tuning_job(self.sagemaker_session.service, self.name)

    def wait(self) -> None:
        wait_for_tuning_job(self.sagemaker_session.service, self.name)

    def stop(self) -> None:
        self.sagemaker_session.service.tuning.stop(self.name)

    def __repr__(self) -> str:
        return f"HyperparameterTuningJob({self.name!r})"


class HyperparameterTuner:
    """Search an estimator's hyperparameters with a number of training jobs (SageMaker's ``HyperparameterTuner``).

    ``objective_metric_name`` must be named by a metric definition: the tuner's ``metric_definitions``, else the
    estimator's (an ``RLEstimator`` has its toolkit's: ``reward-training``, ``reward-evaluation``, ...). A job's
    objective is its metric's last data point. ``strategy``: ``Bayesian`` (Optuna's TPE), ``Random``, ``Grid``
    (every combination of categorical values) or ``Hyperband`` (TPE with Optuna's Hyperband pruner, comparing
    jobs' latest values);
    ``early_stopping_type="Auto"`` stops a job whose running average falls below the median of earlier jobs' at
    the same data point (SageMaker's rule).
    """

    def __init__(self, estimator, objective_metric_name: str, hyperparameter_ranges: dict[str, ParameterRange],
                 metric_definitions: list[dict[str, str]] | None = None, strategy: str = "Bayesian",
                 objective_type: str = "Maximize", max_jobs: int | None = None, max_parallel_jobs: int = 1,
                 max_runtime_in_seconds: int | None = None, tags: Any = None, base_tuning_job_name: str | None = None,
                 warm_start_config: WarmStartConfig | None = None, strategy_config: StrategyConfig | None = None,
                 completion_criteria_config: Any = None, early_stopping_type: str = "Off",
                 estimator_name: str | None = None, random_seed: int | None = None, autotune: bool = False,
                 hyperparameters_to_keep_static: list[str] | None = None):
        self.estimator = estimator
        self.objective_metric_name = objective_metric_name
        self._hyperparameter_ranges = (dict(hyperparameter_ranges) if isinstance(hyperparameter_ranges, dict)
                                       else hyperparameter_ranges)
        self.metric_definitions = metric_definitions
        self.strategy = strategy
        self.objective_type = objective_type
        self.max_jobs = max_jobs
        self.max_parallel_jobs = max_parallel_jobs
        self.max_runtime_in_seconds = max_runtime_in_seconds
        self.tags = tags
        self.base_tuning_job_name = base_tuning_job_name
        self.warm_start_config = warm_start_config
        self.strategy_config = strategy_config
        self.completion_criteria_config = completion_criteria_config
        self.early_stopping_type = early_stopping_type
        self.random_seed = random_seed
        if autotune:
            raise UsageError("autotune=True (SageMaker choosing the ranges itself) is not available in rlops; give "
                             "hyperparameter_ranges.")
        self.latest_tuning_job: _TuningJob | None = None
        self._current_job_name: str | None = None
        if estimator is not None:
            self.sagemaker_session = estimator.sagemaker_session
            self._validate()
        else:
            self.sagemaker_session = Session()

    # -- validation ---------------------------------------------------------------------------

    def _validate(self) -> None:
        """Every rule SageMaker's CreateHyperParameterTuningJob checks, before any job starts."""
        from rlops.estimator import Framework

        if not isinstance(self.estimator, Framework):
            raise UsageError(f"HyperparameterTuner tunes an rlops estimator (RLEstimator, ...); got "
                             f"{type(self.estimator).__name__}.")
        for value, allowed, what in ((self.strategy, STRATEGIES, "strategy"),
                                     (self.objective_type, OBJECTIVE_TYPES, "objective_type"),
                                     (self.early_stopping_type, EARLY_STOPPING_TYPES, "early_stopping_type")):
            if value not in allowed:
                raise UsageError(f"Unknown {what} {value!r}; accepted: {', '.join(allowed)}.{did_you_mean(value, allowed)}")
        if self.strategy == "Hyperband" and self.early_stopping_type != "Off":
            raise UsageError("strategy='Hyperband' stops jobs early by itself; early_stopping_type must be 'Off' with it "
                             f"(got {self.early_stopping_type!r}), as in SageMaker.")
        if not isinstance(self._hyperparameter_ranges, dict) or not self._hyperparameter_ranges:
            raise UsageError("hyperparameter_ranges maps hyperparameter names to ContinuousParameter, IntegerParameter "
                             f"or CategoricalParameter ranges; got {self._hyperparameter_ranges!r}.")
        for name, value in self._hyperparameter_ranges.items():
            encode_hyperparameters({name: None})  # the name's own rules (no '__' on a dotted path)
            if not isinstance(value, ParameterRange):
                raise UsageError(f"hyperparameter_ranges[{name!r}] is {value!r}; a range is a ContinuousParameter, "
                                 "IntegerParameter or CategoricalParameter.")
            value.check(name)
        fixed = sorted(set(self._hyperparameter_ranges) & set(self.estimator._hyperparameters))
        if fixed:
            raise UsageError(f"The hyperparameter {fixed[0]!r} is in hyperparameter_ranges and also fixed on the "
                             f"estimator (= {self.estimator._hyperparameters[fixed[0]]!r}); a hyperparameter is either "
                             "tuned or static. Remove it from the estimator's hyperparameters.")
        self._check_counts()
        definitions = self._metric_definitions()
        names = [d["Name"] for d in definitions]
        if self.objective_metric_name not in names:
            raise UsageError(
                f"The objective metric {self.objective_metric_name!r} is not named by any metric definition (the "
                f"tuner's metric_definitions, else the estimator's). Defined: {', '.join(names) or 'none'}."
                f"{did_you_mean(self.objective_metric_name, names)} Add {{'Name': "
                f"'{self.objective_metric_name}', 'Regex': ...}} to metric_definitions.")
        if self.random_seed is not None and (not isinstance(self.random_seed, int) or isinstance(self.random_seed, bool)):
            raise UsageError(f"random_seed is an integer; got {self.random_seed!r}.")
        runtime = self.max_runtime_in_seconds
        if runtime is not None and (not isinstance(runtime, (int, float)) or isinstance(runtime, bool) or runtime <= 0):
            raise UsageError(f"max_runtime_in_seconds is a positive number of seconds; got {runtime!r}.")
        self._hyperband()
        self._check_warm_start()
        self._check_estimator()

    def _check_counts(self) -> None:
        ranges = self._hyperparameter_ranges
        if self.strategy == "Grid":
            continuous = [n for n, r in ranges.items() if not isinstance(r, CategoricalParameter)]
            if continuous:
                raise UsageError(f"strategy='Grid' searches categorical values only, as SageMaker's does; "
                                 f"{continuous[0]!r} is a {type(ranges[continuous[0]]).__name__}. Give it as a "
                                 "CategoricalParameter (e.g. CategoricalParameter([16, 32, 64])), or use another strategy.")
            combinations = math.prod(len(r.values) for r in ranges.values())
            if self.max_jobs is not None and self.max_jobs != combinations:
                raise UsageError(f"strategy='Grid' runs one job per combination: {combinations} here; max_jobs is "
                                 f"{self.max_jobs!r}. Leave max_jobs out (or set it to {combinations}).")
            self.max_jobs = combinations
        elif self.max_jobs is None:
            self.max_jobs = 1  # SageMaker's default
        for value, what in ((self.max_jobs, "max_jobs"), (self.max_parallel_jobs, "max_parallel_jobs")):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise UsageError(f"{what} is a positive integer; got {value!r}.")
        if self.max_parallel_jobs > self.max_jobs:
            raise UsageError(f"max_parallel_jobs ({self.max_parallel_jobs}) is above max_jobs ({self.max_jobs}); the rule "
                             "is max_parallel_jobs <= max_jobs.")

    def _metric_definitions(self) -> list[dict[str, str]]:
        """The estimator's metric definitions, with the tuner's added (the tuner's win on a name)."""
        own = list(self.metric_definitions or [])
        compile_definitions(own)
        names = {d["Name"] for d in own}
        return [d for d in self.estimator._metric_definitions() if d["Name"] not in names] + own

    def _hyperband(self) -> tuple[int, int | None]:
        config = self.strategy_config.hyperband_strategy_config if self.strategy_config else None
        low = getattr(config, "min_resource", None) or 1
        high = getattr(config, "max_resource", None)
        for value, what in ((low, "min_resource"), (high, "max_resource")):
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
                raise UsageError(f"HyperbandStrategyConfig {what} is a positive integer (data points); got {value!r}.")
        if high is not None and high < low:
            raise UsageError(f"HyperbandStrategyConfig max_resource ({high}) is below min_resource ({low}).")
        return low, high

    def _check_warm_start(self) -> None:
        config = self.warm_start_config
        if config is None:
            return
        if not isinstance(config, WarmStartConfig):
            raise UsageError(f"warm_start_config is a WarmStartConfig; got {config!r}.")
        if not 1 <= len(config.parents) <= MAX_PARENTS:
            raise UsageError(f"A warm start names 1 to {MAX_PARENTS} parent tuning jobs; got {len(config.parents)}.")
        for parent in sorted(config.parents):
            record = self.sagemaker_session.service.tuning.describe(parent)  # NotFound names it
            if not record.is_terminal:
                raise UsageError(f"The parent tuning job {parent!r} is {record.status}; a warm start needs parents that "
                                 "have ended (wait for it, or stop it).")

    def _check_estimator(self) -> None:
        """Check the estimator with a value of each range (its lower end) so that a tuned key the job cannot take
        fails here, not in every trial."""
        saved = self.estimator._hyperparameters
        sample = {name: (r.values[0] if isinstance(r, CategoricalParameter) else r.min_value)
                  for name, r in self._hyperparameter_ranges.items()}
        self.estimator._hyperparameters = {**saved, **sample}
        try:
            self.estimator._validate_settings()
        finally:
            self.estimator._hyperparameters = saved

    # -- SageMaker's surface ------------------------------------------------------------------

    def hyperparameter_ranges(self) -> dict[str, list[dict[str, Any]]]:
        """The ranges in SageMaker's API form (``ContinuousParameterRanges``, ...)."""
        result: dict[str, list[dict[str, Any]]] = {key: [] for key in RANGE_KEYS.values()}
        for name, r in self._hyperparameter_ranges.items():
            result[RANGE_KEYS[r.kind]].append(r.as_tuning_range(name))
        return result

    def fit(self, inputs: Any = None, job_name: str | None = None, include_cls_metadata: bool = False,
            estimator_kwargs: Any = None, wait: bool = True, **_unused: Any) -> None:
        """Start the tuning job; with ``wait``, show its progress until it ends (and raise if it failed)."""
        from rlops.contract import validate_name
        from rlops.exceptions import AlreadyExists

        if job_name is not None:
            self._check_name(validate_name(job_name, "tuning job"))
        service = self.sagemaker_session.service
        for attempt in range(5):
            name = job_name or tuning_job_name(self.base_tuning_job_name or self.estimator.base_job_name
                                               or self.estimator._default_base_name)
            try:
                service.tuning.create(self._spec(name, inputs))
                break
            except AlreadyExists:
                if job_name is not None or attempt == 4:
                    raise
                time.sleep(0.002)
        self._current_job_name = name
        self.latest_tuning_job = _TuningJob(self.sagemaker_session, name)
        if wait:
            self.wait()

    @staticmethod
    def _check_name(name: str) -> None:
        if len(name) > MAX_TUNING_NAME:
            raise UsageError(f"Invalid tuning job name {name!r}: at most {MAX_TUNING_NAME} characters (SageMaker's "
                             "limit, leaving room for the trial numbers of its training jobs).")

    def _spec(self, name: str, inputs: Any) -> TuningSpec:
        self._check_name(name)
        job = self.estimator._job_spec(inputs, None)
        job.metric_definitions = self._metric_definitions()
        low, high = self._hyperband()
        estimator_class = type(self.estimator)
        return TuningSpec(
            name=name, job=job.to_dict(), objective_metric=self.objective_metric_name,
            objective_type=self.objective_type, parameter_ranges=self.hyperparameter_ranges(), strategy=self.strategy,
            max_jobs=self.max_jobs, max_parallel_jobs=self.max_parallel_jobs, early_stopping_type=self.early_stopping_type,
            random_seed=self.random_seed, min_resource=low, max_resource=high,
            warm_start=self.warm_start_config.to_input_req() if self.warm_start_config else None,
            max_runtime=self.max_runtime_in_seconds, estimator_class=f"{estimator_class.__module__}:{estimator_class.__qualname__}",
        )

    def _require_job(self) -> _TuningJob:
        if self.latest_tuning_job is None:
            raise UsageError("This tuner has not started a tuning job yet: call fit() first, or attach() to one.")
        return self.latest_tuning_job

    def wait(self) -> None:
        """Block until the tuning job ends, showing trials done and the best objective so far."""
        self._require_job().wait()

    def stop_tuning_job(self) -> None:
        """Stop the search and its running training jobs; returns at once (``wait()`` to see it end)."""
        self._require_job().stop()

    stop = stop_tuning_job

    def describe(self) -> dict[str, Any]:
        """SageMaker's ``DescribeHyperParameterTuningJob`` answer."""
        return self._require_job().describe()

    def best_training_job(self) -> str:
        """The name of the training job with the best final objective."""
        best = self.describe().get("BestTrainingJob")
        if not best:
            raise UsageError(f"Best training job not available for tuning job {self._require_job().name}: no training job "
                             "has given an objective value yet.")
        return best["TrainingJobName"]

    def best_estimator(self, best_training_job: str | None = None):
        """An estimator attached to the best training job (or to ``best_training_job``)."""
        estimator_class = type(self.estimator) if self.estimator is not None else _estimator_class(
            TuningSpec.from_dict(self.sagemaker_session.service.tuning.describe(self._require_job().name).spec))
        return estimator_class.attach(best_training_job or self.best_training_job(),
                                      sagemaker_session=self.sagemaker_session)

    def deploy(self, initial_instance_count: int = 1, instance_type: str = "local", endpoint_name: str | None = None,
               wait: bool = True, **kwargs: Any):
        """Serve the best training job's policy; returns a :class:`rlops.predictor.Predictor`."""
        best = self.best_training_job()
        return self.best_estimator(best).deploy(initial_instance_count, instance_type, endpoint_name or best,
                                                wait=wait, **kwargs)

    def analytics(self):
        """A :class:`rlops.analytics.HyperparameterTuningJobAnalytics` of the latest tuning job."""
        from rlops.analytics import HyperparameterTuningJobAnalytics

        return HyperparameterTuningJobAnalytics(self._require_job().name, sagemaker_session=self.sagemaker_session)

    def transfer_learning_tuner(self, additional_parents: Iterable[str] | None = None, estimator=None):
        """A new tuner like this one, warm-started from this tuning job (``TransferLearning``)."""
        return self._warm_started(WarmStartTypes.TRANSFER_LEARNING, additional_parents, estimator)

    def identical_dataset_and_algorithm_tuner(self, additional_parents: Iterable[str] | None = None):
        """A new tuner like this one, warm-started from this tuning job (``IdenticalDataAndAlgorithm``)."""
        return self._warm_started(WarmStartTypes.IDENTICAL_DATA_AND_ALGORITHM, additional_parents, None)

    def _warm_started(self, kind: WarmStartTypes, additional_parents, estimator):
        parents = {self._require_job().name, *(additional_parents or [])}
        tuner = copy.copy(self)
        tuner.estimator = estimator or self.estimator
        tuner.warm_start_config = WarmStartConfig(kind, parents)
        tuner.latest_tuning_job = None
        tuner._validate()
        return tuner

    @classmethod
    def attach(cls, tuning_job_name: str, sagemaker_session: Session | None = None, job_details: Any = None,
               estimator_cls: Any = None) -> "HyperparameterTuner":
        """The tuner of an existing tuning job, from any process (it does not wait for the job)."""
        session = sagemaker_session or Session()
        spec = TuningSpec.from_dict(session.service.tuning.describe(tuning_job_name).spec)
        if isinstance(estimator_cls, str):  # "module.Class", as SageMaker's job details name it, or "module:Class"
            estimator_cls = _import(estimator_cls if ":" in estimator_cls else ":".join(estimator_cls.rsplit(".", 1)))
        estimator = (estimator_cls or _estimator_class(spec))._from_spec(spec.job_spec(), session)
        tuner = cls.__new__(cls)
        ranges = {r["Name"]: range_from_api(kind, r) for kind, key in RANGE_KEYS.items()
                  for r in spec.parameter_ranges.get(key, [])}
        hyperband = StrategyConfig(HyperbandStrategyConfig(spec.max_resource, spec.min_resource))
        tuner.__init__(None, spec.objective_metric, ranges, strategy=spec.strategy, objective_type=spec.objective_type,
                       max_jobs=spec.max_jobs, max_parallel_jobs=spec.max_parallel_jobs,
                       warm_start_config=WarmStartConfig.from_job_desc(spec.warm_start),
                       strategy_config=hyperband if spec.strategy == "Hyperband" else None,
                       early_stopping_type=spec.early_stopping_type, random_seed=spec.random_seed,
                       max_runtime_in_seconds=spec.max_runtime)
        tuner.estimator = estimator
        tuner.sagemaker_session = session
        tuner._current_job_name = tuning_job_name
        tuner.latest_tuning_job = _TuningJob(session, tuning_job_name)
        return tuner


def _import(path: str):
    module, _, name = path.partition(":")
    target = importlib.import_module(module)
    for part in name.split("."):
        target = getattr(target, part)
    return target


def _estimator_class(spec: TuningSpec):
    if spec.estimator_class:
        try:
            return _import(spec.estimator_class)
        except (ImportError, AttributeError):
            pass
    from rlops.rl import RLEstimator

    return RLEstimator


def wait_for_tuning_job(service, name: str, out=None) -> None:
    """Follow a tuning job until it ends: on a terminal, a progress bar of training jobs ended and the best objective
    so far. Raises :class:`UnexpectedStatusException` when it failed (SageMaker's behaviour)."""
    from tqdm import tqdm

    from rlops.records import ObjectiveStatus, best_trial

    record = service.tuning.describe(name)
    spec = TuningSpec.from_dict(record.spec)
    stream = out or sys.stderr
    bar = tqdm(total=spec.max_jobs, unit="job", desc=name, file=stream, disable=out is None and not stream.isatty())
    try:
        while True:
            trials = service.tuning.trials(name)
            ended = sum(t.objective_status != ObjectiveStatus.PENDING for t in trials)
            bar.update(ended - bar.n)
            best = best_trial(trials, spec.objective_type == "Maximize")
            bar.set_postfix_str(f"running {len(trials) - ended}"
                                + (f", best {spec.objective_metric} {best.final_objective:.6g}" if best else ""),
                                refresh=False)
            if record.is_terminal:
                break
            time.sleep(WAIT_POLL_S)
            record = service.tuning.describe(name)
    finally:
        bar.close()
    if record.status == TuningJobStatus.FAILED:
        raise UnexpectedStatusException(
            f"Error for HyperParameterTuning job {name}: {record.status}. Reason: {record.failure_reason}",
            allowed_statuses=[TuningJobStatus.COMPLETED.value, TuningJobStatus.STOPPED.value],
            actual_status=record.status.value)


__all__ = ["HyperparameterTuner", "ContinuousParameter", "IntegerParameter", "CategoricalParameter", "ParameterRange",
           "WarmStartConfig", "WarmStartTypes", "HyperbandStrategyConfig", "StrategyConfig"]
