"""``TrainingJobAnalytics``: a job's metrics as a pandas DataFrame (SageMaker's ``sagemaker.analytics``);
``HyperparameterTuningJobAnalytics``: the training jobs of a tuning job, one row each.

Unlike SageMaker's, it works in local mode, while the job runs, and keeps every data point;
``period`` (seconds) averages them into buckets the way CloudWatch did.
"""

from __future__ import annotations

from typing import Iterable

import pandas as pd

from rlops.session import Session

COLUMNS = ["timestamp", "metric_name", "value"]


class TrainingJobAnalytics:
    """Metrics of one training job.

    >>> df = TrainingJobAnalytics("my-job", metric_names=["reward-training"]).dataframe()   # doctest: +SKIP
    >>> df.columns.tolist()                                                                 # doctest: +SKIP
    ['timestamp', 'metric_name', 'value']
    """

    def __init__(self, training_job_name: str, metric_names: Iterable[str] | None = None,
                 sagemaker_session: Session | None = None, start_time=None, end_time=None, period: float | None = None):
        self.name = training_job_name
        self._metric_names = list(metric_names) if metric_names is not None else None
        self._session = sagemaker_session or Session()
        self._period = period
        self._jobs = self._session.service.jobs
        self._jobs.describe(training_job_name)  # fail early for a job that does not exist
        self._dataframe: pd.DataFrame | None = None

    def __repr__(self) -> str:
        return f"<rlops TrainingJobAnalytics for {self.name}>"

    def clear_cache(self) -> None:
        self._dataframe = None

    def dataframe(self, force_refresh: bool = False) -> pd.DataFrame:
        """Columns ``timestamp`` (seconds since the first data point), ``metric_name``, ``value``.

        Read afresh on every call while the job runs; cached once it has ended.
        """
        if self._dataframe is not None and not force_refresh:
            return self._dataframe
        finished = self._jobs.describe(self.name).is_terminal
        points = self._jobs.metrics(self.name, self._metric_names)
        frame = pd.DataFrame([(p.timestamp, p.name, p.value) for p in points], columns=COLUMNS)
        if not frame.empty:
            frame["timestamp"] = frame["timestamp"] - frame["timestamp"].min()
            if self._period:
                frame["timestamp"] = (frame["timestamp"] // self._period) * self._period
                frame = frame.groupby(["timestamp", "metric_name"], as_index=False, sort=True)["value"].mean()
                frame = frame[COLUMNS]
        if finished:
            self._dataframe = frame
        return frame

    def export_csv(self, filename: str) -> None:
        self.dataframe().to_csv(filename, index=False)

    def plot(self, path: str, metric_names: list[str] | None = None) -> str:
        """Write a picture of the reward curve (each metric against time, smoothed) to ``path``."""
        from rlops.plots import reward_curve

        frame = self.dataframe()
        names = metric_names or self._metric_names or sorted(frame["metric_name"].unique())
        return str(reward_curve(frame, names, path, title=self.name))

    @property
    def metric_names(self) -> list[str]:
        return sorted(self.dataframe()["metric_name"].unique())


# -- tuning jobs ----------------------------------------------------------------------------------


def trial_summary(trial, objective_metric: str) -> dict:
    """One training job of a tuning job as SageMaker's ``HyperParameterTrainingJobSummary`` shows it (tuned values
    keep their JSON types; ``EarlyStopped`` is rlops's addition)."""
    from rlops.training_job import _time

    summary = {
        "TrainingJobName": trial.training_job_name,
        "TrainingJobArn": f"arn:rlops:local:training-job/{trial.training_job_name}",
        "TuningJobName": trial.tuning_job_name,
        "CreationTime": _time(trial.created_at),
        "TrainingStartTime": _time(trial.started_at),
        "TrainingEndTime": _time(trial.ended_at),
        "TrainingJobStatus": trial.job_status.value if trial.job_status else "Failed",
        "TunedHyperParameters": dict(trial.hyperparameters),
        "ObjectiveStatus": trial.objective_status.value,
        "EarlyStopped": trial.early_stopped,
    }
    if trial.final_objective is not None:
        summary["FinalHyperParameterTuningJobObjectiveMetric"] = {"MetricName": objective_metric,
                                                                  "Value": trial.final_objective}
    if trial.failure_reason:
        summary["FailureReason"] = trial.failure_reason
    return summary


def describe_tuning_job(service, name: str) -> dict:
    """A tuning job as SageMaker's ``DescribeHyperParameterTuningJob`` shows it."""
    from rlops.records import JobStatus, ObjectiveStatus, best_trial
    from rlops.runtime.spec import TuningSpec
    from rlops.training_job import _time

    record = service.tuning.describe(name)
    trials = service.tuning.trials(name)
    spec = TuningSpec.from_dict(record.spec)
    job = spec.job_spec()
    statuses = [t.job_status for t in trials]
    objectives = [t.objective_status for t in trials]
    description = {
        "HyperParameterTuningJobName": record.name,
        "HyperParameterTuningJobArn": f"arn:rlops:local:hyper-parameter-tuning-job/{record.name}",
        "HyperParameterTuningJobConfig": {
            "Strategy": spec.strategy,
            "HyperParameterTuningJobObjective": {"Type": spec.objective_type, "MetricName": spec.objective_metric},
            "ResourceLimits": {"MaxNumberOfTrainingJobs": spec.max_jobs,
                               "MaxParallelTrainingJobs": spec.max_parallel_jobs},
            "ParameterRanges": spec.parameter_ranges,
            "TrainingJobEarlyStoppingType": spec.early_stopping_type,
            **({"RandomSeed": spec.random_seed} if spec.random_seed is not None else {}),
            **({"StrategyConfig": {"HyperbandStrategyConfig": {"MinResource": spec.min_resource,
                                                               "MaxResource": spec.max_resource}}}
               if spec.strategy == "Hyperband" else {}),
        },
        "TrainingJobDefinition": {
            "StaticHyperParameters": {k: v for k, v in job.hyperparameters.items() if k not in spec.tuned_names()},
            "AlgorithmSpecification": {"TrainingImage": job.python, "TrainingInputMode": "File",
                                       "MetricDefinitions": list(job.metric_definitions)},
            "OutputDataConfig": {"S3OutputPath": job.output_path},
            "ResourceConfig": {"InstanceType": job.instance_type, "InstanceCount": job.instance_count},
            "StoppingCondition": {"MaxRuntimeInSeconds": job.max_run},
        },
        "HyperParameterTuningJobStatus": record.status,
        "CreationTime": _time(record.created_at),
        "HyperParameterTuningEndTime": _time(record.ended_at),
        "LastModifiedTime": _time(record.ended_at or record.heartbeat_at or record.created_at),
        "TrainingJobStatusCounters": {
            "Completed": statuses.count(JobStatus.COMPLETED),
            "InProgress": sum(s in (JobStatus.IN_PROGRESS, JobStatus.STOPPING) for s in statuses),
            "RetryableError": 0,
            "NonRetryableError": sum(s in (JobStatus.FAILED, None) for s in statuses),
            "Stopped": statuses.count(JobStatus.STOPPED),
        },
        "ObjectiveStatusCounters": {status.value: objectives.count(status) for status in ObjectiveStatus},
        "rlops": {"WorkDir": record.work_dir, "LogPath": record.log_path, "TunerPid": record.supervisor_pid,
                  "TunerRestarts": record.restarts,
                  "EarlyStopped": sum(t.early_stopped for t in trials)},
    }
    best = best_trial(trials, spec.objective_type == "Maximize")
    if best is not None:
        description["BestTrainingJob"] = trial_summary(best, spec.objective_metric)
    if spec.warm_start:
        description["WarmStartConfig"] = spec.warm_start
    if record.failure_reason:
        description["FailureReason"] = record.failure_reason
    return description


class HyperparameterTuningJobAnalytics:
    """The training jobs of a tuning job as a pandas DataFrame (SageMaker's class of the same name).

    >>> frame = HyperparameterTuningJobAnalytics("my-tuning").dataframe()          # doctest: +SKIP
    >>> frame.sort_values("FinalObjectiveValue", ascending=False).head()          # doctest: +SKIP
    """

    def __init__(self, hyperparameter_tuning_job_name: str, sagemaker_session: Session | None = None):
        self._name = hyperparameter_tuning_job_name
        self._session = sagemaker_session or Session()
        self._service = self._session.service
        self._service.tuning.describe(hyperparameter_tuning_job_name)  # fail early for one that does not exist
        self._dataframe: pd.DataFrame | None = None

    name = property(lambda self: self._name)

    def __repr__(self) -> str:
        return f"<rlops HyperparameterTuningJobAnalytics for {self.name}>"

    def clear_cache(self) -> None:
        self._dataframe = None

    def description(self, force_refresh: bool = False) -> dict:
        return describe_tuning_job(self._service, self.name)

    @property
    def tuning_ranges(self) -> dict:
        """Each tuned hyperparameter's range in SageMaker's API form, by name."""
        ranges = self.description()["HyperParameterTuningJobConfig"]["ParameterRanges"]
        return {r["Name"]: r for group in ranges.values() for r in group}

    def training_job_summaries(self, force_refresh: bool = False) -> list[dict]:
        from rlops.runtime.spec import TuningSpec

        objective = TuningSpec.from_dict(self._service.tuning.describe(self.name).spec).objective_metric
        return [trial_summary(t, objective) for t in self._service.tuning.trials(self.name)]

    def dataframe(self, force_refresh: bool = False) -> pd.DataFrame:
        """One row per training job, in the order they started: the tuned values, ``TrainingJobName``,
        ``TrainingJobStatus``, ``FinalObjectiveValue``, ``TrainingStartTime``, ``TrainingEndTime``,
        ``TrainingElapsedTimeSeconds`` (and rlops's ``EarlyStopped``). Cached once the tuning job has ended."""
        if self._dataframe is not None and not force_refresh:
            return self._dataframe
        finished = self._service.tuning.describe(self.name).is_terminal
        rows = []
        for summary in self.training_job_summaries():
            start, end = summary["TrainingStartTime"], summary["TrainingEndTime"]
            rows.append({
                **summary["TunedHyperParameters"],
                "TrainingJobName": summary["TrainingJobName"],
                "TrainingJobStatus": summary["TrainingJobStatus"],
                "FinalObjectiveValue": summary.get("FinalHyperParameterTuningJobObjectiveMetric", {}).get("Value"),
                "TrainingStartTime": start,
                "TrainingEndTime": end,
                "TrainingElapsedTimeSeconds": (end - start).total_seconds() if start and end else None,
                "EarlyStopped": summary["EarlyStopped"],
            })
        frame = pd.DataFrame(rows)
        if finished:
            self._dataframe = frame
        return frame

    def export_csv(self, filename: str) -> None:
        self.dataframe().to_csv(filename, index=False)

    def plot(self, path: str) -> str:
        """Write a picture of the final objective against trial number and against each tuned hyperparameter."""
        from rlops.plots import tuning_picture

        config = self.description()["HyperParameterTuningJobConfig"]
        objective = config["HyperParameterTuningJobObjective"]
        return str(tuning_picture(self.dataframe(), objective["MetricName"], self.tuning_ranges,
                                  objective["Type"] == "Maximize", path, title=self.name))
