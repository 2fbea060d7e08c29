"""``rlops.Session``: what SageMaker's session was to an estimator, for a local job store.

SageMaker sessions wrapped AWS clients and a default S3 bucket. Here a session names the job
store (``RLOPS_HOME``, ``RLOPS_DATABASE_URL`` or ``database_url``) and the default output
folder, and owns the one runtime service (:mod:`rlops.runtime.service`) through which
estimators, models, predictors, analytics and the CLI reach jobs and endpoints.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rlops.settings import default_output_path

if TYPE_CHECKING:
    from rlops.runtime.service import RuntimeService

LOCAL_ROLE = "arn:rlops:iam::local:role/rlops-local-placeholder"


class Session:
    """The runtime service an estimator uses; ``Session()`` takes its store from the environment.

    >>> import rlops
    >>> session = rlops.Session()              # doctest: +SKIP
    >>> session.default_bucket()               # doctest: +SKIP
    '/home/me/.rlops/artifacts'
    """

    local_mode = True
    boto_region_name = "local"

    def __init__(self, database_url: str | None = None, service: RuntimeService | None = None, **_ignored):
        self._database_url = database_url
        self._service = service

    @property
    def service(self) -> RuntimeService:
        """The runtime service every operation of this session goes through (opened on first use)."""
        if self._service is None:  # constructing a session costs nothing
            from rlops.runtime.local import LocalRuntime

            self._service = LocalRuntime(self._database_url)
        return self._service

    def default_bucket(self) -> str:
        """The folder where jobs without an ``output_path`` put their artifacts."""
        return str(default_output_path())


class LocalSession(Session):
    """SageMaker's local-mode session; in rlops every session is local, without Docker."""


def get_execution_role(*_args, **_kwargs) -> str:
    """A placeholder role name: rlops runs as you and uses no IAM roles."""
    return LOCAL_ROLE
