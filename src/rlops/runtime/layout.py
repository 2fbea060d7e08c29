"""One host's view of a job: SageMaker's ``/opt/ml`` layout, its ``SM_*`` variables and argv.

This module is the one place where SageMaker's training-container contract is spelled out
(SPEC section 2); the supervisor only calls it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rlops.contract import RESERVED_HYPERPARAMETERS, is_gpu_instance, is_reserved
from rlops.runtime.spec import JobSpec

NETWORK_INTERFACE = "lo"
#: Touched in a job's work folder once its outcome is recorded.
ENDED_MARKER = "ended"
#: A folder every host of a job shares, where hosts find each other (a Ray head's address, for instance).
RENDEZVOUS_ENV = "RLOPS_RENDEZVOUS_DIR"


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _env_value(value: Any) -> str:
    return value if isinstance(value, str) else _json(value)


@dataclass(frozen=True)
class HostLayout:
    """The folders of one host, under its base directory (the ``/opt/ml`` of a container)."""

    base: Path

    @property
    def code(self) -> Path: return self.base / "code"
    @property
    def input(self) -> Path: return self.base / "input"
    @property
    def input_config(self) -> Path: return self.input / "config"
    @property
    def input_data(self) -> Path: return self.input / "data"
    @property
    def model(self) -> Path: return self.base / "model"
    @property
    def output(self) -> Path: return self.base / "output"
    @property
    def output_data(self) -> Path: return self.output / "data"
    @property
    def output_intermediate(self) -> Path: return self.output / "intermediate"
    @property
    def failure_file(self) -> Path: return self.output / "failure"

    def channel(self, name: str) -> Path:
        return self.input_data / name

    def checkpoints(self, spec: JobSpec, host: str) -> Path:
        """``checkpoints/`` by default; a container path under ``/opt/ml`` maps into the base."""
        path = spec.checkpoint_local_path
        if not path:
            return self.base / "checkpoints"
        if path == "/opt/ml" or path.startswith("/opt/ml/"):
            return self.base / path[len("/opt/ml/"):]
        return Path(path) / host if spec.instance_count > 1 else Path(path)

    def make_dirs(self) -> None:
        for folder in (self.code, self.input_config, self.input_data, self.model, self.output_data,
                       self.output_intermediate):
            folder.mkdir(parents=True, exist_ok=True)


def write_config(spec: JobSpec, host: str, layout: HostLayout) -> None:
    """``input/config/{hyperparameters,resourceconfig,inputdataconfig}.json``."""
    configs = {
        "hyperparameters.json": spec.hyperparameters,
        "resourceconfig.json": resource_config(spec, host),
        "inputdataconfig.json": input_data_config(spec),
    }
    for file_name, content in configs.items():
        (layout.input_config / file_name).write_text(json.dumps(content, indent=2, sort_keys=True))


def resource_config(spec: JobSpec, host: str) -> dict[str, Any]:
    group = spec.group_of(host)
    return {
        "current_host": host,
        "hosts": sorted(spec.hosts),
        "network_interface_name": NETWORK_INTERFACE,
        "current_instance_type": group["instance_type"],
        "current_group_name": group["instance_group_name"],
        "instance_groups": spec.groups(),
    }


def input_data_config(spec: JobSpec) -> dict[str, Any]:
    config = {}
    for name, channel in spec.channels.items():
        entry = {"TrainingInputMode": channel.input_mode, "S3DistributionType": "FullyReplicated",
                 "RecordWrapperType": "None"}
        if channel.content_type:
            entry["ContentType"] = channel.content_type
        config[name] = entry
    return config


def entry_args(hyperparameters: dict[str, Any]) -> list[str]:
    """The entry point's arguments: ``--key value`` sorted by key (``-k`` for one letter).

    >>> entry_args({"b": 1, "lr": 0.1, "opts": {"y": 2, "x": True}})
    ['-b', '1', '--lr', '0.1', '--opts', 'x=True,y=2']
    """
    args: list[str] = []
    for key in sorted(hyperparameters):
        value = hyperparameters[key]
        if isinstance(value, dict):
            value = ",".join(f"{k}={v}" for k, v in sorted(value.items()))
        args += [f"-{key}" if len(key) == 1 else f"--{key}", str(value)]
    return args


def entry_command(spec: JobSpec, layout: HostLayout) -> list[str]:
    """``python <entry>.py <args>``, or the file itself for a shell script or an executable.

    A job on an existing Ray cluster runs :mod:`rlops.runtime.ray_jobs` instead, which submits the same
    command, with the cluster's ``python`` and paths relative to the code folder Ray uploads.
    """
    if spec.ray_address:
        import sys

        return [sys.executable, "-m", "rlops.runtime.ray_jobs", "--address", spec.ray_address,
                "--submission-id", spec.name, "--working-dir", str(layout.code), "--job-folder", str(layout.base),
                "--grace", f"{spec.stop_grace_s:g}", *[f"--env={name}" for name in sorted(spec.environment)], "--",
                *_command(spec, "python", Path(spec.entry_point))]
    return _command(spec, spec.python, layout.code / spec.entry_point)


def _command(spec: JobSpec, python: str, entry: Path) -> list[str]:
    args = entry_args(spec.user_hyperparameters())
    if entry.suffix == ".py":
        return [python, str(entry), *args]
    if entry.suffix == ".sh":
        return ["/bin/sh", str(entry), *args]
    return [str(entry) if entry.is_absolute() else f"./{entry}", *args]


def num_gpus(instance_type: str) -> int:
    """The GPUs a host of ``instance_type`` gets: this machine's, for a GPU instance type; else none."""
    if not is_gpu_instance(instance_type):
        return 0
    import shutil
    import subprocess

    if not shutil.which("nvidia-smi"):
        return 0
    out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, check=False).stdout
    return sum(1 for line in out.splitlines() if line.startswith("GPU "))


def job_environment(spec: JobSpec, host: str, layout: HostLayout, checkpoints: Path) -> dict[str, str]:
    """Every ``SM_*`` variable of SPEC section 2, for one host."""
    hps = spec.user_hyperparameters()
    channels = sorted(spec.channels)
    channel_dirs = {name: str(layout.channel(name)) for name in channels}
    module_name = Path(spec.entry_point).stem
    framework_params = {k: v for k, v in spec.hyperparameters.items()
                        if is_reserved(k) and k not in RESERVED_HYPERPARAMETERS}
    num_cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    resource = resource_config(spec, host)
    instance_type = resource["current_instance_type"]
    gpus = num_gpus(instance_type)
    groups = {g["instance_group_name"]: g for g in resource["instance_groups"]}
    current_group = groups[resource["current_group_name"]]
    data_config = input_data_config(spec)
    user_args = entry_args(hps)
    training_env = {
        "job_name": spec.name,
        "hyperparameters": hps,
        "channel_input_dirs": channel_dirs,
        "hosts": spec.hosts,
        "current_host": host,
        "current_instance_type": instance_type,
        "current_instance_group": current_group["instance_group_name"],
        "current_instance_group_hosts": current_group["hosts"],
        "instance_groups": list(groups),
        "instance_groups_dict": groups,
        "distribution_hosts": [],
        "distribution_instance_groups": [],
        "is_hetero": len(groups) > 1,
        "master_hostname": spec.hosts[0],
        "is_master": host == spec.hosts[0],
        "model_dir": str(layout.model),
        "output_dir": str(layout.output),
        "output_data_dir": str(layout.output_data),
        "output_intermediate_dir": str(layout.output_intermediate),
        "input_dir": str(layout.input),
        "input_config_dir": str(layout.input_config),
        "input_data_config": data_config,
        "resource_config": resource,
        "module_name": module_name,
        "module_dir": str(layout.code),
        "user_entry_point": spec.entry_point,
        "network_interface_name": NETWORK_INTERFACE,
        "num_cpus": num_cpus,
        "num_gpus": gpus,
        "log_level": spec.log_level,
        "additional_framework_parameters": framework_params,
        "framework_module": None,
        "checkpoint_dir": str(checkpoints),
    }
    env = {
        "SM_MODEL_DIR": str(layout.model),
        "SM_OUTPUT_DIR": str(layout.output),
        "SM_OUTPUT_DATA_DIR": str(layout.output_data),
        "SM_OUTPUT_INTERMEDIATE_DIR": str(layout.output_intermediate),
        "SM_INPUT_DIR": str(layout.input),
        "SM_INPUT_CONFIG_DIR": str(layout.input_config),
        "SM_CHANNELS": _json(channels),
        "SM_HPS": _json(hps),
        "SM_USER_ARGS": _json(user_args),
        "SM_HOSTS": _json(spec.hosts),
        "SM_CURRENT_HOST": host,
        "SM_CURRENT_INSTANCE_TYPE": instance_type,
        "SM_CURRENT_INSTANCE_GROUP": current_group["instance_group_name"],
        "SM_CURRENT_INSTANCE_GROUP_HOSTS": _json(current_group["hosts"]),
        "SM_INSTANCE_GROUPS": _json(list(groups)),
        "SM_INSTANCE_GROUPS_DICT": _json(groups),
        "SM_DISTRIBUTION_INSTANCE_GROUPS": _json([]),
        "SM_DISTRIBUTION_HOSTS": _json([]),
        "SM_IS_HETERO": "true" if len(groups) > 1 else "false",
        "SM_NUM_CPUS": str(num_cpus),
        "SM_NUM_GPUS": str(gpus),
        "SM_NETWORK_INTERFACE_NAME": NETWORK_INTERFACE,
        "SM_MODULE_NAME": module_name,
        "SM_USER_ENTRY_POINT": spec.entry_point,
        "SM_MODULE_DIR": str(layout.code),
        "SM_LOG_LEVEL": str(spec.log_level),
        "SM_RESOURCE_CONFIG": _json(resource),
        "SM_INPUT_DATA_CONFIG": _json(data_config),
        "SM_TRAINING_ENV": _json(training_env),
        "SM_FRAMEWORK_PARAMS": _json(framework_params),
        "TRAINING_JOB_NAME": spec.name,
        "SAGEMAKER_JOB_NAME": spec.name,
        "CURRENT_HOST": host,
    }
    if spec.toolkit == "coach":  # SageMaker's Coach images said which backend; rlops's is PyTorch
        env["COACH_BACKEND"] = "pytorch"
    for name, path in channel_dirs.items():
        env[f"SM_CHANNEL_{name.upper()}"] = path
    for key, value in hps.items():
        env[f"SM_HP_{key.upper()}"] = _env_value(value)
    return env

