"""``Model``: a trained policy that can be deployed to an endpoint (SageMaker's ``sagemaker.model``)."""

from __future__ import annotations

from typing import Any

from rlops.contract import unique_name, validate_name
from rlops.exceptions import UsageError
from rlops.predictor import Predictor
from rlops.session import Session


class Model:
    """A ``model.tar.gz`` (or model folder) of an rlops job; any SB3 policy of rlops deploys.

    >>> predictor = Model(model_data="file:///.../model.tar.gz").deploy(1, "local")   # doctest: +SKIP
    """

    def __init__(self, model_data: str, role: str | None = None, image_uri: str | None = None,
                 sagemaker_session: Session | None = None, name: str | None = None, **_ignored: Any):
        self.model_data = model_data
        self.sagemaker_session = sagemaker_session or Session()
        self.name = name
        self.endpoint_name: str | None = None

    def deploy(self, initial_instance_count: int = 1, instance_type: str = "local", endpoint_name: str | None = None,
               wait: bool = True, **_ignored: Any) -> Predictor:
        """Start an endpoint serving this model on 127.0.0.1; ``initial_instance_count`` workers share its port."""
        if not isinstance(initial_instance_count, int) or initial_instance_count < 1:
            raise UsageError(f"initial_instance_count must be a positive integer; got {initial_instance_count!r}.")
        name = validate_name(endpoint_name, "endpoint") if endpoint_name else unique_name(self.name or "rlops-endpoint")
        self.sagemaker_session.service.endpoints.create(name, self.model_data, workers=initial_instance_count, wait=wait)
        self.endpoint_name = name
        return Predictor(name, self.sagemaker_session)
