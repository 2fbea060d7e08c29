"""What the runtime service answers: training jobs, metric data points and endpoints, as plain data.

The store keeps these records and the service returns them; the SDK and the CLI read them
without knowing where they came from (an embedded store today, a server tomorrow). Status
values are SageMaker's, as enums whose members are also the strings users know::

    >>> JobStatus.COMPLETED == "Completed", f"{JobStatus.COMPLETED}"
    (True, 'Completed')
"""

from __future__ import annotations

import enum
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


ACTIVE_STATUSES = tuple(s for s in JobStatus if s.is_active)


class EndpointStatus(_Status):
    """``EndpointStatus``."""

    CREATING = "Creating"
    IN_SERVICE = "InService"
    FAILED = "Failed"
    DELETING = "Deleting"


@dataclass
class JobRecord:
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
    heartbeat_at: float | None
    supervisor_pid: int | None
    supervisor_started: float | None
    supervisor_host: str | None
    stop_requested: bool
    transitions: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self):
        self.status = JobStatus(self.status)

    @property
    def is_terminal(self) -> bool:
        return self.status.is_terminal


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
