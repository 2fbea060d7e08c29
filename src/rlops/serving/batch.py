"""Batch inference (SageMaker's batch transform): a file of observations in, a file of answers out."""

from __future__ import annotations

import csv
import json
import logging
from pathlib import Path
from typing import Iterator

from rlops.exceptions import UsageError
from rlops.policies.portable import PortablePolicy
from rlops.serving.app import bounds_warning
from rlops.serving.codec import RequestError, _array, answer_rows
from rlops.storage import atomic_path

log = logging.getLogger("rlops.serving")


def _records(path: Path) -> Iterator[tuple[str, object]]:
    with open(path, newline="") as stream:
        if path.suffix.lower() == ".csv":
            for number, row in enumerate(csv.reader(stream), 1):
                if row:
                    try:
                        yield ",".join(row), [float(v) for v in row]
                    except ValueError:
                        raise UsageError(f"{path}, row {number}: {row!r} holds a value that is not a number.") from None
        else:
            for number, line in enumerate(stream, 1):
                if line.strip():
                    try:
                        yield line.rstrip("\n"), json.loads(line)
                    except ValueError as exc:
                        raise UsageError(f"{path}, line {number}: not JSON ({exc}); expected one observation "
                                         "(a JSON list) per line.") from None


def transform_file(model: str, source: Path, target: Path, join_source: bool = False, batch_size: int = 10_000) -> int:
    """Answer every observation of ``source`` into ``target`` (JSON lines), in order, atomically."""
    policy = PortablePolicy.load(model)
    shape = policy.observation_space.shape
    count = 0
    with atomic_path(target) as tmp, open(tmp, "w") as out:
        records = _records(source)
        while True:
            batch = [record for _, record in zip(range(batch_size), records)]
            if not batch:
                break
            try:
                observations = _array([value for _, value in batch], shape, batched=True)
            except RequestError as exc:
                raise UsageError(f"{source}, records {count + 1}-{count + len(batch)}: {exc.message} "
                                 f"Expected {exc.expected}.") from None
            warning = bounds_warning(policy, observations)
            if warning:  # answered all the same, as an endpoint does
                log.warning("%s, records %d-%d: %s", source, count + 1, count + len(batch), warning)
            for (_, value), answer in zip(batch, answer_rows(policy.run(observations))):
                text = answer.decode()
                out.write((f'{{"input": {json.dumps(value)}, "output": {text}}}' if join_source else text) + "\n")
            count += len(batch)
    return count
