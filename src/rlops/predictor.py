"""``Predictor``: calls an endpoint (SageMaker's ``sagemaker.predictor``).

>>> predictor = Predictor("my-endpoint")                     # doctest: +SKIP
>>> predictor.predict([0.0, 0.0, 2.0, 2.0])                  # doctest: +SKIP
{'action': 1, 'probabilities': [0.2, 0.8], 'value': 12.3}
"""

from __future__ import annotations

import json
from typing import Any

from rlops.contract import jsonable
from rlops.exceptions import PredictionError
from rlops.session import Session

__all__ = ["PredictionError", "Predictor"]


class Predictor:
    """Sends observations to an endpoint as JSON and returns the parsed answer."""

    def __init__(self, endpoint_name: str, sagemaker_session: Session | None = None, serializer=None,
                 deserializer=None, **_ignored):
        self.endpoint_name = endpoint_name
        self.sagemaker_session = sagemaker_session or Session()

    @property
    def _endpoints(self):
        return self.sagemaker_session.service.endpoints

    @property
    def url(self) -> str:
        return self._endpoints.describe(self.endpoint_name).url

    def predict(self, data: Any, initial_args: dict | None = None) -> Any:
        """``data``: an observation, a list of them, a NumPy array, or a dict (``{"instances": ...}``)."""
        answer = self._endpoints.invoke(self.endpoint_name, json.dumps(jsonable(data)).encode(), "application/json")
        return json.loads(answer)

    def delete_endpoint(self, delete_endpoint_config: bool = True) -> None:
        self._endpoints.delete(self.endpoint_name)

    def delete_model(self) -> None:
        """SageMaker deleted the model resource behind the endpoint; rlops keeps none apart from the endpoint's own
        copy of the policy, which ``delete_endpoint()`` removes. Accepted so notebooks run unchanged."""

    def __repr__(self) -> str:
        return f"Predictor({self.endpoint_name!r})"
