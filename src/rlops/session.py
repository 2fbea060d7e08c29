"""``rlops.Session``: what SageMaker's session was to an estimator, for a local job store.

SageMaker sessions wrapped AWS clients and a default S3 bucket. Here a session names the job
store (``RLOPS_HOME`` or ``RLOPS_DATABASE_URL``) and the default output folder, and owns the
backend that runs jobs.
"""

from __future__ import annotations

from rlops.runtime.local import LocalBackend
from rlops.settings import default_output_path
from rlops.store import JobStore

LOCAL_ROLE = "arn:rlops:iam::local:role/rlops-local-placeholder"


class Session:
    """The job store and backend an estimator uses; ``Session()`` takes them from the environment.

    >>> import rlops
    >>> session = rlops.Session()              # doctest: +SKIP
    >>> session.default_bucket()               # doctest: +SKIP
    '/home/me/.rlops/artifacts'
    """

    local_mode = True
    boto_region_name = "local"

    def __init__(self, database_url: str | None = None, **_ignored):
        self._database_url = database_url
        self._backend: LocalBackend | None = None

    @property
    def backend(self) -> LocalBackend:
        if self._backend is None:  # opened on first use, so constructing a session costs nothing
            self._backend = LocalBackend(JobStore(self._database_url))
        return self._backend

    @property
    def store(self) -> JobStore:
        return self.backend.store

    def default_bucket(self) -> str:
        """The folder where jobs without an ``output_path`` put their artifacts."""
        return str(default_output_path())


class LocalSession(Session):
    """SageMaker's local-mode session; in rlops every session is local, without Docker."""


def get_execution_role(*_args, **_kwargs) -> str:
    """A placeholder role name: rlops runs as you and uses no IAM roles."""
    return LOCAL_ROLE
