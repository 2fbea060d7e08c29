"""The names and encodings the SDK, the runtime and a job's script agree on.

- **Names** of training jobs and endpoints follow SageMaker's rule (1 to 63 letters, digits and
  hyphens); a generated name is ``<base>-<yyyy-mm-dd-hh-mm-ss-mmm>``, as SageMaker makes them.
- **Hyperparameters** travel JSON-encoded (what the SDK sends, what ``hyperparameters.json`` and
  ``SM_HPS`` hold); a script gets each one's JSON value, or the raw string when it is not JSON.
- **Reserved hyperparameters** are SageMaker's ``sagemaker_*`` keys, added by the SDK and kept
  out of what a user set.

This module knows nothing of estimators, the store or the runtime, so all of them can use it.

>>> encode_hyperparameters({"lr": 0.001, "net": [64, 64]})
{'lr': '0.001', 'net': '[64, 64]'}
>>> decode_hyperparameter('[64, 64]'), decode_hyperparameter('not json')
([64, 64], 'not json')
"""

from __future__ import annotations

import json
import re
import time
from typing import Any, Mapping

from rlops.exceptions import InvalidHyperparameter, InvalidJobName

# -- names ------------------------------------------------------------------------------------

NAME_RE = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
MAX_NAME = 63


def validate_name(name: str, what: str = "job") -> str:
    """``name`` if it is a valid SageMaker job (or endpoint) name, else :class:`InvalidJobName`."""
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise InvalidJobName(
            f"Invalid {what} name {name!r}: {'an' if what[0] in 'aeiou' else 'a'} {what} name is 1 to 63 letters, digits and hyphens, starting and "
            "ending with a letter or digit (SageMaker's rule ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$)."
        )
    return name


CHANNEL_RE = re.compile(r"^[A-Za-z0-9.\-_]{1,64}$")


def validate_channel_name(name: str) -> str:
    """``name`` if it is a valid channel name (SageMaker's ``[A-Za-z0-9._-]+``, at most 64; never ``.`` or ``..``,
    as it names a folder under ``input/data/``), else :class:`UsageError`."""
    from rlops.exceptions import UsageError

    if not isinstance(name, str) or not CHANNEL_RE.match(name) or set(name) == {"."}:
        raise UsageError(f"Invalid channel name {name!r}: use 1 to 64 letters, digits, '.', '-' or '_' (not only "
                         "dots: the name is a folder under input/data/).")
    return name


#: Instance types with GPUs: ``local_gpu`` (SageMaker local mode) and the GPU families (``ml.g5.xlarge``, ...).
GPU_INSTANCE = re.compile(r"^(local_gpu|ml\.[pg]\d\w*\.\w+)$")


def is_gpu_instance(instance_type: str) -> bool:
    """
    >>> is_gpu_instance("ml.g5.xlarge"), is_gpu_instance("local_gpu"), is_gpu_instance("ml.c5.4xlarge")
    (True, True, False)
    """
    return bool(GPU_INSTANCE.match(instance_type))


def unique_name(base: str) -> str:
    """``<base>-<yyyy-mm-dd-hh-mm-ss-mmm>``, cut so that the whole fits in 63 characters."""
    now = time.time()
    stamp = time.strftime("%Y-%m-%d-%H-%M-%S", time.localtime(now)) + f"-{int(now * 1000) % 1000:03d}"
    base = re.sub(r"[^a-zA-Z0-9-]+", "-", base).strip("-") or "rlops"
    return f"{base[:MAX_NAME - len(stamp) - 1].rstrip('-')}-{stamp}"


def jsonable(value):
    """``value`` with NumPy arrays and scalars (anything with ``tolist()``) turned into JSON's lists and numbers."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


# -- hyperparameters --------------------------------------------------------------------------

RESERVED_PREFIX = "sagemaker_"
MAX_HYPERPARAMETER_KEY = 256
#: The reserved keys SageMaker's SDK sends and rlops knows; scripts see them in hyperparameters.json.
RESERVED_HYPERPARAMETERS = frozenset({
    "sagemaker_program", "sagemaker_submit_directory", "sagemaker_container_log_level", "sagemaker_job_name",
    "sagemaker_region", "sagemaker_estimator",
})


def encode_hyperparameters(hyperparameters: Mapping[str, Any] | None) -> dict[str, str]:
    """JSON-encode each value as the SDK sends it, refusing what a job could not receive."""
    encoded = {}
    for key, value in (hyperparameters or {}).items():
        if not isinstance(key, str) or not key:
            raise InvalidHyperparameter(f"Hyperparameter names are non-empty strings; got {key!r}.")
        if len(key) > MAX_HYPERPARAMETER_KEY or any(c in key for c in "/\\\0") or ".." in key or key == ".":
            raise InvalidHyperparameter(
                f"Invalid hyperparameter name {key[:80]!r}{'...' if len(key) > 80 else ''}: names are at most "
                f"{MAX_HYPERPARAMETER_KEY} characters (SageMaker's limit; this one has {len(key)}), without '/', '\\', "
                "NUL, '..' or a lone '.' (they become command-line options and file names in a job).")
        dunder = [part for part in key.split(".") if part.startswith("__")]
        if dunder:
            raise InvalidHyperparameter(
                f"Hyperparameter {key!r} reaches the name {dunder[0]!r}; a dotted path may not pass through a "
                "name starting with '__' (it could reach Python internals)."
            )
        try:
            encoded[key] = json.dumps(value)
        except (TypeError, ValueError) as exc:
            raise InvalidHyperparameter(
                f"Hyperparameter {key!r} = {value!r} ({type(value).__name__}) is not JSON-serialisable: {exc}. "
                "Accepted: str, int, float, bool, None, and lists and dicts of them."
            ) from None
    return encoded


def decode_hyperparameter(value: str) -> Any:
    """What a training script gets for one hyperparameter: its JSON value, else the raw string."""
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        return value


def reserved_hyperparameters(program: str, job_name: str | None, log_level: int = 20,
                             estimator: str | None = None) -> dict[str, str]:
    """The ``sagemaker_*`` keys the SDK adds to a job's hyperparameters, JSON-encoded."""
    reserved = {
        "sagemaker_program": program,
        "sagemaker_container_log_level": log_level,
        "sagemaker_job_name": job_name,
        "sagemaker_region": "local",
    }
    if estimator:
        reserved["sagemaker_estimator"] = estimator
    return {key: json.dumps(value) for key, value in reserved.items()}


def is_reserved(key: str) -> bool:
    return key.startswith(RESERVED_PREFIX)


def user_hyperparameters(encoded: Mapping[str, str]) -> dict[str, Any]:
    """Decoded hyperparameters without the reserved ``sagemaker_*`` keys."""
    return {k: decode_hyperparameter(v) for k, v in encoded.items() if not is_reserved(k)}
