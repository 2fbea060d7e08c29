"""The errors rlops raises.

Every error is an :class:`RlopsError`; the CLI turns each into a message and an exit code::

    RlopsError                      exit 1
    ├── UsageError                  exit 2   bad input: a name, a path, a value, a keyword
    │   ├── InvalidJobName
    │   ├── UnavailableToolkit
    │   └── InvalidHyperparameter
    ├── NotFound                    exit 1   no such job (or endpoint)
    ├── AlreadyExists               exit 1   a name already in use
    ├── StoreError                  exit 1   the job store cannot be used as it is
    │   └── SchemaOutOfDate                  names the command that upgrades it
    ├── EndpointFailed              exit 1   an endpoint's server did not start or does not answer
    ├── PredictionError             exit 1   an endpoint refused a request (4xx) or failed (5xx)
    └── UnexpectedStatusException   exit 1   a job ended other than ``Completed``

``UnexpectedStatusException`` keeps SageMaker's name and import path
(``sagemaker.exceptions`` becomes ``rlops.exceptions``).
"""

from __future__ import annotations

import difflib
from typing import Any, Iterable


class RlopsError(Exception):
    """Base of every error rlops raises on purpose."""

    exit_code = 1


class UsageError(RlopsError, ValueError):
    """Input that rlops cannot accept: says what was received and what is accepted."""

    exit_code = 2


class InvalidJobName(UsageError):
    pass


class UnavailableToolkit(UsageError):
    pass


class InvalidHyperparameter(UsageError):
    pass


class InvalidDataset(UsageError):
    """A logged-data file rlops cannot learn from: names the file, the row or episode, and the problem."""


class NotFound(RlopsError, LookupError):
    pass


class AlreadyExists(RlopsError):
    pass


class StoreError(RlopsError):
    pass


class SchemaOutOfDate(StoreError):
    pass


class EndpointFailed(RlopsError):
    pass


class PredictionError(RlopsError):
    """The endpoint refused the request (4xx) or failed (5xx); carries its status and JSON error."""

    def __init__(self, status: int, body: Any):
        message = body.get("error") if isinstance(body, dict) else body
        expected = body.get("expected") if isinstance(body, dict) else None
        super().__init__(f"The endpoint answered {status}: {message}" + (f" (expected: {expected})" if expected else ""))
        self.status, self.body = status, body


class UnexpectedStatusException(RlopsError):
    """A job ended in a status the caller did not expect (SageMaker's exception, same fields)."""

    def __init__(self, message: str, allowed_statuses: Iterable[str], actual_status: str):
        super().__init__(message)
        self.allowed_statuses = list(allowed_statuses)
        self.actual_status = actual_status


def did_you_mean(received: str, allowed: Iterable[str]) -> str:
    """A ``" Did you mean 'x'?"`` suffix when ``received`` is close to an allowed value."""
    match = difflib.get_close_matches(str(received), [str(a) for a in allowed], n=1)
    return f" Did you mean {match[0]!r}?" if match else ""
