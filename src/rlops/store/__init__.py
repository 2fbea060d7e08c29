"""The job store: SQLAlchemy over SQLite in ``RLOPS_HOME`` (or a server database by URL)."""

from rlops.store.jobs import (
    ACTIVE_STATUSES,
    COMPLETED,
    FAILED,
    IN_PROGRESS,
    STOPPED,
    STOPPING,
    TERMINAL_STATUSES,
    JobRecord,
    JobStore,
    MetricPoint,
)

__all__ = [
    "ACTIVE_STATUSES", "COMPLETED", "FAILED", "IN_PROGRESS", "STOPPED", "STOPPING", "TERMINAL_STATUSES",
    "JobRecord", "JobStore", "MetricPoint",
]
