"""``Predictor``: calls an endpoint (SageMaker's ``sagemaker.predictor``).

>>> predictor = Predictor("my-endpoint")                     # doctest: +SKIP
>>> predictor.predict([0.0, 0.0, 2.0, 2.0])                  # doctest: +SKIP
{'action': 1, 'probabilities': [0.2, 0.8], 'value': 12.3}
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from rlops.exceptions import RlopsError
from rlops.session import Session


class PredictionError(RlopsError):
    """The endpoint refused the request (4xx) or failed (5xx); carries its JSON error."""

    def __init__(self, status: int, body: Any):
        message = body.get("error") if isinstance(body, dict) else body
        expected = body.get("expected") if isinstance(body, dict) else None
        super().__init__(f"The endpoint answered {status}: {message}" + (f" (expected: {expected})" if expected else ""))
        self.status, self.body = status, body


def _jsonable(data: Any) -> Any:
    if hasattr(data, "tolist"):  # NumPy arrays and scalars
        return data.tolist()
    if isinstance(data, dict):
        return {k: _jsonable(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [_jsonable(v) for v in data]
    return data


class Predictor:
    """Sends observations to an endpoint as JSON and returns the parsed answer."""

    def __init__(self, endpoint_name: str, sagemaker_session: Session | None = None, serializer=None,
                 deserializer=None, **_ignored):
        self.endpoint_name = endpoint_name
        self.sagemaker_session = sagemaker_session or Session()
        self._url: str | None = None

    def _endpoints(self):
        from rlops.runtime.endpoints import LocalEndpoints

        return LocalEndpoints()

    @property
    def url(self) -> str:
        if self._url is None:
            self._url = self._endpoints().describe(self.endpoint_name).url
        return self._url

    def predict(self, data: Any, initial_args: dict | None = None) -> Any:
        """``data``: an observation, a list of them, a NumPy array, or a dict (``{"instances": ...}``)."""
        body = json.dumps(_jsonable(data)).encode()
        request = urllib.request.Request(f"{self.url}/invocations", data=body,
                                         headers={"Content-Type": "application/json"}, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            payload = exc.read()
            try:
                parsed = json.loads(payload)
            except ValueError:
                parsed = payload.decode(errors="replace")
            raise PredictionError(exc.code, parsed) from None

    def delete_endpoint(self, delete_endpoint_config: bool = True) -> None:
        self._endpoints().delete(self.endpoint_name)

    def __repr__(self) -> str:
        return f"Predictor({self.endpoint_name!r})"
