"""Endpoint data capture: what an endpoint was asked and answered, as SageMaker's capture files.

A sampled share of invocations (``percentage``) is handed to a queue on the request path (no file
work there) and a background thread appends each as one JSON line in SageMaker's capture format
(SPEC section 7) to ``<folder>/AllTraffic/<yyyy>/<mm>/<dd>/<hh>/<mm-ss-mmm>-<uuid>.jsonl``: one
file per server process and hour, flushed every ``FLUSH_S`` and when the server shuts down, so a
restart adds new files and loses nothing that was written. Rewards reported for an event id go to
``<folder>/Rewards/`` the same way, so captured traffic can be joined with what followed.
"""

from __future__ import annotations

import base64
import queue
import random
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import orjson

FLUSH_S = 1.0
JSON_TYPES = ("application/json", "application/jsonlines", "application/x-ndjson")


def _data(payload: bytes, content_type: str | None) -> dict:
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind in JSON_TYPES or kind.endswith("+json"):
        return {"data": payload.decode("utf-8", "replace"), "encoding": "JSON"}
    if kind == "text/csv":
        return {"data": payload.decode("utf-8", "replace"), "encoding": "CSV"}
    return {"data": base64.b64encode(payload).decode("ascii"), "encoding": "BASE64"}


def capture_record(body: bytes, content_type: str | None, answer: bytes, media_type: str, event_id: str,
                   when: float, inference_id: str | None = None, custom_attributes: str | None = None) -> dict:
    """One captured invocation in SageMaker's format."""
    metadata = {"eventId": event_id,
                "inferenceTime": datetime.fromtimestamp(when, timezone.utc).isoformat(timespec="milliseconds")}
    if inference_id:
        metadata["inferenceId"] = inference_id
    if custom_attributes:
        metadata["customAttributes"] = custom_attributes
    return {
        "captureData": {
            "endpointInput": {"observedContentType": content_type or "", "mode": "INPUT", **_data(body, content_type)},
            "endpointOutput": {"observedContentType": media_type, "mode": "OUTPUT", **_data(answer, media_type)},
        },
        "eventMetadata": metadata,
        "eventVersion": "0",
    }


class CaptureWriter:
    """Samples invocations and writes them (and reported rewards) from a background thread."""

    def __init__(self, folder: Path, percentage: float = 100.0, capture_input: bool = True, capture_output: bool = True):
        self.folder = Path(folder)
        self.percentage = float(percentage)
        self.capture_input, self.capture_output = capture_input, capture_output
        self.pending: queue.SimpleQueue = queue.SimpleQueue()
        self.process_id = uuid.uuid4().hex
        self.streams: dict[tuple[str, str], object] = {}
        self.wake = threading.Event()
        self.thread = threading.Thread(target=self._run, name="rlops-capture", daemon=True)
        self.thread.start()

    def sampled(self) -> bool:
        return self.percentage >= 100 or random.random() * 100 < self.percentage

    def capture(self, body: bytes, content_type: str | None, answer: bytes, media_type: str, event_id: str,
                inference_id: str | None = None, custom_attributes: str | None = None) -> None:
        """Queue one invocation (the request path's only cost)."""
        self.pending.put(("AllTraffic", (body if self.capture_input else b"", content_type,
                                         answer if self.capture_output else b"", media_type, event_id, time.time(),
                                         inference_id, custom_attributes)))

    def reward(self, event_id: str, reward: float, done: bool | None = None) -> None:
        record = {"eventId": event_id, "reward": reward, "time": time.time()}
        if done is not None:
            record["done"] = done
        self.pending.put(("Rewards", record))

    def close(self) -> None:
        """Write what is queued and close the files (at server shutdown)."""
        self.pending.put(None)
        self.wake.set()
        self.thread.join(timeout=10)

    def _stream(self, kind: str, when: float):
        stamp = datetime.fromtimestamp(when, timezone.utc)
        hour = stamp.strftime("%Y/%m/%d/%H")
        key = (kind, hour)
        stream = self.streams.get(key)
        if stream is None:
            for old in [k for k in self.streams if k[0] == kind]:
                self.streams.pop(old).close()
            folder = self.folder / kind / hour
            folder.mkdir(parents=True, exist_ok=True)
            name = f"{stamp.strftime('%M-%S')}-{stamp.microsecond // 1000:03d}-{self.process_id}.jsonl"
            stream = self.streams[key] = open(folder / name, "ab", buffering=1 << 16)
        return stream

    def _run(self) -> None:
        """Every ``FLUSH_S``, write everything queued and flush: one wake-up a second rather than one per request,
        so the writer seldom takes the interpreter from the server's event loop."""
        stop = False
        while not stop:
            self.wake.wait(FLUSH_S)
            while True:
                try:
                    item = self.pending.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                kind, payload = item
                if kind == "Rewards":
                    self._stream(kind, payload["time"]).write(orjson.dumps(payload) + b"\n")
                else:
                    self._stream(kind, payload[5]).write(orjson.dumps(capture_record(*payload)) + b"\n")
            for stream in self.streams.values():
                stream.flush()
        for stream in self.streams.values():
            stream.close()
        self.streams.clear()
