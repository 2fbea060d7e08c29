"""Reading and writing datasets: SageMaker's batch-RL CSV, JSON lines of the same fields, and local Minari datasets.

The CSV has one row per step with the columns ``action``, ``all_action_probabilities`` (a list such as
``[0.5, 0.5]``), ``episode_id``, ``reward``, ``cumulative_rewards`` (the episode's return on its last
row, 0 elsewhere) and ``state_feature_0`` ... ``state_feature_N`` (SPEC section 5). JSON lines carry the
same fields (the probabilities as a list), and may end a truncated episode with ``final_observation``.
A continuous action is a list (``[0.25, -1.0]``; in the CSV as text), with no probabilities (left empty).
Every problem is reported with the file, the line or episode, and what was wrong; files are written
under a temporary name and renamed, so a failed write leaves nothing behind.

>>> dataset = read_dataset("cartpole-random.csv")                 # doctest: +SKIP
>>> write_dataset(dataset, "copy.jsonl")                         # doctest: +SKIP
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from rlops.datasets.episodes import Dataset, Episode, check_probabilities, make_episode
from rlops.exceptions import InvalidDataset
from rlops.storage.atomic import atomic_path

REQUIRED = ("action", "all_action_probabilities", "episode_id", "reward")
FEATURE = re.compile(r"^state_feature_(\d+)$")
MINARI_PREFIX = "minari:"
FORMATS = ("csv", "jsonl", "minari")


def read_dataset(path: str | Path) -> Dataset:
    """A dataset from a ``.csv`` or ``.jsonl`` file, or ``minari:ID`` (a Minari dataset installed locally)."""
    text = str(path)
    if text.startswith(MINARI_PREFIX):
        return read_minari(text[len(MINARI_PREFIX):])
    path = Path(path)
    if not path.is_file():
        raise InvalidDataset(f"Dataset {str(path)!r} does not exist (accepted: a .csv or .jsonl file, or minari:ID "
                             "for a local Minari dataset).")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return read_csv(path)
    if suffix in (".jsonl", ".json", ".ndjson"):
        return read_jsonl(path)
    raise InvalidDataset(f"Dataset {str(path)!r}: unknown format {suffix or '(no extension)'!r}; accepted: .csv "
                         "(SageMaker's batch-RL columns), .jsonl (the same fields), minari:ID.")


def write_dataset(dataset: Dataset, path: str | Path) -> Path:
    """Write ``dataset`` as CSV or JSON lines (by the file's extension), atomically."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".jsonl"):
        raise InvalidDataset(f"Cannot write a dataset to {str(path)!r}: use a .csv or .jsonl file name.")
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as stream:
        rows = _rows(dataset)
        if suffix == ".csv":
            width = int(np.prod(dataset.observation_shape))
            writer = csv.writer(stream)
            writer.writerow([*REQUIRED[:2], "episode_id", "reward", "cumulative_rewards",
                             *(f"state_feature_{i}" for i in range(width))])
            for row in rows:
                probabilities = row["all_action_probabilities"]
                writer.writerow([json.dumps(row["action"]) if dataset.continuous else row["action"],
                                 "" if probabilities is None else json.dumps(probabilities), row["episode_id"],
                                 repr(row["reward"]), repr(row["cumulative_rewards"]),
                                 *(repr(v) for v in row["state"])])
        else:
            for row in rows:
                if row["all_action_probabilities"] is None:
                    del row["all_action_probabilities"]
                state = row.pop("state")
                row.update({f"state_feature_{i}": v for i, v in enumerate(state)})
                stream.write(json.dumps(row) + "\n")
    return path


def _rows(dataset: Dataset) -> Iterable[dict[str, Any]]:
    uniform = None if dataset.continuous else [1.0 / dataset.n_actions] * dataset.n_actions
    for episode in dataset:
        last = len(episode) - 1
        for t in range(len(episode)):
            row = {"action": episode.actions[t].astype(float).tolist() if dataset.continuous else int(episode.actions[t]),
                   "all_action_probabilities": episode.probabilities[t].tolist() if episode.probabilities is not None
                   else uniform,
                   "episode_id": episode.episode_id, "reward": float(episode.rewards[t]),
                   "cumulative_rewards": episode.total_return if t == last else 0.0,
                   "state": episode.observations[t].reshape(-1).astype(float).tolist()}
            if t == last and episode.final_observation is not None:
                row["final_observation"] = episode.final_observation.reshape(-1).astype(float).tolist()
            yield row


# -- SageMaker's CSV and JSON lines ---------------------------------------------------------------


def read_csv(path: Path) -> Dataset:
    with open(path, newline="") as stream:
        reader = csv.reader(stream)
        try:
            header = next(reader)
        except StopIteration:
            raise InvalidDataset(f"{path}: the file is empty; expected a header with {', '.join(REQUIRED)} and "
                                 "state_feature_0 ... state_feature_N.") from None
        features = _check_columns(path, header)
        index = {name: header.index(name) for name in REQUIRED}
        rows = []
        for line, values in enumerate(reader, start=2):
            if not values:
                continue
            if len(values) != len(header):
                raise InvalidDataset(f"{path}, line {line}: {len(values)} values for {len(header)} columns.")
            rows.append((line, {name: values[i] for name, i in index.items()}, [values[i] for i in features]))
    return _dataset(path, rows)


def read_jsonl(path: Path) -> Dataset:
    rows = []
    with open(path) as stream:
        for line, text in enumerate(stream, start=1):
            if not text.strip():
                continue
            try:
                record = json.loads(text)
            except ValueError as exc:
                raise InvalidDataset(f"{path}, line {line}: not JSON ({exc}).") from None
            if not isinstance(record, dict):
                raise InvalidDataset(f"{path}, line {line}: each line is a JSON object of one step's fields.")
            needed = [n for n in REQUIRED if not (n == "all_action_probabilities" and isinstance(record.get("action"), list))]
            missing = [name for name in needed if name not in record]
            features = sorted((int(m[1]), k) for k in record if (m := FEATURE.match(k)))
            state = record.get("state") if "state" in record else [record[k] for _, k in features]
            if missing or not state:
                raise InvalidDataset(f"{path}, line {line}: missing {', '.join(missing) or 'the state'}; each line has "
                                     f"{', '.join(REQUIRED)} (no probabilities with a continuous action, a list) and "
                                     "state_feature_0 ... (or a 'state' list).")
            rows.append((line, record, state))
    if not rows:
        raise InvalidDataset(f"{path}: the file has no steps.")
    return _dataset(path, rows)


def _check_columns(path: Path, header: list[str]) -> list[int]:
    """The positions of the state features, in order; every required column there."""
    missing = [name for name in REQUIRED if name not in header]
    numbered = sorted((int(m[1]), i) for i, name in enumerate(header) if (m := FEATURE.match(name)))
    if missing or not numbered:
        raise InvalidDataset(f"{path}: missing column(s) {', '.join(missing + ([] if numbered else ['state_feature_0']))}"
                             f". Found: {', '.join(header)}. Expected: {', '.join(REQUIRED)}, cumulative_rewards "
                             "(optional) and state_feature_0 ... state_feature_N.")
    if [n for n, _ in numbered] != list(range(len(numbered))):
        raise InvalidDataset(f"{path}: state features must be numbered state_feature_0 to state_feature_"
                             f"{len(numbered) - 1} without gaps; found {', '.join(header[i] for _, i in numbered)}.")
    return [i for _, i in numbered]


def _parse_probabilities(value: Any, where: str) -> np.ndarray:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise InvalidDataset(f"{where}: all_action_probabilities {value!r} is not a list of numbers such as "
                                 "[0.5, 0.5].") from None
    try:
        probabilities = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidDataset(f"{where}: all_action_probabilities {value!r} is not a list of numbers.") from None
    check_probabilities(probabilities, where)
    return probabilities


def _continuous_action(value: Any) -> bool:
    return isinstance(value, list) or (isinstance(value, str) and value.strip().startswith("["))


def _vector(value: Any, where: str) -> list[float]:
    """A continuous action: a list of numbers (or its JSON text, from a CSV)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise InvalidDataset(f"{where}: action {value!r} is not a list of numbers such as [0.5, -1.0].") from None
    if not isinstance(value, list) or not value:
        raise InvalidDataset(f"{where}: action {value!r} is not a list of numbers such as [0.5, -1.0].")
    return [_number(v, "an action value", where) for v in value]


def _number(value: Any, name: str, where: str, integer: bool = False):
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidDataset(f"{where}: {name} {value!r} is not a number.") from None
    if integer:
        if not number.is_integer():
            raise InvalidDataset(f"{where}: {name} {value!r} is not a whole number (actions are 0, 1, ...).")
        return int(number)
    if not np.isfinite(number):
        raise InvalidDataset(f"{where}: {name} is {value!r}; values must be finite.")
    return number


def _dataset(path: Path, rows: list[tuple[int, dict, list]]) -> Dataset:
    """Group parsed rows into episodes (in the order each episode first appears), checking every value."""
    grouped: dict[str, list] = {}
    n_actions = None
    width = None
    continuous = _continuous_action(rows[0][1]["action"]) if rows else False
    for line, record, state in rows:
        where = f"{path}, line {line}"
        if _continuous_action(record["action"]) != continuous:
            raise InvalidDataset(f"{where}: action {record['action']!r} is "
                                 f"{'a number' if continuous else 'a list'}; earlier rows have "
                                 f"{'lists (continuous actions)' if continuous else 'numbers (discrete actions)'}.")
        if continuous:
            if record.get("all_action_probabilities") not in (None, "", []):
                raise InvalidDataset(f"{where}: all_action_probabilities given with a continuous action; leave it "
                                     "empty (probabilities are for discrete actions).")
            action, probabilities = _vector(record["action"], where), None
            size = len(action)
        else:
            probabilities = _parse_probabilities(record["all_action_probabilities"], where)
            action = _number(record["action"], "action", where, integer=True)
            size = len(probabilities)
        if n_actions is None:
            n_actions = size
        elif size != n_actions:
            what = "action values" if continuous else "action probabilities"
            raise InvalidDataset(f"{where}: {size} {what}; earlier rows have {n_actions}.")
        features = [_number(v, "a state feature", where) for v in state]
        if width is None:
            width = len(features)
        elif len(features) != width:
            raise InvalidDataset(f"{where}: {len(features)} state features; earlier rows have {width}.")
        final = record.get("final_observation")
        step = (action, probabilities, _number(record["reward"], "reward", where), features, final)
        grouped.setdefault(str(record["episode_id"]), []).append(step)
    episodes = []
    for episode_id, steps in grouped.items():
        actions, probabilities, rewards, states, finals = zip(*steps)
        episodes.append(make_episode(episode_id, states, actions, rewards, None if continuous else np.stack(probabilities),
                                     str(path), final_observation=finals[-1], n_actions=n_actions, continuous=continuous))
    return Dataset(episodes, n_actions, source=str(path))


# -- Minari ------------------------------------------------------------------------------------


def read_minari(dataset_id: str) -> Dataset:
    """A Minari dataset installed locally (``MINARI_DATASETS_PATH``, default ``~/.minari/datasets``); nothing is
    downloaded. Discrete actions (behaviour probabilities read from the episodes' infos, ``action_probabilities``,
    when the collector recorded them) or continuous action vectors."""
    try:
        import minari
    except ImportError:
        raise InvalidDataset(f"Reading minari:{dataset_id} needs the minari package: pip install minari.") from None
    try:
        data = minari.load_dataset(dataset_id)
    except Exception as exc:  # minari raises several types for a dataset that is not there
        raise InvalidDataset(f"minari:{dataset_id}: not a Minari dataset installed here ({exc}). rlops reads local "
                             "datasets only; `minari list local` shows them.") from None
    space = data.action_space
    continuous = not hasattr(space, "n")
    if continuous and not (hasattr(space, "shape") and len(space.shape) == 1):
        raise InvalidDataset(f"minari:{dataset_id}: its action space is {space}; rlops's offline path reads discrete "
                             "actions or continuous action vectors (a one-dimensional Box).")
    size = int(space.shape[0]) if continuous else int(space.n)
    episodes = []
    for episode in data.iterate_episodes():
        probabilities = None if continuous else (episode.infos or {}).get("action_probabilities")
        observations = np.asarray(episode.observations, dtype=np.float32)
        final = None if bool(episode.terminations[-1]) else observations[-1]
        episodes.append(make_episode(str(episode.id), observations[:-1], episode.actions, episode.rewards,
                                     None if probabilities is None else np.asarray(probabilities)[:len(episode.actions)],
                                     f"minari:{dataset_id}", final_observation=final, n_actions=size,
                                     continuous=continuous))
    if not episodes:
        raise InvalidDataset(f"minari:{dataset_id} has no episodes.")
    return Dataset(episodes, size, source=f"minari:{dataset_id}")


__all__ = ["Episode", "Dataset", "read_dataset", "write_dataset", "read_csv", "read_jsonl", "read_minari", "FORMATS"]
