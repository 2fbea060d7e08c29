"""``TensorFlowModel``: SageMaker's ``sagemaker.tensorflow.model.TensorFlowModel``, serving an rlops job's portable policy.

``framework_version``, ``py_version``, ``role`` and the like are accepted and mean nothing here: the
endpoint runs ONNX Runtime on the job's ``policy.onnx``, answering in TensorFlow Serving's shape ({"predictions": [...]}) (see :class:`rlops.model.Model`).
"""

from __future__ import annotations

from rlops.model import Model


class TensorFlowModel(Model):
    answer_format = "tensorflow"

    def __init__(self, model_data: str, role: str | None = None, entry_point: str | None = None,
                 framework_version: str | None = None, py_version: str | None = None, **kwargs):
        super().__init__(model_data, role=role, entry_point=entry_point, **kwargs)
        self.framework_version, self.py_version = framework_version, py_version
