"""The job store: SQLAlchemy over SQLite in ``RLOPS_HOME`` (or a server database by URL).

Only the runtime (:mod:`rlops.runtime`) uses it; the SDK and the CLI go through the runtime
service, which returns the records of :mod:`rlops.records`.
"""

from rlops.store.endpoints import EndpointStore
from rlops.store.jobs import JobStore
from rlops.store.tuning import TuningStore

__all__ = ["EndpointStore", "JobStore", "TuningStore"]
