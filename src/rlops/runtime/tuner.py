"""The process that runs one hyperparameter tuning job: Optuna's search over ordinary training jobs.

``python -m rlops.runtime.tuner NAME`` is started by :mod:`rlops.runtime.tuning`. It:

1. opens the tuning job's Optuna study in the job store's own database (Optuna's RDB storage on the
   store's SQLAlchemy URL), creating it on the first start: the strategy's sampler (TPE for
   ``Bayesian`` and ``Hyperband``, random for ``Random``; ``Grid`` queues every combination), and the
   pruner (Hyperband's, the median rule for ``early_stopping_type="Auto"``, none otherwise);
2. asks the study for values, and starts each trial as a training job named
   ``<tuning job>-<NNN>-<hex>`` with the tuned values among its hyperparameters (JSON-encoded: full
   precision, their own types), keeping at most ``max_parallel_jobs`` running;
3. reads each running job's objective metric as it is logged and reports it to the pruner (the nth
   data point is step n): its latest value to Hyperband, the running average of its points to the
   median rule (SageMaker's rule for ``early_stopping_type="Auto"``); a job the pruner gives up on is
   stopped through the normal stop path and recorded as stopped early;
4. tells the study each job's final objective value (its metric's last data point, as SageMaker
   defines it); a job that failed, or ended without the metric, is a failed trial and the search
   goes on. The tuning job completes when ``max_jobs`` trials have ended, and fails only when every
   one of them failed.

Started again after it died, it adopts the trials whose jobs are still running and goes on.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import secrets
import sys
import time
import warnings
from dataclasses import dataclass
from typing import Any

import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import TrialState

from rlops.contract import encode_hyperparameters
from rlops.records import JobStatus, ObjectiveStatus, TuningJobStatus, best_trial
from rlops.runtime.local import LocalJobs
from rlops.runtime.spec import JobSpec, TuningSpec
from rlops.store import JobStore, TuningStore
from rlops.store.engine import configure_sqlite

log = logging.getLogger("rlops.tuner")

POLL_S = 0.5
HEARTBEAT_S = 2.0
#: Bayesian search starts with this share of max_jobs drawn at random (at least 2, at most 10).
STARTUP_SHARE = 0.25


def study_name(tuning_job: str) -> str:
    return f"rlops-tuning-{tuning_job}"


def trial_job_name(tuning_job: str, number: int) -> str:
    """SageMaker's names for a tuning job's training jobs: ``<tuning job>-<NNN>-<8 hex digits>``."""
    return f"{tuning_job}-{number:03d}-{secrets.token_hex(4)}"


# -- the search space -------------------------------------------------------------------------------


@dataclass
class Dimension:
    """One tuned hyperparameter: its Optuna distribution, and the way between Optuna's value and the job's.

    Categorical values travel through Optuna as their JSON text (so lists, and floats such as 1e-300, keep
    their exact value and type); a reverse-logarithmic range is searched as ``1 - value`` on a log scale.
    """

    name: str
    distribution: BaseDistribution
    categorical: bool = False
    reverse: bool = False

    def value(self, internal: Any) -> Any:
        if self.categorical:
            return json.loads(internal)
        return 1.0 - internal if self.reverse else internal

    def internal(self, value: Any) -> Any | None:
        """Optuna's value for the job's ``value``, or None when it is outside this range."""
        try:
            internal = json.dumps(value) if self.categorical else (1.0 - value if self.reverse else value)
            return internal if self.distribution._contains(self.distribution.to_internal_repr(internal)) else None
        except (TypeError, ValueError):
            return None


def dimensions(parameter_ranges: dict[str, list[dict[str, Any]]]) -> list[Dimension]:
    """Optuna's distributions for SageMaker's ``ParameterRanges`` (checked by the SDK before they get here)."""
    result = []
    for r in parameter_ranges.get("ContinuousParameterRanges", []):
        low, high, scaling = float(r["MinValue"]), float(r["MaxValue"]), r.get("ScalingType", "Auto")
        if scaling == "ReverseLogarithmic":
            result.append(Dimension(r["Name"], FloatDistribution(1.0 - high, 1.0 - low, log=True), reverse=True))
        else:
            result.append(Dimension(r["Name"], FloatDistribution(low, high, log=scaling == "Logarithmic")))
    for r in parameter_ranges.get("IntegerParameterRanges", []):
        result.append(Dimension(r["Name"], IntDistribution(int(r["MinValue"]), int(r["MaxValue"]),
                                                           log=r.get("ScalingType") == "Logarithmic")))
    for r in parameter_ranges.get("CategoricalParameterRanges", []):
        result.append(Dimension(r["Name"], CategoricalDistribution([json.dumps(v) for v in r["Values"]]),
                                categorical=True))
    return result


def grid(parameter_ranges: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Every combination of the categorical values, in the order the ranges list them."""
    ranges = parameter_ranges.get("CategoricalParameterRanges", [])
    names = [r["Name"] for r in ranges]
    return [dict(zip(names, values)) for values in itertools.product(*(r["Values"] for r in ranges))]


def make_sampler(spec: TuningSpec) -> optuna.samplers.BaseSampler:
    if spec.strategy in ("Random", "Grid"):  # Grid's combinations are queued; each trial takes the next
        return optuna.samplers.RandomSampler(seed=spec.random_seed)
    startup = min(10, max(2, round(spec.max_jobs * STARTUP_SHARE)))
    with warnings.catch_warnings():  # multivariate TPE and the constant liar are marked experimental
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.samplers.TPESampler(seed=spec.random_seed, n_startup_trials=startup, multivariate=True,
                                          constant_liar=spec.max_parallel_jobs > 1)


def make_pruner(spec: TuningSpec) -> optuna.pruners.BasePruner:
    if spec.strategy == "Hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=spec.min_resource,
                                              max_resource=spec.max_resource or "auto", reduction_factor=3)
    if spec.early_stopping_type == "Auto":
        return optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=0)
    return optuna.pruners.NopPruner()


def open_storage(url: str) -> optuna.storages.RDBStorage:
    """Optuna's RDB storage on the job store's database. On SQLite, its connections wait for other writers and
    open every transaction with ``BEGIN IMMEDIATE``, as the store's own writers do (the supervisors write
    metrics to the same file all the time)."""
    if not url.startswith("sqlite"):
        return optuna.storages.RDBStorage(url, engine_kwargs={"pool_pre_ping": True})
    storage = optuna.storages.RDBStorage(url, engine_kwargs={"connect_args": {"timeout": 30}})
    configure_sqlite(storage.engine)
    storage.engine.update_execution_options(rlops_write=True)
    storage.engine.dispose()  # connections made from here on are configured
    return storage


def is_reporting_step(step: int) -> bool:
    """Steps (a job's nth objective data point) reported to the pruner: every one of the
    first 100, then those with two significant digits (110, 120, ..., 1100, 1200, ...). The same steps for
    every job, so the pruner compares like with like, and a few hundred writes for a job that logs thousands."""
    if step <= 100:
        return True
    scale = 10 ** (len(str(step)) - 2)
    return step % scale == 0


# -- the tuner ----------------------------------------------------------------------------------


@dataclass
class Running:
    """A trial whose training job has not ended."""

    job: str
    trial: optuna.Trial
    number: int
    seen: int = 0  # objective data points read so far
    total: float = 0.0
    early: bool = False  # the pruner stopped it


class Tuner:
    def __init__(self, name: str, url: str | None = None):
        self.store = TuningStore(url)
        self.jobs = LocalJobs(JobStore(self.store.url))
        self.record = self.store.get(name)
        self.spec = TuningSpec.from_dict(self.record.spec)
        self.template = self.spec.job_spec()
        self.dimensions = dimensions(self.spec.parameter_ranges)
        self.distributions = {d.name: d.distribution for d in self.dimensions}
        self.log_file = open(self.record.log_path, "a", buffering=1)
        self.maximize = self.spec.objective_type == "Maximize"
        self.storage = open_storage(self.store.url)
        self.study = optuna.create_study(
            storage=self.storage, study_name=study_name(name), load_if_exists=True,
            direction="maximize" if self.maximize else "minimize",
            sampler=make_sampler(self.spec), pruner=make_pruner(self.spec))
        self.pruning = not isinstance(self.study.pruner, optuna.pruners.NopPruner)
        self.running: dict[str, Running] = {}

    def say(self, message: str) -> None:
        self.log_file.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {message}\n")

    # -- the search -------------------------------------------------------------------------

    def run(self) -> None:
        spec = self.spec
        first = "rlops_started" not in self.study.user_attrs
        if first:
            self.say(f"Tuning job {spec.name}: {spec.strategy} search, {spec.objective_type.lower()} "
                     f"{spec.objective_metric!r} over {', '.join(spec.tuned_names())}; {spec.max_jobs} training jobs, "
                     f"{spec.max_parallel_jobs} at a time; early stopping "
                     f"{'Hyperband' if spec.strategy == 'Hyperband' else spec.early_stopping_type}")
            self.warm_start()
            if spec.strategy == "Grid":
                for values in grid(spec.parameter_ranges):
                    self.study.enqueue_trial({d.name: d.internal(values[d.name]) for d in self.dimensions})
            self.study.set_user_attr("rlops_started", True)
        else:
            self.say(f"Tuner started again (pid {self.record.supervisor_pid}); going on where it was")
        self.adopt()
        next_beat = 0.0
        stopping = False
        deadline = self.record.created_at + spec.max_runtime if spec.max_runtime else math.inf
        while True:
            now = time.monotonic()
            if now >= next_beat:
                next_beat = now + HEARTBEAT_S
                requested = self.store.heartbeat(spec.name)
                overdue = time.time() >= deadline
                if (requested or overdue) and not stopping:
                    stopping = True
                    self.say(("Stop requested" if requested else
                              f"max_runtime_in_seconds ({spec.max_runtime:g} s) reached")
                             + ": stopping the running training jobs")
                    for run in self.running.values():
                        self.jobs.stop(run.job)
            for run in list(self.running.values()):
                self.poll(run)
            if not stopping:
                launched = len(self.store.trials(spec.name))
                while len(self.running) < spec.max_parallel_jobs and launched < spec.max_jobs:
                    launched += 1
                    self.launch(launched)
                if launched >= spec.max_jobs and not self.running:
                    break
            elif not self.running:
                break
            time.sleep(POLL_S)
        self.finish(stopped=stopping)

    def warm_start(self) -> None:
        """Give the study the finished trials of the parent tuning jobs that fall within this job's ranges."""
        config = self.spec.warm_start
        if not config:
            return
        complete_only = config["WarmStartType"] == "IdenticalDataAndAlgorithm"
        added = 0
        for parent in config["ParentHyperParameterTuningJobs"]:
            for trial in self.store.trials(parent):
                if trial.objective_status != ObjectiveStatus.SUCCEEDED or trial.final_objective is None:
                    continue
                params = {d.name: d.internal(trial.hyperparameters[d.name]) for d in self.dimensions
                          if d.name in trial.hyperparameters}
                params = {k: v for k, v in params.items() if v is not None}
                if not params or (complete_only and len(params) < len(self.dimensions)):
                    continue
                self.study.add_trial(optuna.trial.create_trial(
                    params=params, distributions={k: self.distributions[k] for k in params},
                    value=trial.final_objective, user_attrs={"warm_start_from": trial.training_job_name}))
                added += 1
        self.say(f"Warm start ({config['WarmStartType']}): {added} finished training jobs of "
                 f"{', '.join(config['ParentHyperParameterTuningJobs'])} given to the search")

    def adopt(self) -> None:
        """After a restart: follow the trials whose jobs exist and have not been told to the study; forget those
        whose job was never started, and tell the study of Optuna trials that have no training job."""
        trials = {t.number: t for t in self.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))}
        for record in self.store.trials(self.spec.name):
            if record.objective_status != ObjectiveStatus.PENDING:
                continue
            trial = next((t for t in trials.values() if t.user_attrs.get("training_job") == record.training_job_name),
                         None)
            if record.job_status is None or trial is None:  # the tuner died between recording and starting it
                self.store.delete_trial(record.training_job_name)
                continue
            trials.pop(trial.number)
            run = Running(record.training_job_name, optuna.Trial(self.study, trial._trial_id), record.trial_number,
                          early=record.early_stopped)
            self.running[run.job] = run
            self.say(f"Trial {run.number}: following {run.job}, still running")
        for trial in trials.values():  # asked, but never given a job
            self.study.tell(trial.number, state=TrialState.FAIL)

    def launch(self, number: int) -> None:
        spec = self.spec
        name = trial_job_name(spec.name, number)
        trial = self.study.ask(self.distributions)
        values = {d.name: d.value(trial.params[d.name]) for d in self.dimensions}
        trial.set_user_attr("training_job", name)
        self.store.add_trial(spec.name, name, number, values)  # first, so a restart knows the name
        job = JobSpec.from_dict({
            **self.template.to_dict(), "name": name,
            "hyperparameters": {**self.template.hyperparameters, **encode_hyperparameters(values),
                                "sagemaker_job_name": json.dumps(name)},
            "checkpoint_uri": f"{self.template.checkpoint_uri.rstrip('/')}/{name}" if self.template.checkpoint_uri else None,
        })
        shown = ", ".join(f"{k}={v!r}" for k, v in values.items())
        try:
            self.jobs.create(job)
        except Exception as exc:  # the search goes on; the trial is recorded as failed
            self.say(f"Trial {number}: {name} could not start: {exc}")
            self.store.update_trial(name, objective_status=ObjectiveStatus.FAILED)
            self.study.tell(trial, state=TrialState.FAIL)
            return
        self.running[name] = Running(name, trial, number)
        self.say(f"Trial {number}: started {name} with {shown}")

    def poll(self, run: Running) -> None:
        job = self.jobs.describe(run.job)
        points = self.jobs.metrics(run.job, [self.spec.objective_metric])
        reported = False
        for step in range(run.seen + 1, len(points) + 1):
            run.total += points[step - 1].value
            # Hyperband compares jobs' current values; the median rule their running averages (SageMaker's rule)
            value = points[step - 1].value if self.spec.strategy == "Hyperband" else run.total / step
            if self.pruning and not run.early and is_reporting_step(step) and math.isfinite(value):
                run.trial.report(value, step)
                reported = True
        run.seen = len(points)
        if reported and not job.is_terminal and run.trial.should_prune():
            run.early = True
            self.store.update_trial(run.job, early_stopped=True)
            self.say(f"Trial {run.number}: stopping {run.job} early at data point {run.seen} "
                     f"(last value {points[-1].value:.6g}, running average {run.total / run.seen:.6g})")
            self.jobs.stop(run.job)
        if job.is_terminal:
            self.conclude(run, job.status, job.failure_reason, points[-1].value if points else None)

    def conclude(self, run: Running, status: JobStatus, failure_reason: str | None, final: float | None) -> None:
        """Record a trial whose job has ended, and tell the study."""
        del self.running[run.job]
        has_value = final is not None and math.isfinite(final)
        if run.early and status == JobStatus.COMPLETED:  # it finished before the stop reached it: a full trial
            run.early = False
            self.store.update_trial(run.job, early_stopped=False)
            self.say(f"Trial {run.number}: {run.job} completed before it could be stopped early")
        if run.early:
            self.study.tell(run.trial, state=TrialState.PRUNED)
            outcome = f"stopped early; last value {final:.6g}" if has_value else "stopped early"
        elif status == JobStatus.COMPLETED and has_value:
            self.study.tell(run.trial, final)
            outcome = f"objective {final:.6g}"
        else:
            self.study.tell(run.trial, state=TrialState.FAIL)
            has_value = False
            if status == JobStatus.COMPLETED:
                failure_reason = (f"the job completed without a finite value of the objective metric "
                                  f"{self.spec.objective_metric!r} (check its metric definition's regex)")
            outcome = f"{status}: {short_reason(failure_reason)}"
        self.store.update_trial(run.job, objective_status=ObjectiveStatus.SUCCEEDED if has_value else ObjectiveStatus.FAILED,
                                final_objective=final if has_value else None)
        best = best_trial(self.store.trials(self.spec.name), self.maximize)
        self.say(f"Trial {run.number}: {run.job} {outcome}"
                 + (f"; best so far {best.final_objective:.6g} (trial {best.trial_number})" if best else ""))

    def finish(self, stopped: bool) -> None:
        trials = self.store.trials(self.spec.name)
        best = best_trial(trials, self.maximize)
        if stopped:
            status, reason = TuningJobStatus.STOPPED, None
        elif best is not None:
            status, reason = TuningJobStatus.COMPLETED, None
        else:
            failed = next((t for t in trials if t.failure_reason), None)
            status = TuningJobStatus.FAILED
            reason = (f"ClientError: every training job of the tuning job failed to give an objective value "
                      f"({len(trials)} of {len(trials)})"
                      + (f"; the first, {failed.training_job_name}: {short_reason(failed.failure_reason)}"
                         if failed else "."))
        self.say(f"Tuning job {status}" + (f": {reason}" if reason else "")
                 + (f"; best training job {best.training_job_name} with {self.spec.objective_metric} = "
                    f"{best.final_objective:.6g}" if best else ""))
        self.store.finish(self.spec.name, status, reason)
        self.log_file.close()


def short_reason(reason: str | None) -> str:
    """A job's failure reason on one line: its first line and, when there are more, its last (the error itself)."""
    lines = [line.strip() for line in (reason or "no reason recorded").strip().splitlines() if line.strip()]
    return lines[0] if len(lines) == 1 else f"{lines[0]} ... {lines[-1]}"


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m rlops.runtime.tuner",
                                     description="Run one recorded hyperparameter tuning job to its end.")
    parser.add_argument("tuning_job_name")
    parser.add_argument("--store", help="the job store's database URL (default: RLOPS_DATABASE_URL or RLOPS_HOME's)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    tuner = Tuner(args.tuning_job_name, args.store)
    try:
        tuner.run()
    except Exception as exc:  # record it rather than die silently; a restart would only repeat it
        log.exception("tuner failed")
        tuner.say(f"Tuner failed: {type(exc).__name__}: {exc}; stopping its running training jobs")
        for run in tuner.running.values():
            tuner.jobs.stop(run.job)
        tuner.store.finish(tuner.spec.name, TuningJobStatus.FAILED, f"InternalServerError: {type(exc).__name__}: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
