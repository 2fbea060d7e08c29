"""The job store's tables (SQLAlchemy Core). Changing them needs a migration in ``migrations/``."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

training_jobs = Table(
    "training_jobs",
    metadata,
    Column("name", String(63), primary_key=True),
    Column("status", String(32), nullable=False),
    Column("secondary_status", String(32), nullable=False),
    Column("failure_reason", Text),
    Column("spec", Text, nullable=False),  # JSON: what the SDK submitted
    Column("work_dir", Text, nullable=False),
    Column("log_path", Text, nullable=False),
    Column("model_artifacts", Text),
    Column("output_artifacts", Text),
    Column("created_at", Float, nullable=False),
    Column("started_at", Float),
    Column("ended_at", Float),
    Column("heartbeat_at", Float),
    Column("supervisor_pid", Integer),
    Column("supervisor_started", Float),  # process create time: tells a reused pid apart
    Column("supervisor_host", String(255)),
    Column("stop_requested", Boolean, nullable=False, default=False),
    #: JSON ``{"reason", "pause"}``: an interruption asked of the supervisor (spot-style jobs), until it acts on it.
    Column("interrupt_requested", Text),
    #: How many times the job's supervisor was started again after it was lost (spot-style jobs resume).
    Column("restarts", Integer, nullable=False, default=0, server_default="0"),
)

status_transitions = Table(
    "status_transitions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("job_name", String(63), ForeignKey("training_jobs.name", ondelete="CASCADE"), nullable=False),
    Column("status", String(32), nullable=False),
    Column("message", Text),
    Column("start_time", Float, nullable=False),
    Index("ix_status_transitions_job", "job_name", "id"),
)

metrics = Table(
    "metrics",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("job_name", String(63), ForeignKey("training_jobs.name", ondelete="CASCADE"), nullable=False),
    Column("name", String(255), nullable=False),
    Column("value", Float, nullable=False),
    Column("timestamp", Float, nullable=False),
    Column("host", String(32)),
    Index("ix_metrics_job_name", "job_name", "name", "id"),
)

endpoints = Table(
    "endpoints",
    metadata,
    Column("name", String(63), primary_key=True),
    Column("status", String(32), nullable=False),  # Creating, InService, Failed, Deleting
    Column("model", Text, nullable=False),  # what was deployed (a model.tar.gz URI or folder)
    Column("model_dir", Text, nullable=False),  # the unpacked portable policy
    Column("host", String(255), nullable=False),
    Column("port", Integer, nullable=False),
    Column("workers", Integer, nullable=False),
    Column("pid", Integer),  # the server's root process (uvicorn's, which supervises its workers)
    Column("pid_started", Float),
    Column("machine", String(255)),
    Column("log_path", Text, nullable=False),
    Column("failure_reason", Text),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)

tuning_jobs = Table(
    "tuning_jobs",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("status", String(32), nullable=False),  # InProgress, Completed, Failed, Stopping, Stopped
    Column("failure_reason", Text),
    Column("spec", Text, nullable=False),  # JSON: the TuningSpec
    Column("work_dir", Text, nullable=False),
    Column("log_path", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("ended_at", Float),
    Column("heartbeat_at", Float),
    Column("supervisor_pid", Integer),  # the tuner process
    Column("supervisor_started", Float),
    Column("supervisor_host", String(255)),
    Column("stop_requested", Boolean, nullable=False, default=False),
    Column("restarts", Integer, nullable=False, default=0),  # times the tuner was started again after dying
)

tuning_trials = Table(
    "tuning_trials",
    metadata,
    Column("training_job_name", String(63), primary_key=True),
    Column("tuning_job_name", String(32), ForeignKey("tuning_jobs.name", ondelete="CASCADE"), nullable=False),
    Column("trial_number", Integer, nullable=False),
    Column("hyperparameters", Text, nullable=False),  # JSON: the tuned values, as the job received them
    Column("objective_status", String(16), nullable=False),  # Pending, Succeeded, Failed
    Column("final_objective", Float),
    Column("early_stopped", Boolean, nullable=False, default=False),
    Column("created_at", Float, nullable=False),
    Index("ix_tuning_trials_tuning_job", "tuning_job_name", "trial_number"),
)
