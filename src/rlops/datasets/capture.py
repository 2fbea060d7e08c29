"""Turning an endpoint's captured traffic and the rewards reported for it into a dataset.

An invocation becomes a step when it was captured (:mod:`rlops.serving.capture`) with its custom
attributes naming its episode (``episode=<id>``, as ``Predictor.predict(obs, custom_attributes=...)``
sends them) and a reward was reported for its event id (``Predictor.report_reward``, or a rewards
file of ``{"eventId", "reward", "done"}`` lines). The observation is the request, the action and the
behaviour probabilities are the answer's (``action``, ``probabilities``: probability 1 on the action
for a policy without them); steps are ordered by inference time. An episode whose last reward said
``done`` ended there; otherwise its last step only gives the observation it was cut at.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from rlops.datasets.episodes import Dataset, make_episode
from rlops.exceptions import InvalidDataset

EPISODE_ATTRIBUTE = re.compile(r"(?:^|[;,&\s])episode=([^;,&\s]+)")


def _lines(folder: Path):
    for path in sorted(folder.rglob("*.jsonl")):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if line.strip():
                try:
                    yield path, number, json.loads(line)
                except ValueError:
                    raise InvalidDataset(f"{path}, line {number}: not JSON.") from None


def read_rewards(sources: list[Path]) -> dict[str, dict]:
    """Rewards by event id, from capture folders' ``Rewards/`` and rewards files (the last report of an id wins)."""
    rewards = {}
    for source in sources:
        lines = _lines(source) if source.is_dir() else (
            (source, n, json.loads(line)) for n, line in enumerate(source.read_text().splitlines(), start=1)
            if line.strip())
        for path, number, record in lines:
            if "eventId" not in record or "reward" not in record:
                raise InvalidDataset(f"{path}, line {number}: a reward line has eventId and reward; got {record!r}.")
            rewards[str(record["eventId"])] = record
    return rewards


def from_capture(folder: Path, rewards_files: list[Path] = (), n_actions: int | None = None) -> Dataset:
    """The dataset in an endpoint's capture folder (``<destination>/<endpoint>``)."""
    folder = Path(folder)
    traffic = folder / "AllTraffic"
    if not traffic.is_dir():
        raise InvalidDataset(f"{folder}: no captured traffic (AllTraffic/) here; deploy the endpoint with a "
                             "DataCaptureConfig and call it first.")
    rewards = read_rewards([p for p in [folder / "Rewards", *map(Path, rewards_files)] if p.exists()])
    steps: dict[str, list] = {}
    unmarked = unrewarded = 0
    for path, number, record in _lines(traffic):
        where = f"{path}, line {number}"
        meta = record.get("eventMetadata", {})
        match = EPISODE_ATTRIBUTE.search(meta.get("customAttributes") or "")
        if not match:
            unmarked += 1
            continue
        reward = rewards.get(meta.get("eventId"))
        if reward is None:
            unrewarded += 1
            continue
        data = record["captureData"]
        try:
            observation = np.asarray(json.loads(data["endpointInput"]["data"]), dtype=np.float32)
            answer = json.loads(data["endpointOutput"]["data"])
        except (KeyError, ValueError, TypeError):
            raise InvalidDataset(f"{where}: the captured request or answer is not JSON (capture both, as JSON, to "
                                 "build a dataset).") from None
        if not isinstance(answer, dict) or "action" not in answer:
            raise InvalidDataset(f"{where}: the answer {str(answer)[:80]} is not one action (a batch request, or "
                                 "another answer format); a dataset is built from one observation per request.")
        steps.setdefault(match[1], []).append((meta.get("inferenceTime", ""), observation, answer, reward))
    if not steps:
        raise InvalidDataset(f"{folder}: no captured invocation has both an episode (custom_attributes='episode=ID') "
                             f"and a reported reward ({unmarked} without an episode, {unrewarded} without a reward).")
    episodes = []
    for episode_id, rows in steps.items():
        rows.sort(key=lambda r: r[0])
        width = n_actions or max(len(r[2].get("probabilities") or []) or int(r[2]["action"]) + 1 for r in rows)
        probabilities = [np.asarray(r[2]["probabilities"], np.float64) if r[2].get("probabilities") is not None
                         else np.eye(width)[int(r[2]["action"])] for r in rows]
        done = bool(rows[-1][3].get("done"))
        final = None
        if not done:  # cut short: the last step only tells where
            final, rows, probabilities = rows[-1][1], rows[:-1], probabilities[:-1]
        if len(rows) < 2:
            continue
        episodes.append(make_episode(episode_id, [r[1] for r in rows], [int(r[2]["action"]) for r in rows],
                                     [float(r[3]["reward"]) for r in rows], np.stack(probabilities), str(folder),
                                     final_observation=final, n_actions=width))
    if not episodes:
        raise InvalidDataset(f"{folder}: every captured episode has fewer than 2 rewarded steps.")
    return Dataset(episodes, episodes[0].probabilities.shape[1], source=f"captured traffic in {folder}",
                   behaviour="the endpoint's policy (its answers' probabilities)")
