"""The request and response formats of ``/invocations`` (SPEC section 4).

JSON bodies: a bare observation or a list of them; TensorFlow Serving's ``{"instances": [...]}``;
RLlib's ``{"inputs": {"observations": [...], ...}}`` (other input keys are accepted and
ignored). ``application/jsonlines``: one observation per line. ``text/csv``: one per row.
Every observation of a request is validated (shape, type, bounds) and batched into one call.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

JSON, JSONLINES, CSV = "application/json", "application/jsonlines", "text/csv"
CONTENT_TYPES = {JSON: JSON, "application/x-jsonlines": JSONLINES, "application/jsonl": JSONLINES,
                 JSONLINES: JSONLINES, CSV: CSV}


class RequestError(Exception):
    """A request the server refuses: ``status`` 400 or 415, and a message saying what was expected."""

    def __init__(self, status: int, message: str, expected: str | None = None):
        super().__init__(message)
        self.status, self.message, self.expected = status, message, expected

    def body(self) -> dict[str, Any]:
        body = {"error": self.message}
        if self.expected:
            body["expected"] = self.expected
        return body


@dataclass
class Decoded:
    observations: np.ndarray  # (batch, *observation shape)
    style: str  # "single", "list", "instances", "rllib", "jsonlines", "csv"
    action_masks: np.ndarray | None = None


def media_type(header: str | None) -> str:
    base = (header or JSON).split(";")[0].strip().lower()
    if base not in CONTENT_TYPES:
        raise RequestError(415, f"Unsupported content type {header!r}.",
                           "application/json, application/jsonlines or text/csv")
    return CONTENT_TYPES[base]


def decode(body: bytes, content_type: str | None, shape: tuple[int, ...]) -> Decoded:
    kind = media_type(content_type)
    expected = f"observations of shape {list(shape)}: numbers"
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise RequestError(400, "The body is not UTF-8 text.", expected) from None
    # NumPy would read JSON's true/false as 1/0: look for them only when the body has such a literal
    booleans = b"true" in body or b"false" in body
    if kind == CSV:
        rows = [row for row in csv.reader(io.StringIO(text)) if row]
        try:
            values = [[float(v) for v in row] for row in rows]
        except ValueError as exc:
            raise RequestError(400, f"CSV holds a value that is not a number: {exc}.", "one observation per row") from None
        return Decoded(_array(values, shape, batched=True), "csv")
    if kind == JSONLINES:
        lines = [line for line in text.splitlines() if line.strip()]
        return Decoded(_array([_loads(line) for line in lines], shape, True, booleans), "jsonlines")
    data = _loads(body)
    if isinstance(data, dict):
        if "instances" in data:
            return Decoded(_array(data["instances"], shape, True, booleans), "instances")
        inputs = data.get("inputs")
        if isinstance(inputs, dict) and "observations" in inputs:
            masks = inputs.get("action_mask")
            return Decoded(_array(inputs["observations"], shape, True, booleans), "rllib",
                           None if masks is None else _masks(masks))
        raise RequestError(400, f"A JSON object must hold 'instances' or 'inputs.observations'; got keys {sorted(data)}.",
                           '{"instances": [obs, ...]} or {"inputs": {"observations": [obs, ...]}}')
    array = _array(data, shape, None, booleans)
    single = array.ndim == len(shape)
    return Decoded(array[None] if single else array, "single" if single else "list")


def _loads(text: str | bytes) -> Any:
    try:
        return orjson.loads(text)  # strict JSON: NaN and Infinity are refused
    except (orjson.JSONDecodeError, RecursionError) as exc:
        raise RequestError(400, f"The body is not valid JSON: {exc}.", "a JSON observation, list or object") from None


def _array(values: Any, shape: tuple[int, ...], batched: bool | None, booleans: bool = True) -> np.ndarray:
    expected = f"observations of shape {list(shape)} (numbers)"
    if not isinstance(values, list) or not values:
        raise RequestError(400, "Expected a non-empty list of observations." if batched else
                           f"Expected an observation (a list of shape {list(shape)}) or a non-empty list of them.",
                           expected)
    if booleans and any(isinstance(v, bool) for v in _leaves(values)):
        raise RequestError(400, "Observations hold numbers, not booleans.", expected)
    try:
        array = np.asarray(values, dtype=np.float64)
    except (ValueError, TypeError, OverflowError):
        raise RequestError(400, "Observations must be (nested) lists of numbers of the same shape.", expected) from None
    if array.shape == shape and batched is None:
        pass
    elif array.ndim != len(shape) + 1 or array.shape[1:] != shape:
        got = list(array.shape[1:]) if array.ndim > len(shape) else list(array.shape)
        raise RequestError(400, f"Observation shape {got} does not match the policy's {list(shape)}.", expected)
    if not np.all(np.isfinite(array)):
        raise RequestError(400, "Observations must be finite numbers (no NaN or infinity).", expected)
    return array


def _leaves(values):
    stack = [values]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        else:
            yield item


def _masks(values: Any) -> np.ndarray:
    try:
        return np.asarray(values, dtype=np.float32)
    except (ValueError, TypeError):
        raise RequestError(400, "inputs.action_mask must be lists of 0/1 or booleans.", "one mask row per observation") from None


ANSWER_KEYS = ("action", "probabilities", "mean", "std", "q_values", "value")
_NUMPY = orjson.OPT_SERIALIZE_NUMPY


def answer_columns(outputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Each output the answer carries, one row per observation (a value head's ``(1,)`` becomes a number)."""
    columns = {}
    for name in ANSWER_KEYS:
        if name in outputs:
            values = np.ascontiguousarray(outputs[name])
            if values.ndim == 2 and values.shape[1] == 1 and values.dtype.kind == "f":
                values = np.ascontiguousarray(values[:, 0])
            columns[name] = values
    return columns


def _row_texts(values: np.ndarray) -> list[bytes]:
    """Each row of an output as JSON text, written by orjson from the array (float32 in its shortest form)."""
    text = orjson.dumps(values, option=_NUMPY)
    if len(values) == 0:
        return []
    if values.ndim == 1:
        return text[1:-1].split(b",")
    return [b"[" + row + b"]" for row in text[2:-2].split(b"],[")]


def answer_rows(outputs: dict[str, np.ndarray]) -> list[bytes]:
    """One JSON object per observation, as bytes: ``{"action": ..., "probabilities": [...], "value": ...}``."""
    columns = answer_columns(outputs)
    template = b"{" + b",".join(b'"' + name.encode() + b'":%b' for name in columns) + b"}"
    return [template % row for row in zip(*(_row_texts(values) for values in columns.values()))]


#: How an endpoint answers JSON observations: rlops's objects; TensorFlow Serving's ``{"predictions": [...]}`` of
#: the policy head's output; Coach-MXNet's list of network outputs, ``[value, action probabilities]``.
ANSWER_FORMATS = ("rlops", "tensorflow", "mxnet")


def _policy_output(columns: dict[str, np.ndarray]) -> np.ndarray:
    """What a framework's policy network returned: the action probabilities, Q-values, or the action itself."""
    return next(columns[name] for name in ("probabilities", "q_values", "action") if name in columns)


def encode_framework(outputs: dict[str, np.ndarray], style: str, answer_format: str) -> bytes:
    """A TensorFlow-Serving or Coach-MXNet answer: a bare observation gets one row, a list of them a batch."""
    columns = answer_columns(outputs)
    single = style == "single"
    if answer_format == "tensorflow":
        return orjson.dumps({"predictions": _policy_output(columns)}, option=_NUMPY)
    parts = ([columns["value"]] if "value" in columns else []) + [_policy_output(columns)]
    if single:  # [[value], [p0, p1, ...]]: what `value, action = predictor.predict(obs)` unpacks
        parts = [part[0] if part.ndim > 1 else part[:1] for part in parts]
    return orjson.dumps(parts, option=_NUMPY)


def encode(outputs: dict[str, np.ndarray], style: str, answer_format: str = "rlops") -> tuple[bytes, str]:
    """The response body and its content type, in the style of the request (NaN is written as null)."""
    if answer_format != "rlops" and style in ("single", "list", "instances"):
        return encode_framework(outputs, style, answer_format), JSON
    if style == "rllib":
        renamed = {"action": "actions_0", "probabilities": "action_prob", "value": "vf_preds"}
        columns = {renamed.get(k, k): v for k, v in answer_columns(outputs).items()}
        return orjson.dumps({"outputs": columns}, option=_NUMPY), JSON
    rows = answer_rows(outputs)
    if style == "jsonlines":
        return b"\n".join(rows) + b"\n", JSONLINES
    if style == "single":
        return rows[0], JSON
    return b'{"predictions":[' + b",".join(rows) + b"]}", JSON
