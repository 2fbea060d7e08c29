"""``Transformer``: batch inference with a trained policy (SageMaker's ``sagemaker.transformer``).

>>> transformer = estimator.transformer(instance_count=1, instance_type="local",          # doctest: +SKIP
...                                     output_path="file:///tmp/answers")
>>> transformer.transform("file:///tmp/obs.jsonl", join_source="Input")                   # doctest: +SKIP
>>> transformer.output_files                                                               # doctest: +SKIP
['/tmp/answers/obs.jsonl.out']
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rlops.exceptions import UsageError
from rlops.session import Session
from rlops.storage import resolve_uri
from rlops.storage.remote import publish


class Transformer:
    """Answers every observation of a file (JSON lines or CSV) into ``<output_path>/<file>.out``, in order."""

    def __init__(self, model_data: str, instance_count: int = 1, instance_type: str = "local",
                 output_path: str | None = None, sagemaker_session: Session | None = None, **_ignored: Any):
        self.model_data = model_data
        self.sagemaker_session = sagemaker_session or Session()
        self.output_path = output_path
        self.output_files: list[str] = []

    def transform(self, data: str, content_type: str | None = None, split_type: str | None = "Line",
                  join_source: str | None = None, wait: bool = True, **_ignored: Any) -> None:
        """``data``: a file, a ``file://`` URI, or a folder (every ``.jsonl``/``.json``/``.csv`` file in it)."""
        if join_source not in (None, "None", "Input"):
            raise UsageError(f"join_source must be None or 'Input'; got {join_source!r}.")
        source = resolve_uri(data, "transform input", fetch=True)
        files = sorted(p for p in source.iterdir() if p.suffix in (".jsonl", ".json", ".csv")) if source.is_dir() else [source]
        if not files or not all(f.is_file() for f in files):
            raise UsageError(f"No input to transform at {data!r}: give a .jsonl or .csv file, or a folder of them.")
        target = resolve_uri(self.output_path, "output_path") if self.output_path else files[0].parent
        service = self.sagemaker_session.service
        self.output_files = []
        for file in files:
            out = Path(target) / f"{file.name}.out"
            service.transform(self.model_data, file, out, join_source == "Input")
            self.output_files.append(str(out))
            publish(out)  # to the user's S3 endpoint, when the output path is there
