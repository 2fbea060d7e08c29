"""``Predictor``: calls an endpoint (SageMaker's ``sagemaker.predictor``).

>>> predictor = Predictor("my-endpoint")                     # doctest: +SKIP
>>> predictor.predict([0.0, 0.0, 2.0, 2.0])                  # doctest: +SKIP
{'action': 1, 'probabilities': [0.2, 0.8], 'value': 12.3}
"""

from __future__ import annotations

import json
from typing import Any

from rlops.contract import jsonable
from rlops.exceptions import PredictionError, UsageError
from rlops.session import Session

__all__ = ["PredictionError", "Predictor"]


class Predictor:
    """Sends observations to an endpoint as JSON and returns the parsed answer."""

    def __init__(self, endpoint_name: str, sagemaker_session: Session | None = None, serializer=None,
                 deserializer=None, **_ignored):
        self.endpoint_name = endpoint_name
        self.sagemaker_session = sagemaker_session or Session()
        #: The event id of the last invocation the endpoint captured (None when it was not captured).
        self.last_event_id: str | None = None

    @property
    def _endpoints(self):
        return self.sagemaker_session.service.endpoints

    @property
    def url(self) -> str:
        return self._endpoints.describe(self.endpoint_name).url

    def predict(self, data: Any, initial_args: dict | None = None, target_model: str | None = None,
                target_variant: str | None = None, inference_id: str | None = None,
                custom_attributes: str | None = None) -> Any:
        """``data``: an observation, a list of them, a NumPy array, or a dict (``{"instances": ...}``).

        On an endpoint with data capture, ``inference_id`` becomes the captured event's id (else the endpoint makes
        one: ``last_event_id``) and ``custom_attributes`` is kept with it (e.g. ``"episode=12"``)."""
        headers = {name: value for name, value in (("X-Amzn-SageMaker-Inference-Id", inference_id),
                                                   ("X-Amzn-SageMaker-Custom-Attributes", custom_attributes)) if value}
        answer, received = self._endpoints.call(self.endpoint_name, "/invocations", json.dumps(jsonable(data)).encode(),
                                                "application/json", headers)
        self.last_event_id = received.get("x-rlops-event-id")
        return json.loads(answer)

    def report_reward(self, event_id: str, reward: float, done: bool | None = None) -> None:
        """Record the reward that followed a captured invocation (and whether the episode ended there), for
        ``rlops datasets from-capture`` to join with the captured traffic."""
        body = json.dumps({"eventId": event_id, "reward": float(reward), "done": done}).encode()
        try:
            self._endpoints.call(self.endpoint_name, "/rewards", body)
        except PredictionError as exc:
            if exc.status == 404:
                raise UsageError(f"Endpoint {self.endpoint_name!r} has no data capture, so it cannot record rewards: "
                                 "deploy it with data_capture_config=DataCaptureConfig(...).") from None
            raise

    def delete_endpoint(self, delete_endpoint_config: bool = True) -> None:
        self._endpoints.delete(self.endpoint_name)

    def delete_model(self) -> None:
        """SageMaker deleted the model resource behind the endpoint; rlops keeps none apart from the endpoint's own
        copy of the policy, which ``delete_endpoint()`` removes. Accepted so notebooks run unchanged."""

    def __repr__(self) -> str:
        return f"Predictor({self.endpoint_name!r})"
