"""``TrainingJobAnalytics``: a job's metrics as a pandas DataFrame (SageMaker's ``sagemaker.analytics``).

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
