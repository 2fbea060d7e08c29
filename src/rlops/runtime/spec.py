"""What a training job is asked to do: the one record the SDK hands to the runtime.

The SDK builds a :class:`JobSpec` (validated, paths absolute); the store keeps it as JSON; the
supervisor runs it. Nothing here knows about estimators.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rlops.contract import user_hyperparameters

#: The one group of a job without instance groups, as SageMaker names it.
HOMOGENEOUS = "homogeneousCluster"


@dataclass
class Channel:
    """One input channel: a folder, a file or a ``.tar.gz``, given as a path or ``file://`` URI."""

    uri: str
    content_type: str | None = None
    input_mode: str = "File"


@dataclass
class JobSpec:
    name: str
    entry_point: str  # path of the entry point relative to the code folder
    source_dir: str  # absolute folder copied to ``code/``
    python: str  # interpreter that runs a Python entry point
    output_path: str  # absolute folder: artifacts land in <output_path>/<name>/output/ (see ``output_dir``)
    hyperparameters: dict[str, str] = field(default_factory=dict)  # JSON-encoded, as the SDK sends them
    channels: dict[str, Channel] = field(default_factory=dict)
    dependencies: list[str] = field(default_factory=list)
    environment: dict[str, str] = field(default_factory=dict)
    metric_definitions: list[dict[str, str]] = field(default_factory=list)
    instance_count: int = 1
    instance_type: str = "local"
    #: Heterogeneous clusters: ``[{"instance_group_name", "instance_type", "instance_count"}, ...]``; the counts
    #: add up to ``instance_count``, and ``instance_type`` is the first group's.
    instance_groups: list[dict[str, Any]] = field(default_factory=list)
    #: The Ray cluster (its Jobs API address) a job with ``instance_type="ray"`` is submitted to.
    ray_address: str | None = None
    #: ``"cloud"``: artifacts in ``<output_path>/<name>/output/``; ``"local"``: in ``<output_path>/<name>/``, where
    #: SageMaker's local mode puts them for an ``s3://`` output path (SPEC section 7).
    output_layout: str = "cloud"
    max_run: int = 86400
    #: Spot-style training (SageMaker's ``use_spot_instances``): an interrupted job resumes from its checkpoints
    #: until it completes or ``max_wait`` seconds (training and waiting) have passed since it started.
    use_spot: bool = False
    max_wait: int | None = None
    stop_grace_s: float = 10.0
    checkpoint_uri: str | None = None
    checkpoint_local_path: str | None = None
    toolkit: str | None = None
    toolkit_version: str | None = None
    framework: str | None = None
    log_level: int = 20

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "JobSpec":
        data = dict(data)
        data["channels"] = {name: Channel(**c) for name, c in data.get("channels", {}).items()}
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    @property
    def hosts(self) -> list[str]:
        return [f"algo-{i}" for i in range(1, self.instance_count + 1)]

    def groups(self) -> list[dict[str, Any]]:
        """Every instance group with its hosts (SPEC section 7): one ``homogeneousCluster`` without groups."""
        if not self.instance_groups:
            return [{"instance_group_name": HOMOGENEOUS, "instance_type": self.instance_type, "hosts": self.hosts}]
        groups, first = [], 1
        for group in self.instance_groups:
            count = group["instance_count"]
            groups.append({"instance_group_name": group["instance_group_name"], "instance_type": group["instance_type"],
                           "hosts": [f"algo-{i}" for i in range(first, first + count)]})
            first += count
        return groups

    def group_of(self, host: str) -> dict[str, Any]:
        return next(g for g in self.groups() if host in g["hosts"])

    def user_hyperparameters(self) -> dict[str, Any]:
        """Decoded hyperparameters without the reserved ``sagemaker_*`` keys."""
        return user_hyperparameters(self.hyperparameters)

    @property
    def output_dir(self) -> Path:
        """Where the job's artifacts land: ``<output_path>/<name>/output/``, or ``<output_path>/<name>/`` in the
        local-mode layout."""
        folder = Path(self.output_path) / self.name
        return folder if self.output_layout == "local" else folder / "output"

    @property
    def intermediate_dir(self) -> Path:
        """Where ``output/intermediate/`` is copied while the job runs: ``<output_path>/<name>/output/intermediate/``
        in both layouts, where SageMaker's notebooks look for it."""
        return Path(self.output_path) / self.name / "output" / "intermediate"

    @property
    def model_archive(self) -> Path:
        """The job's ``model.tar.gz`` (written when the job ends)."""
        return self.output_dir / "model.tar.gz"


@dataclass
class TuningSpec:
    """What a hyperparameter tuning job is asked to do (SageMaker's ``HyperParameterTuningJobConfig`` and
    ``TrainingJobDefinition``): the store keeps it as JSON and the tuner process runs it.

    ``parameter_ranges`` is SageMaker's ``ParameterRanges`` (``ContinuousParameterRanges``,
    ``IntegerParameterRanges``, ``CategoricalParameterRanges``), with JSON values rather than strings so that
    every value keeps its type and precision. ``job`` is the training jobs' spec, trial names and tuned values
    aside.
    """

    name: str
    job: dict[str, Any]  # a JobSpec's dict
    objective_metric: str
    objective_type: str  # Maximize or Minimize
    parameter_ranges: dict[str, list[dict[str, Any]]]
    strategy: str = "Bayesian"  # Bayesian, Random, Grid, Hyperband
    max_jobs: int = 1
    max_parallel_jobs: int = 1
    early_stopping_type: str = "Off"  # Off or Auto
    random_seed: int | None = None
    #: Hyperband's resources (SageMaker's HyperbandStrategyConfig): a job's nth objective data point is resource n.
    min_resource: int = 1
    max_resource: int | None = None
    #: ``{"WarmStartType": ..., "ParentHyperParameterTuningJobs": [names]}`` or None.
    warm_start: dict[str, Any] | None = None
    #: Stop the search (and its running jobs) after this many seconds (SageMaker's max_runtime_in_seconds).
    max_runtime: float | None = None
    #: The estimator class that ``HyperparameterTuner.attach`` rebuilds (``module:qualname``).
    estimator_class: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TuningSpec":
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def job_spec(self) -> JobSpec:
        return JobSpec.from_dict(self.job)

    def tuned_names(self) -> list[str]:
        return [r["Name"] for ranges in self.parameter_ranges.values() for r in ranges]
