"""The runtime service: every operation the SDK and the CLI ask of rlops, behind one interface.

``Session().service`` is a :class:`RuntimeService`; estimators, training-job handles,
analytics, models, predictors, transformers and every ``rlops`` command go through it and
never open the store themselves. Today the one implementation is
:class:`rlops.runtime.local.LocalRuntime` (an embedded store and processes on this machine);
a server, a Ray cluster, tuning jobs and datasets plug in here, as another implementation or
as another group of operations beside ``jobs`` and ``endpoints``.

>>> service = rlops.Session().service                     # doctest: +SKIP
>>> service.jobs.describe("my-job").status                # doctest: +SKIP
<JobStatus.COMPLETED: 'Completed'>
>>> service.endpoints.invoke("my-endpoint", b"[0, 0, 2, 2]")   # doctest: +SKIP
b'{"action": 1, ...}'
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from rlops.records import EndpointRecord, JobRecord, MetricPoint, TrialRecord, TuningJobRecord
from rlops.runtime.spec import JobSpec, TuningSpec
from rlops.storage import to_uri


@dataclass(frozen=True)
class JobLocations:
    """Where a job's artifacts are (``file://`` or ``s3://`` URIs), and whether its model has been written."""

    model_data: str
    output_data: str
    checkpoint_uri: str | None
    has_model: bool


class JobService(abc.ABC):
    """Training jobs: SageMaker's CreateTrainingJob, DescribeTrainingJob, StopTrainingJob and friends."""

    @abc.abstractmethod
    def create(self, spec: JobSpec) -> JobRecord:
        """Record the job and start it; on any failure nothing is left behind."""

    @abc.abstractmethod
    def describe(self, name: str) -> JobRecord:
        """The job (``NotFound`` if there is none); a job whose runner died is shown ``Failed``."""

    @abc.abstractmethod
    def list(self, status: str | None = None, name_contains: str | None = None,
             limit: int | None = None) -> list[JobRecord]:
        """Jobs, newest first."""

    @abc.abstractmethod
    def logs(self, name: str, follow: bool = False) -> Iterator[str]:
        """The job's log in chunks of whole lines; with ``follow``, until the job has ended and all is read."""

    @abc.abstractmethod
    def wait(self, name: str) -> JobRecord:
        """Block until the job has ended; its final record."""

    @abc.abstractmethod
    def stop(self, name: str) -> JobRecord:
        """Ask the job to stop (SIGTERM, a grace period, SIGKILL); a finished job is left as it is."""

    @abc.abstractmethod
    def interrupt(self, name: str, reason: str | None = None, pause: float = 0.0) -> JobRecord:
        """Interrupt a spot-style job as a reclaimed machine would; it resumes from its checkpoints after ``pause``."""

    @abc.abstractmethod
    def recover(self) -> list[JobRecord]:
        """Look at every job recorded as running: resume spot-style ones whose runner died, fail the others."""

    @abc.abstractmethod
    def metrics(self, name: str, metric_names: Iterable[str] | None = None) -> list[MetricPoint]:
        """Every data point the job has logged, in order."""

    @abc.abstractmethod
    def final_metrics(self, name: str) -> list[MetricPoint]:
        """The last data point of each metric (SageMaker's ``FinalMetricDataList``)."""

    def final_metrics_of(self, names: list[str]) -> dict[str, list[MetricPoint]]:
        """:meth:`final_metrics` of several jobs (a list of jobs with their final metrics)."""
        return {name: self.final_metrics(name) for name in names}

    def locations(self, name: str) -> JobLocations:
        """Where the job's model, output and checkpoints are (the model once the job has written it)."""
        job = self.describe(name)
        spec = JobSpec.from_dict(job.spec)
        return JobLocations(
            model_data=job.model_artifacts or to_uri(spec.model_archive),
            output_data=job.output_artifacts or to_uri(spec.output_dir / "output.tar.gz"),
            checkpoint_uri=spec.checkpoint_uri,
            has_model=bool(job.model_artifacts),
        )


class EndpointService(abc.ABC):
    """Endpoints: model servers for trained policies (CreateEndpoint, InvokeEndpoint, DeleteEndpoint)."""

    @abc.abstractmethod
    def create(self, name: str, model: str, workers: int = 1, port: int | None = None,
               wait: bool = True, answer_format: str = "rlops", handler: str | None = None,
               data_capture: dict | None = None) -> EndpointRecord:
        """Check the model, record the endpoint and start its server; with ``wait`` until it answers.
        ``answer_format``: rlops's answers, or TensorFlow Serving's or Coach-MXNet's shape (``tensorflow``, ``mxnet``);
        ``handler``: a SageMaker inference handler file (``model_fn``, ``input_fn``, ``predict_fn``, ``output_fn``);
        ``data_capture``: ``{"destination", "percentage", "input", "output"}`` to record invocations
        (:mod:`rlops.serving.capture`)."""

    @abc.abstractmethod
    def describe(self, name: str) -> EndpointRecord:
        """The endpoint; one whose server is gone is shown ``Failed`` with the reason."""

    @abc.abstractmethod
    def list(self) -> list[EndpointRecord]:
        """Endpoints, newest first."""

    @abc.abstractmethod
    def processes(self, name: str) -> list[int]:
        """Process ids of the endpoint's server (root first), or [] when it is not running."""

    @abc.abstractmethod
    def logs(self, name: str) -> str:
        """The server's log."""

    @abc.abstractmethod
    def restart(self, name: str, wait: bool = True) -> EndpointRecord:
        """Start the endpoint's server again, on the same address."""

    @abc.abstractmethod
    def delete(self, name: str) -> None:
        """Stop the server and forget the endpoint."""

    def invoke(self, name: str, body: bytes, content_type: str = "application/json") -> bytes:
        """POST ``body`` to the endpoint's ``/invocations``; its answer, or ``PredictionError``."""
        return self.call(name, "/invocations", body, content_type)[0]

    @abc.abstractmethod
    def call(self, name: str, path: str, body: bytes, content_type: str = "application/json",
             headers: dict[str, str] | None = None) -> tuple[bytes, dict[str, str]]:
        """POST ``body`` to ``path`` on the endpoint's server: its answer and response headers (lower-case names),
        or ``PredictionError``."""


class TuningService(abc.ABC):
    """Hyperparameter tuning jobs: SageMaker's CreateHyperParameterTuningJob, DescribeHyperParameterTuningJob,
    StopHyperParameterTuningJob and ListTrainingJobsForHyperParameterTuningJob. Each trial is an ordinary
    training job of :class:`JobService`."""

    @abc.abstractmethod
    def create(self, spec: TuningSpec) -> TuningJobRecord:
        """Record the tuning job and start its tuner; on any failure nothing is left behind."""

    @abc.abstractmethod
    def describe(self, name: str) -> TuningJobRecord:
        """The tuning job (``NotFound`` if there is none); a tuner that died is started again where it was."""

    @abc.abstractmethod
    def list(self, status: str | None = None, name_contains: str | None = None,
             limit: int | None = None) -> list[TuningJobRecord]:
        """Tuning jobs, newest first."""

    @abc.abstractmethod
    def trials(self, name: str) -> list[TrialRecord]:
        """The training jobs the tuning job started, in order, with their tuned values and objectives."""

    @abc.abstractmethod
    def stop(self, name: str) -> TuningJobRecord:
        """Stop the search and every training job it has running; a finished tuning job is left as it is."""

    @abc.abstractmethod
    def wait(self, name: str) -> TuningJobRecord:
        """Block until the tuning job has ended; its final record."""

    @abc.abstractmethod
    def logs(self, name: str) -> str:
        """The tuner's log: each trial started and ended, with its values and objective."""


class RuntimeService(abc.ABC):
    """Everything the SDK and the CLI ask of rlops: ``jobs``, ``endpoints``, ``tuning`` and batch transform."""

    jobs: JobService
    endpoints: EndpointService
    tuning: TuningService

    @property
    @abc.abstractmethod
    def location(self) -> str:
        """Where the service keeps its state, for messages (a database URL, a server address)."""

    @abc.abstractmethod
    def transform(self, model: str, source: Path, target: Path, join_source: bool = False,
                  batch_size: int = 10_000) -> int:
        """Batch transform: answer every observation of ``source`` into ``target``, in order. Returns how many."""

    @abc.abstractmethod
    def upgrade_store(self) -> tuple[str | None, str]:
        """Migrate the service's store to the current schema: ``(revision before, revision after)``."""
