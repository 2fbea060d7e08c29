"""The estimator: validate what a notebook asks for, turn it into a job spec, run and follow it.

:class:`Framework` holds everything that is not specific to RL (keywords, channels, job names,
hyperparameters, ``fit``/``attach``); :class:`rlops.rl.RLEstimator` adds toolkits on top.
Every check runs before anything is written, so bad input leaves nothing behind.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

from rlops.contract import (
    encode_hyperparameters, reserved_hyperparameters, unique_name, validate_channel_name, validate_name,
)
from rlops.exceptions import AlreadyExists, UsageError, did_you_mean
from rlops.inputs import TrainingInput
from rlops.runtime.metrics import compile_definitions
from rlops.runtime.ray_jobs import cluster_address, is_ray_instance
from rlops.runtime.spec import Channel, JobSpec
from rlops.session import Session
from rlops.settings import DEFAULT_BUCKET
from rlops.storage import resolve_uri
from rlops.training_job import TrainingJob, stream_logs

V1_ALIASES = {
    "train_instance_type": "instance_type",
    "train_instance_count": "instance_count",
    "train_max_run": "max_run",
    "train_use_spot_instances": "use_spot_instances",
    "train_max_wait": "max_wait",
    "train_volume_size": "volume_size",
    "image_name": "image_uri",
}
#: SageMaker keywords that mean nothing on a local machine: accepted so notebooks run unchanged.
ACCEPTED_UNUSED = {
    "role", "volume_size", "volume_kms_key", "output_kms_key", "subnets", "security_group_ids", "tags",
    "model_uri", "model_channel_name", "enable_network_isolation", "encrypt_inter_container_traffic",
    "debugger_hook_config", "tensorboard_output_config", "profiler_config", "disable_profiler",
    "enable_sagemaker_metrics", "rules", "max_retry_attempts",
    "code_location", "git_config", "container_log_level", "framework_version", "py_version",
    "input_mode", "keep_alive_period_in_seconds", "training_repository_access_mode",
    "disable_output_compression", "max_wait_time",
}
LOCAL_INSTANCE_TYPES = ("local", "local_gpu")
log = logging.getLogger("rlops")
_NOTICED: set[str] = set()  # SageMaker instance types already noticed in this process


def resolve_python(image_uri: str | None) -> str:
    """The interpreter ``image_uri`` names: a Python executable or a virtual environment's folder."""
    if not image_uri:
        return sys.executable
    path = Path(image_uri).expanduser()
    candidate = path / "bin" / "python" if path.is_dir() else path
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return str(candidate.absolute())
    raise UsageError(
        f"image_uri {image_uri!r} is not a Python interpreter or a virtual environment folder here. "
        "In rlops image_uri names the Python environment a job runs in (e.g. '/opt/venvs/rl/bin/python' or "
        "'/opt/venvs/rl'), the way a container image did on SageMaker; leave it out to use rlops's own."
    )


class Framework:
    """The SageMaker estimator surface shared by every rlops estimator."""

    _default_base_name = "rlops"

    def __init__(self, entry_point: str | None, source_dir: str | None = None,
                 hyperparameters: dict[str, Any] | None = None, image_uri: str | None = None,
                 metric_definitions: list[dict[str, str]] | None = None, instance_count: int | None = None,
                 instance_type: str | None = None, instance_groups: list[Any] | None = None, output_path: str | None = None, base_job_name: str | None = None,
                 dependencies: list[str] | None = None, environment: dict[str, str] | None = None,
                 max_run: int = 86400, checkpoint_s3_uri: str | None = None, checkpoint_uri: str | None = None,
                 checkpoint_local_path: str | None = None, sagemaker_session: Session | None = None,
                 stop_grace_period: float = 10.0, use_spot_instances: bool = False, max_wait: int | None = None,
                 **kwargs: Any):
        for old, new in V1_ALIASES.items():  # renamed before anything is validated
            if old in kwargs:
                kwargs.setdefault(new, kwargs.pop(old))
        unknown = sorted(set(kwargs) - ACCEPTED_UNUSED - set(V1_ALIASES.values()))
        if unknown:
            allowed = sorted(set(_framework_params()) | ACCEPTED_UNUSED | set(V1_ALIASES))
            raise UsageError(f"{type(self).__name__} got an unexpected keyword {unknown[0]!r}."
                             f"{did_you_mean(unknown[0], allowed)}")
        instance_count = kwargs.pop("instance_count", instance_count)
        instance_type = kwargs.pop("instance_type", instance_type)
        groups = None
        if instance_groups is not None:  # SageMaker: groups replace instance_count and instance_type
            from rlops.instance_group import group_specs

            if instance_count is not None or instance_type is not None:
                raise UsageError("Give either instance_groups or instance_count/instance_type, not both (got "
                                 f"instance_count={instance_count!r}, instance_type={instance_type!r} with "
                                 "instance_groups): each group names its own type and count.")
            groups = group_specs(instance_groups)
            instance_count = sum(g["instance_count"] for g in groups)
            instance_type = groups[0]["instance_type"]
        self._assign(
            entry_point=entry_point, source_dir=source_dir, hyperparameters=hyperparameters,
            image_uri=kwargs.pop("image_uri", image_uri), metric_definitions=metric_definitions,
            instance_count=1 if instance_count is None else instance_count,
            instance_type="local" if instance_type is None else instance_type, instance_groups=groups,
            output_path=output_path,
            base_job_name=base_job_name, dependencies=dependencies, environment=environment,
            max_run=kwargs.pop("max_run", max_run), checkpoint_uri=checkpoint_uri or checkpoint_s3_uri,
            checkpoint_local_path=checkpoint_local_path, sagemaker_session=sagemaker_session,
            stop_grace_period=stop_grace_period, use_spot_instances=kwargs.pop("use_spot_instances", use_spot_instances),
            max_wait=kwargs.pop("max_wait", max_wait),
        )
        self.unused_kwargs = kwargs
        self._validate_settings()

    def _assign(self, *, entry_point, source_dir, hyperparameters, image_uri, metric_definitions, instance_count,
                instance_type, instance_groups, output_path, base_job_name, dependencies, environment, max_run, checkpoint_uri,
                checkpoint_local_path, sagemaker_session, stop_grace_period, use_spot_instances=False,
                max_wait=None) -> None:
        self.sagemaker_session = sagemaker_session or Session()
        self.entry_point = entry_point
        self.source_dir = source_dir
        self._hyperparameters = dict(hyperparameters or {})
        self.image_uri = image_uri
        self.metric_definitions = metric_definitions
        self.instance_count = instance_count
        self.instance_type = instance_type
        self.instance_groups = instance_groups  # validated group specs, or None
        self.output_path = output_path
        self.base_job_name = base_job_name
        self.dependencies = list(dependencies or [])
        self.environment = dict(environment or {})
        self.max_run = max_run
        self.checkpoint_uri = self.checkpoint_s3_uri = checkpoint_uri
        self.checkpoint_local_path = checkpoint_local_path
        self.stop_grace_period = stop_grace_period
        self.use_spot_instances = use_spot_instances
        self.max_wait = max_wait
        self.unused_kwargs: dict[str, Any] = {}
        self.latest_training_job: TrainingJob | None = None
        self._current_job_name: str | None = None

    # -- validation ---------------------------------------------------------------------------

    def _validate_settings(self) -> None:
        if not isinstance(self.instance_count, int) or isinstance(self.instance_count, bool) or self.instance_count < 1:
            raise UsageError(f"instance_count must be a positive integer; got {self.instance_count!r}.")
        if not isinstance(self.instance_type, str) or not self.instance_type:
            raise UsageError(f"instance_type must be a string such as 'local' or 'local_gpu'; got {self.instance_type!r}.")
        for instance_type in {g["instance_type"] for g in self.instance_groups or []} | {self.instance_type}:
            if instance_type.startswith("ml.") and instance_type not in _NOTICED:
                _NOTICED.add(instance_type)
                log.warning("instance_type %r runs locally, on this machine (rlops has no cloud instances; "
                            "'local' or 'local_gpu' say so).", instance_type)
        if is_ray_instance(self.instance_type) and (self.instance_count > 1 or self.instance_groups):
            raise UsageError(f"A job on an existing Ray cluster (instance_type={self.instance_type!r}) runs its driver "
                             f"once; got instance_count={self.instance_count}"
                             + (" with instance_groups" if self.instance_groups else "")
                             + ": the cluster's own nodes are the instances, so leave instance_count at 1.")
        if not isinstance(self.max_run, (int, float)) or isinstance(self.max_run, bool) or self.max_run <= 0:
            raise UsageError(f"max_run must be a positive number of seconds; got {self.max_run!r}.")
        self._validate_spot()
        if self.base_job_name is not None:
            validate_name(self.base_job_name)
        encode_hyperparameters(self._hyperparameters)
        if self.metric_definitions is not None:
            compile_definitions(self.metric_definitions)
        bad_env = {k: v for k, v in self.environment.items() if not isinstance(k, str) or not isinstance(v, str)}
        if bad_env:
            raise UsageError(f"environment maps names to string values; got {bad_env!r}.")
        self._code_location()
        resolve_python(self.image_uri)
        for dependency in self.dependencies:
            if not Path(dependency).exists():
                raise UsageError(f"The dependency {dependency!r} does not exist (dependencies are folders or files "
                                 "copied beside the entry point).")
        if self.checkpoint_uri:
            resolve_uri(self.checkpoint_uri, "checkpoint_uri")
        if self.output_path:
            resolve_uri(self.output_path, "output_path")

    def _validate_spot(self) -> None:
        """SageMaker's rules for managed spot training: ``max_wait`` with it, at least ``max_run``; and a checkpoint
        location, which an interrupted job resumes from."""
        if not isinstance(self.use_spot_instances, bool):
            raise UsageError(f"use_spot_instances is True or False; got {self.use_spot_instances!r}.")
        if not self.use_spot_instances:
            if self.max_wait is not None:
                raise UsageError(f"max_wait={self.max_wait!r} is for spot-style training: set use_spot_instances=True "
                                 "too, or leave max_wait out.")
            return
        if self.max_wait is None or not isinstance(self.max_wait, (int, float)) or isinstance(self.max_wait, bool):
            raise UsageError(f"use_spot_instances=True needs max_wait, the seconds the job may take with its "
                             f"interruptions (at least max_run={self.max_run}); got {self.max_wait!r}.")
        if self.max_wait < self.max_run:
            raise UsageError(f"max_wait ({self.max_wait} s) must be at least max_run ({self.max_run} s): max_wait counts "
                             "the training time and the waiting after interruptions.")
        if not self.checkpoint_uri:
            raise UsageError("use_spot_instances=True needs checkpoint_s3_uri (or checkpoint_uri): an interrupted job "
                             "resumes from the checkpoints saved there, e.g. checkpoint_s3_uri='file:///tmp/ckpt' or "
                             "'s3://bucket/checkpoints'.")
        if is_ray_instance(self.instance_type):
            raise UsageError(f"Spot-style training runs local jobs; a job on a Ray cluster "
                             f"(instance_type={self.instance_type!r}) is resumed by the cluster, not by rlops.")

    def _code_location(self) -> tuple[Path, str]:
        """``(source folder, entry point relative to it)``, checked to exist."""
        if not self.entry_point:
            raise UsageError(f"{type(self).__name__} needs an entry_point: the training script to run.")
        if self.source_dir:
            source = resolve_uri(self.source_dir, "source_dir")
            if not source.is_dir():
                raise UsageError(f"source_dir {self.source_dir!r} is not a folder.")
            entry = source / self.entry_point
            if not entry.is_file():
                raise UsageError(f"The entry point {self.entry_point!r} is not in source_dir {str(source)!r}.")
            return source, self.entry_point
        entry = Path(self.entry_point).expanduser().resolve()
        if not entry.is_file():
            raise UsageError(f"The entry point {self.entry_point!r} does not exist (looked at {str(entry)!r}).")
        return entry.parent, entry.name

    # -- hyperparameters ----------------------------------------------------------------------

    _estimator_name: str | None = None  # sent as ``sagemaker_estimator`` when set

    def hyperparameters(self) -> dict[str, str]:
        """The hyperparameters as sent to the job: JSON-encoded, with the reserved ``sagemaker_*`` keys."""
        return {**encode_hyperparameters(self._hyperparameters),
                **reserved_hyperparameters(self._code_location()[1], self._current_job_name,
                                           estimator=self._estimator_name)}

    def set_hyperparameters(self, **kwargs: Any) -> None:
        encode_hyperparameters(kwargs)
        self._hyperparameters.update(kwargs)

    # -- running ------------------------------------------------------------------------------

    def _channels(self, inputs: Any) -> dict[str, Channel]:
        if inputs is None:
            return {}
        if not isinstance(inputs, dict):
            inputs = {"training": inputs}
        channels = {}
        for name, value in inputs.items():
            validate_channel_name(name)
            if isinstance(value, TrainingInput):
                channel = Channel(value.uri, value.content_type, value.input_mode)
            elif isinstance(value, (str, os.PathLike)):
                channel = Channel(os.fspath(value))
            else:
                raise UsageError(f"The input of channel {name!r} is a {type(value).__name__}; accepted: a path, "
                                 "a file:// URI or a TrainingInput.")
            path = resolve_uri(channel.uri, f"input of channel {name!r}", fetch=True)
            if not path.exists():
                raise UsageError(f"The input of channel {name!r} does not exist: {channel.uri!r} (looked at {str(path)!r}).")
            channel.uri = str(path)
            channels[name] = channel
        return channels

    def _metric_definitions(self) -> list[dict[str, str]]:
        return list(self.metric_definitions or [])

    def _job_spec(self, inputs: Any, job_name: str | None) -> JobSpec:
        source, entry = self._code_location()
        if job_name is not None:
            validate_name(job_name)
        name = job_name or unique_name(self.base_job_name or self._default_base_name)
        self._current_job_name = name
        output = resolve_uri(self.output_path or f"s3://{DEFAULT_BUCKET}", "output_path")  # the default bucket is made
        return JobSpec(
            name=name, entry_point=entry, source_dir=str(source), python=resolve_python(self.image_uri),
            output_path=str(output), hyperparameters=self.hyperparameters(), channels=self._channels(inputs),
            dependencies=[str(Path(d).resolve()) for d in self.dependencies] + self._extra_dependencies(),
            environment=self.environment,
            metric_definitions=self._metric_definitions(), instance_count=self.instance_count,
            instance_type=self.instance_type, instance_groups=list(self.instance_groups or []),
            output_layout=self._output_layout(),
            ray_address=self._ray_address(), max_run=self.max_run, stop_grace_s=self.stop_grace_period,
            checkpoint_uri=str(resolve_uri(self.checkpoint_uri, "checkpoint_uri")) if self.checkpoint_uri else None,
            checkpoint_local_path=self.checkpoint_local_path, use_spot=self.use_spot_instances,
            max_wait=int(self.max_wait) if self.use_spot_instances else None, **self._toolkit_fields(),
        )

    def _toolkit_fields(self) -> dict[str, Any]:
        return {}

    def _output_layout(self) -> str:
        """SageMaker's local mode put an ``s3://`` output's artifacts in ``<prefix>/<job>/``; elsewhere they go to
        ``<prefix>/<job>/output/`` (SPEC section 7)."""
        local = self.instance_type in LOCAL_INSTANCE_TYPES and str(self.output_path or "").startswith("s3://")
        return "local" if local else "cloud"

    def _ray_address(self) -> str | None:
        """The Ray cluster a ``ray`` instance type names, checked to answer; ``None`` for local jobs."""
        return cluster_address(self.instance_type) if is_ray_instance(self.instance_type) else None

    def _extra_dependencies(self) -> list[str]:
        return []

    def fit(self, inputs: Any = None, wait: bool = True, logs: Any = "All", job_name: str | None = None,
            experiment_config: Any = None) -> None:
        """Start a training job; with ``wait`` stream its log and raise if it does not complete.

        >>> estimator.fit({"training": "file:///data/train"}, wait=False)   # doctest: +SKIP
        >>> estimator.latest_training_job.describe()["TrainingJobStatus"]   # doctest: +SKIP
        'InProgress'
        """
        jobs = self.sagemaker_session.service.jobs
        for attempt in range(5):
            spec = self._job_spec(inputs, job_name)
            try:
                jobs.create(spec)
                break
            except AlreadyExists:
                if job_name is not None or attempt == 4:
                    raise
                time.sleep(0.002)  # a generated name collided with a job started in the same millisecond
        self.latest_training_job = TrainingJob(self.sagemaker_session, spec.name)
        if wait:
            self.latest_training_job.wait(logs=logs)

    @classmethod
    def attach(cls, training_job_name: str, sagemaker_session: Session | None = None, model_channel_name: str = "model"):
        """Rebuild the estimator of an existing job, from any process; blocks while the job runs."""
        session = sagemaker_session or Session()
        job = session.service.jobs.describe(training_job_name)
        estimator = cls._from_spec(JobSpec.from_dict(job.spec), session)
        estimator._current_job_name = job.name
        estimator.latest_training_job = TrainingJob(session, job.name)
        if not job.is_terminal:
            estimator.latest_training_job.wait(logs=True)
        return estimator

    @classmethod
    def _init_params_from_spec(cls, spec: JobSpec) -> dict[str, Any]:
        return dict(
            entry_point=spec.entry_point, source_dir=spec.source_dir,
            hyperparameters=spec.user_hyperparameters(),
            image_uri=spec.python if spec.python != sys.executable else None,
            metric_definitions=spec.metric_definitions, instance_count=spec.instance_count,
            instance_type=spec.instance_type, instance_groups=spec.instance_groups or None, output_path=spec.output_path, environment=spec.environment,
            max_run=spec.max_run, checkpoint_uri=spec.checkpoint_uri, checkpoint_local_path=spec.checkpoint_local_path,
            stop_grace_period=spec.stop_grace_s, use_spot_instances=spec.use_spot, max_wait=spec.max_wait,
        )

    @classmethod
    def _from_spec(cls, spec: JobSpec, session: Session):
        """An estimator for an existing job, built without re-validating (its source folder may be gone)."""
        estimator = cls.__new__(cls)
        estimator._assign(**cls._init_params_from_spec(spec), base_job_name=None, dependencies=None,
                          sagemaker_session=session)
        estimator._current_job_name = spec.name
        return estimator

    # -- results ------------------------------------------------------------------------------

    def _require_job(self) -> TrainingJob:
        if self.latest_training_job is None:
            raise UsageError("This estimator has not run a job yet: call fit() first, or attach() to a job.")
        return self.latest_training_job

    @property
    def model_data(self) -> str:
        """URI of the job's ``model.tar.gz`` (where it will be, while the job runs)."""
        return self.sagemaker_session.service.jobs.locations(self._require_job().job_name).model_data

    def logs(self) -> None:
        """Print the job's log (following it while the job runs)."""
        stream_logs(self.sagemaker_session.service, self._require_job().job_name, follow=True)

    def create_model(self, **kwargs: Any):
        """A :class:`rlops.model.Model` of the job's ``model.tar.gz``."""
        from rlops.model import Model

        kwargs.setdefault("source_dir", self.source_dir)
        return Model(self.model_data, sagemaker_session=self.sagemaker_session, name=self._require_job().job_name, **kwargs)

    def deploy(self, initial_instance_count: int = 1, instance_type: str = "local", endpoint_name: str | None = None,
               wait: bool = True, **kwargs: Any):
        """Serve the job's policy on a local endpoint; returns a :class:`rlops.predictor.Predictor`.

        >>> predictor = estimator.deploy(initial_instance_count=1, instance_type="local")   # doctest: +SKIP
        >>> predictor.predict([0.0, 0.0, 2.0, 2.0])                                          # doctest: +SKIP
        """
        return self.create_model().deploy(initial_instance_count, instance_type, endpoint_name or self._require_job().job_name,
                                          wait=wait, **kwargs)

    def transformer(self, instance_count: int = 1, instance_type: str = "local", output_path: str | None = None,
                    **kwargs: Any):
        """A :class:`rlops.transformer.Transformer` for batch inference with the job's policy."""
        from rlops.transformer import Transformer

        return Transformer(self.model_data, instance_count, instance_type, output_path,
                           sagemaker_session=self.sagemaker_session, **kwargs)

    @property
    def training_job_analytics(self):
        from rlops.analytics import TrainingJobAnalytics

        job = self._require_job()
        names = [d["Name"] for d in self._metric_definitions()] or None
        return TrainingJobAnalytics(job.job_name, metric_names=names, sagemaker_session=self.sagemaker_session)


def _framework_params() -> list[str]:
    import inspect

    return [p for p in inspect.signature(Framework.__init__).parameters if p not in ("self", "kwargs")]
