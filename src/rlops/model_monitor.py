"""``DataCaptureConfig``: record what an endpoint is asked and answers (SageMaker's ``sagemaker.model_monitor``).

>>> from rlops.model_monitor import DataCaptureConfig
>>> predictor = model.deploy(1, "local", data_capture_config=DataCaptureConfig(     # doctest: +SKIP
...     enable_capture=True, sampling_percentage=100, destination_s3_uri="s3://my-bucket/capture"))

Captured invocations are JSON lines in SageMaker's capture format under
``<destination>/<endpoint>/AllTraffic/<yyyy>/<mm>/<dd>/<hh>/``; rewards reported with
``Predictor.report_reward`` go under ``<destination>/<endpoint>/Rewards/``, and
``rlops datasets from-capture ENDPOINT`` joins the two into a dataset for batch RL.
"""

from __future__ import annotations

from typing import Any, Iterable

from rlops.exceptions import UsageError

CAPTURE_OPTIONS = ("REQUEST", "RESPONSE")


class DataCaptureConfig:
    def __init__(self, enable_capture: bool = True, sampling_percentage: float = 20,
                 destination_s3_uri: str | None = None, kms_key_id: str | None = None,
                 capture_options: Iterable[str] | None = None, csv_content_types: Any = None,
                 json_content_types: Any = None, sagemaker_session: Any = None):
        if not isinstance(sampling_percentage, (int, float)) or isinstance(sampling_percentage, bool) or not (
                0 <= sampling_percentage <= 100):
            raise UsageError(f"sampling_percentage is a percentage from 0 to 100; got {sampling_percentage!r}.")
        options = [o.upper() for o in (capture_options or CAPTURE_OPTIONS)]
        unknown = [o for o in options if o not in CAPTURE_OPTIONS]
        if unknown:
            raise UsageError(f"Unknown capture option {unknown[0]!r}; accepted: {', '.join(CAPTURE_OPTIONS)}.")
        self.enable_capture = bool(enable_capture)
        self.sampling_percentage = float(sampling_percentage)
        self.destination_s3_uri = destination_s3_uri
        self.kms_key_id = kms_key_id
        self.capture_options = options
        self.csv_content_types = csv_content_types
        self.json_content_types = json_content_types

    def settings(self, default_destination: str) -> dict:
        """What the endpoint's server is given: where, how much, and which sides to keep."""
        return {"destination": self.destination_s3_uri or default_destination, "percentage": self.sampling_percentage,
                "input": "REQUEST" in self.capture_options, "output": "RESPONSE" in self.capture_options}

    def __repr__(self) -> str:
        return (f"DataCaptureConfig(enable_capture={self.enable_capture}, sampling_percentage={self.sampling_percentage:g}, "
                f"destination_s3_uri={self.destination_s3_uri!r})")
