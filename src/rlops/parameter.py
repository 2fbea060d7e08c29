"""Ranges of hyperparameter values to tune (SageMaker's ``sagemaker.parameter``).

``ContinuousParameter``, ``IntegerParameter`` and ``CategoricalParameter`` hold a range, check it
(naming the hyperparameter and the rule it breaks) and give SageMaker's API form with JSON values,
so every value keeps its type and precision. :mod:`rlops.tuner` re-exports them, as SageMaker's
``sagemaker.tuner`` does.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

from rlops.contract import encode_hyperparameters
from rlops.exceptions import UsageError, did_you_mean

SCALING_TYPES = ("Auto", "Linear", "Logarithmic", "ReverseLogarithmic")


class ParameterRange:
    """A range of values for one hyperparameter (SageMaker's ``sagemaker.parameter.ParameterRange``)."""

    __all_types__ = ("Continuous", "Categorical", "Integer")
    kind: str

    def __init__(self, min_value: Any, max_value: Any, scaling_type: str = "Auto"):
        self.min_value = min_value
        self.max_value = max_value
        self.scaling_type = scaling_type

    def as_tuning_range(self, name: str) -> dict[str, Any]:
        """SageMaker's API form, with numbers kept as numbers (SageMaker sends strings)."""
        return {"Name": name, "MinValue": self.min_value, "MaxValue": self.max_value, "ScalingType": self.scaling_type}

    def check(self, name: str) -> None:
        """Refuse a range that cannot be searched, naming the hyperparameter and the rule."""
        what = f"The range of {name!r} ({self!r})"
        for bound in (self.min_value, self.max_value):
            if not self._is_number(bound):
                raise UsageError(f"{what}: its bounds must be {self._number_name}; got {bound!r}.")
        if self.scaling_type not in SCALING_TYPES:
            raise UsageError(f"{what}: unknown scaling_type {self.scaling_type!r}; accepted: {', '.join(SCALING_TYPES)}."
                             f"{did_you_mean(self.scaling_type, SCALING_TYPES)}")
        if self.min_value > self.max_value:
            raise UsageError(f"{what}: min_value {self.min_value!r} is above max_value {self.max_value!r}; the rule is "
                             "min_value <= max_value.")
        if self.scaling_type == "Logarithmic" and self.min_value <= 0:
            raise UsageError(f"{what}: Logarithmic scaling needs values above zero; min_value is {self.min_value!r}. "
                             "Use Linear scaling, or a min_value above 0.")

    _number_name = "numbers"

    @staticmethod
    def _is_number(value: Any) -> bool:
        return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.min_value!r}, {self.max_value!r}, scaling_type={self.scaling_type!r})"


class ContinuousParameter(ParameterRange):
    """Floats between ``min_value`` and ``max_value``; ``scaling_type`` ``Auto`` (searched linearly), ``Linear``,
    ``Logarithmic`` (values above 0) or ``ReverseLogarithmic`` (values in [0, 1): near 1 searched finely)."""

    kind = "Continuous"

    def check(self, name: str) -> None:
        super().check(name)
        if self.scaling_type == "ReverseLogarithmic" and not (0 <= self.min_value and self.max_value < 1):
            raise UsageError(f"The range of {name!r} ({self!r}): ReverseLogarithmic scaling needs 0 <= min_value and "
                             f"max_value < 1; got {self.min_value!r} to {self.max_value!r}.")


class IntegerParameter(ParameterRange):
    """Integers from ``min_value`` to ``max_value`` inclusive; ``scaling_type`` ``Auto``, ``Linear`` or
    ``Logarithmic``."""

    kind = "Integer"
    _number_name = "integers"

    @staticmethod
    def _is_number(value: Any) -> bool:
        return isinstance(value, numbers.Integral) and not isinstance(value, bool)

    def check(self, name: str) -> None:
        super().check(name)
        if self.scaling_type == "ReverseLogarithmic":
            raise UsageError(f"The range of {name!r} ({self!r}): ReverseLogarithmic scaling is for ContinuousParameter "
                             "ranges only, as in SageMaker; use Linear or Logarithmic.")


class CategoricalParameter(ParameterRange):
    """One of ``values``; each reaches the job with its JSON type (numbers stay numbers, lists stay lists)."""

    kind = "Categorical"

    def __init__(self, values: Any):
        self.values = list(values) if isinstance(values, (list, tuple)) else [values]

    def as_tuning_range(self, name: str) -> dict[str, Any]:
        return {"Name": name, "Values": list(self.values)}

    def check(self, name: str) -> None:
        if not self.values:
            raise UsageError(f"The range of {name!r} is a CategoricalParameter with no values; give at least one.")
        encoded = [encode_hyperparameters({name: v})[name] for v in self.values]
        if len(set(encoded)) != len(encoded):
            raise UsageError(f"The range of {name!r} ({self!r}) lists a value twice; each value may appear once.")

    def __repr__(self) -> str:
        return f"CategoricalParameter({self.values!r})"


RANGE_KEYS = {"Continuous": "ContinuousParameterRanges", "Integer": "IntegerParameterRanges",
               "Categorical": "CategoricalParameterRanges"}


def range_from_api(kind: str, data: dict[str, Any]) -> ParameterRange:
    if kind == "Categorical":
        return CategoricalParameter(data["Values"])
    cls = ContinuousParameter if kind == "Continuous" else IntegerParameter
    return cls(data["MinValue"], data["MaxValue"], data.get("ScalingType", "Auto"))
