"""What the runtime service answers: training jobs, metric data points and endpoints, as plain data.

The store keeps these records and the service returns them; the SDK and the CLI read them
without knowing where they came from (an embedded store today, a server tomorrow). Status
values are SageMaker's, as enums whose members are also the strings users know::

    >>> JobStatus.COMPLETED == "Completed", f"{JobStatus.COMPLETED}"
    (True, 'Completed')
"""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass, field
from typing import Any


class _Status(str, enum.Enum):
    """A status that prints, formats and compares as its SageMaker spelling."""

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)


class JobStatus(_Status):
    """``TrainingJobStatus``."""

    IN_PROGRESS = "InProgress"
    COMPLETED = "Completed"
    FAILED = "Failed"
    STOPPING = "Stopping"
    STOPPED = "Stopped"

    @property
    def is_terminal(self) -> bool:
        return self in (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.STOPPED)

    @property
    def is_active(self) -> bool:
        return self in (JobStatus.IN_PROGRESS, JobStatus.STOPPING)


class SecondaryStatus(_Status):
    """``SecondaryStatus``: the step a job is at (its transitions are recorded)."""

    STARTING = "Starting"
    DOWNLOADING = "Downloading"
    TRAINING = "Training"
    UPLOADING = "Uploading"
    COMPLETED = "Completed"
    FAILED = "Failed"
    STOPPED = "Stopped"
    MAX_RUNTIME_EXCEEDED = "MaxRuntimeExceeded"
    INTERRUPTED = "Interrupted"
    RESTARTING = "Restarting"
    MAX_WAIT_TIME_EXCEEDED = "MaxWaitTimeExceeded"


ACTIVE_STATUSES = tuple(s for s in JobStatus if s.is_active)


#: ``HyperParameterTuningJobStatus``: the same five values as a training job's.
TuningJobStatus = JobStatus


class ObjectiveStatus(_Status):
    """A trial's ``ObjectiveStatus``: whether its job gave a final objective value."""

    PENDING = "Pending"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"


class EndpointStatus(_Status):
    """``EndpointStatus``."""

    CREATING = "Creating"
    IN_SERVICE = "InService"
    FAILED = "Failed"
    DELETING = "Deleting"


@dataclass
class SupervisedRecord:
    """What a training job and a tuning job have alike: a process of rlops's that runs it, with its heartbeat,
    and whether a stop was asked for (:func:`rlops.runtime.reconcile.supervisor_death` reads these)."""

    heartbeat_at: float | None
    supervisor_pid: int | None
    supervisor_started: float | None
    supervisor_host: str | None
    stop_requested: bool

    @property
    def is_terminal(self) -> bool:
        return self.status.is_terminal


@dataclass
class JobRecord(SupervisedRecord):
    """One training job as the store holds it."""

    name: str
    status: JobStatus
    secondary_status: str
    failure_reason: str | None
    spec: dict[str, Any]
    work_dir: str
    log_path: str
    model_artifacts: str | None
    output_artifacts: str | None
    created_at: float
    started_at: float | None
    ended_at: float | None
    transitions: list[dict[str, Any]] = field(default_factory=list)
    interrupt_requested: str | None = None  # JSON {"reason", "pause"} until the supervisor acts on it
    restarts: int = 0  # times its supervisor was started again after it was lost

    def __post_init__(self):
        self.status = JobStatus(self.status)

    def phase_seconds(self, phase: str) -> float:
        """Seconds spent in the secondary status ``phase`` (e.g. ``Training``), over all its transitions (until now
        for the phase a running job is in)."""
        total = 0.0
        for i, t in enumerate(self.transitions):
            if t["status"] != phase:
                continue
            end = (self.transitions[i + 1]["start_time"] if i + 1 < len(self.transitions)
                   else self.ended_at or time.time())
            total += max(0.0, end - t["start_time"])
        return total

    @property
    def interruptions(self) -> list[dict[str, Any]]:
        """The job's interruptions: ``{"time", "reason"}`` of each ``Interrupted`` transition."""
        return [{"time": t["start_time"], "reason": t["message"]} for t in self.transitions
                if t["status"] == SecondaryStatus.INTERRUPTED]


@dataclass
class MetricPoint:
    name: str
    value: float
    timestamp: float
    host: str | None = None


@dataclass
class EndpointRecord:
    """One endpoint: its status, address, model and server process."""

    name: str
    status: EndpointStatus
    model: str
    model_dir: str
    host: str
    port: int
    workers: int
    pid: int | None
    pid_started: float | None
    machine: str | None
    log_path: str
    failure_reason: str | None
    created_at: float
    updated_at: float

    def __post_init__(self):
        self.status = EndpointStatus(self.status)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


@dataclass
class TuningJobRecord(SupervisedRecord):
    """One hyperparameter tuning job: its status, its spec and the process that runs its search."""

    name: str
    status: TuningJobStatus
    failure_reason: str | None
    spec: dict[str, Any]
    work_dir: str
    log_path: str
    created_at: float
    ended_at: float | None
    restarts: int

    def __post_init__(self):
        self.status = TuningJobStatus(self.status)


@dataclass
class TrialRecord:
    """One training job a tuning job started, with the values it tried and the objective it reached.

    ``job_status`` and the times are the training job's, read with the trial."""

    training_job_name: str
    tuning_job_name: str
    trial_number: int
    hyperparameters: dict[str, Any]
    objective_status: ObjectiveStatus
    final_objective: float | None
    early_stopped: bool
    created_at: float
    job_status: JobStatus | None = None
    started_at: float | None = None
    ended_at: float | None = None
    failure_reason: str | None = None

    def __post_init__(self):
        self.objective_status = ObjectiveStatus(self.objective_status)
        if self.job_status is not None:
            self.job_status = JobStatus(self.job_status)


def best_trial(trials: list[TrialRecord], maximize: bool) -> TrialRecord | None:
    """The trial with the best final objective among those that ran to completion (an early-stopped job only
    when no job completed): SageMaker's ``BestTrainingJob``."""
    scored = [t for t in trials if t.objective_status == ObjectiveStatus.SUCCEEDED and t.final_objective is not None]
    pool = [t for t in scored if not t.early_stopped] or scored
    if not pool:
        return None
    return (max if maximize else min)(pool, key=lambda t: t.final_objective)
