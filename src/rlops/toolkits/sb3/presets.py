"""Presets: YAML files that configure a job's environment, algorithm and schedule.

A preset is what RL Zoo calls a hyperparameter file and what Coach called a preset::

    name: cartpole-ppo
    env: {id: CartPole-v1, n_envs: 8}
    algorithm:
      name: PPO
      hyperparameters: {n_steps: 32, learning_rate: lin_0.001, gamma: 0.98}
    schedule: {training_steps: 100000, evaluation_every: 20000, evaluation_episodes: 10}
    aliases: {discount: algorithm.hyperparameters.gamma}

Built-in presets ship in ``presets/``; a job's ``source_dir`` may hold its own (``NAME.yaml`` or
``presets/NAME.yaml``), found first. Job hyperparameters ``rl.<dotted.path>`` override any field
and keep their JSON types; a preset's ``aliases`` (and the common ones below) are short names for
paths. Everything is validated before training starts: an unknown field names the allowed ones
and a near match, a wrong type names the type expected.
"""

from __future__ import annotations

import copy
import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Union

import yaml

from rlops.exceptions import UsageError, did_you_mean
from rlops.toolkits.preset_files import PresetFolder
from rlops.toolkits.sb3.algorithms import SCHEDULABLE, get_algorithm, hyperparameter_defaults

BUILTIN_DIR = Path(__file__).with_name("presets")
OVERRIDE_PREFIX = "rl."
#: Hyperparameters that switch a job to evaluating a policy instead of training one.
EVALUATION_KEYS = ("evaluate_episodes", "evaluate_steps")
COMMON_ALIASES = {
    "discount": "algorithm.hyperparameters.gamma",
    "learning_rate": "algorithm.hyperparameters.learning_rate",
    "training_steps": "schedule.training_steps",
    "n_envs": "env.n_envs",
    "seed": "seed",
}


@dataclass
class Normalize:
    obs: bool = False
    reward: bool = False
    clip_obs: float = 10.0
    clip_reward: float = 10.0


@dataclass
class EnvConfig:
    id: str
    kwargs: dict = field(default_factory=dict)
    n_envs: int = 1
    vec_env: Literal["auto", "dummy", "subproc"] = "auto"
    normalize: Normalize = field(default_factory=Normalize)
    max_episode_steps: Union[int, None] = None
    check: bool = True


@dataclass
class AlgorithmConfig:
    name: str
    policy: Union[str, None] = None
    hyperparameters: dict = field(default_factory=dict)


@dataclass
class Schedule:
    training_steps: int
    heatup_steps: int = 0
    evaluation_every: int = 0
    evaluation_episodes: int = 5
    checkpoint_every: int = 0
    keep_checkpoints: int = 2
    #: Deliver the policy that scored best in the periodic evaluations when the final one scores
    #: lower (RL Zoo's best model), re-evaluated so the reported return is the delivered policy's.
    keep_best: bool = False


@dataclass
class Visualization:
    #: Render the first episode of each evaluation to ``output/intermediate/gifs/episode-<N>_<time>.gif``
    #: (Coach's ``vis_params.dump_gifs``; SPEC section 7).
    dump_gifs: bool = False


@dataclass
class Offline:
    """Where a batch-RL preset's logged episodes are, and how they are evaluated off-policy (``toolkit: offline``)."""

    #: The job's channel holding the dataset (a .csv or .jsonl file, or a folder with one), or ``minari:ID``.
    dataset: str = "training"
    #: The share of episodes trained on; the rest are held out for off-policy evaluation (SageMaker's
    #: ``train_to_eval_ratio``).
    train_to_eval_ratio: float = 0.8
    gamma: float = 0.99
    #: Off-policy estimators each epoch (``[]``: none). Unset: IPS, WIS, DM, DR and SDR for discrete actions; DM
    #: (fitted Q evaluation) for continuous ones.
    estimators: list | None = None
    #: Bootstrap resamples for the estimates' intervals.
    bootstrap: int = 100


@dataclass
class Preset:
    name: str
    env: EnvConfig
    algorithm: AlgorithmConfig
    schedule: Schedule
    description: str = ""
    seed: Union[int, None] = 0
    target: Union[float, None] = None
    #: PyTorch threads; null means one when the environments run in subprocesses (they need the
    #: other cores), else PyTorch's default. Set 1 when several jobs share a machine: PyTorch's
    #: threads slow down badly when cores are oversubscribed.
    torch_threads: Union[int, None] = None
    aliases: dict = field(default_factory=dict)
    visualization: Visualization = field(default_factory=Visualization)
    #: Who trains: Stable-Baselines3, or rlops's fast engine (batched environments, a lean PPO and DQN:
    #: :mod:`rlops.toolkits.fast`), with the same preset format, log lines and portable policy.
    #: ``offline`` trains from logged episodes with d3rlpy (:mod:`rlops.toolkits.offline`); ``env`` then only gives
    #: the spaces and the live evaluation.
    toolkit: Literal["sb3", "fast", "offline"] = "sb3"
    offline: Offline = field(default_factory=Offline)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def dump(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False)


# -- finding presets --------------------------------------------------------------------------


PRESETS = PresetFolder(BUILTIN_DIR)
builtin_names, load_raw = PRESETS.names, PRESETS.load


def load_preset(name: str, overrides: dict[str, Any] | None = None, search: list[Path] = (),
                data: dict[str, Any] | None = None) -> Preset:
    """Load, override and validate a preset. ``overrides`` maps dotted paths or aliases to values.

    ``data`` is the preset's YAML when the caller has already read it.
    """
    data = copy.deepcopy(data) if data is not None else load_raw(name, search)
    for key, value in (overrides or {}).items():
        set_path(data, resolve_alias(key, data), value)
    return validate(data)


# -- overrides --------------------------------------------------------------------------------


def aliases(data: dict[str, Any]) -> dict[str, str]:
    """The short names a preset's overrides may use: the common ones and the preset's own."""
    return {**COMMON_ALIASES, **(data.get("aliases") or {})}


def is_override(key: str, data: dict[str, Any]) -> bool:
    """Whether a job hyperparameter overrides a field of the preset ``data`` (``rl.*`` or an alias)."""
    return key.startswith(OVERRIDE_PREFIX) or key in aliases(data)


def resolve_alias(key: str, data: dict[str, Any]) -> str:
    """``rl.a.b`` becomes ``a.b``; an alias becomes its path."""
    if key.startswith(OVERRIDE_PREFIX):
        return key[len(OVERRIDE_PREFIX):]
    known = aliases(data)
    if key in known:
        return known[key]
    raise UsageError(f"{key!r} is neither a preset override (rl.<dotted.path>) nor an alias of this preset. "
                     f"Aliases: {', '.join(sorted(known))}.{did_you_mean(key, known)}")


def set_path(data: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    if any(not part or part.startswith("__") for part in parts):
        raise UsageError(f"Invalid preset path {path!r}: empty parts and names starting with '__' are refused.")
    node = data
    for depth, part in enumerate(parts[:-1]):
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise UsageError(f"Cannot set {path!r}: {'.'.join(parts[:depth + 1])!r} is a "
                             f"{type(child).__name__}, not a section.")
        node = child
    node[parts[-1]] = copy.deepcopy(value)


# -- validation -------------------------------------------------------------------------------


def validate(data: dict[str, Any]) -> Preset:
    data = copy.deepcopy(data)
    env = data.get("env")
    if isinstance(env, dict) and isinstance(env.get("normalize"), bool):
        env["normalize"] = {"obs": env["normalize"], "reward": env["normalize"]}
    preset = _build(Preset, data, "")
    if preset.toolkit == "fast":
        from rlops.toolkits.fast.training import check_preset

        check_preset(preset)
    elif preset.toolkit == "offline":
        from rlops.toolkits.offline.algorithms import check_preset as check_offline

        check_offline(preset)
    else:
        algorithm = get_algorithm(preset.algorithm.name)
        preset.algorithm.name = algorithm.name
        preset.algorithm.policy = preset.algorithm.policy or algorithm.default_policy
        _check_hyperparameters(algorithm, preset.algorithm.hyperparameters)
    for key, path in preset.aliases.items():
        if not isinstance(path, str):
            raise UsageError(f"Preset alias {key!r} must name a dotted path; got {path!r}.")
    for name in ("training_steps",):
        if getattr(preset.schedule, name) <= 0:
            raise UsageError(f"schedule.{name} must be positive; got {getattr(preset.schedule, name)}.")
    if preset.env.n_envs < 1:
        raise UsageError(f"env.n_envs must be at least 1; got {preset.env.n_envs}.")
    return preset


def _build(cls, data: Any, prefix: str):
    if not isinstance(data, dict):
        raise UsageError(f"Preset field {prefix.rstrip('.') or '(top level)'!r} must be a section (a mapping); "
                         f"got {data!r} ({type(data).__name__}).")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key in data:
        if key not in fields:
            raise UsageError(f"Unknown preset field {prefix + str(key)!r}. Accepted in "
                             f"{prefix.rstrip('.') or 'a preset'}: {', '.join(fields)}.{did_you_mean(key, fields)}")
    values = {}
    for name, f in fields.items():
        path = prefix + name
        if name not in data:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise UsageError(f"Preset field {path!r} is required.")
            continue
        hint = hints[name]
        values[name] = (_build(hint, data[name], path + ".") if dataclasses.is_dataclass(hint)
                        else _check_type(path, data[name], hint))
    return cls(**values)


def _type_name(hint) -> str:
    if typing.get_origin(hint) in (Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(hint))
    if typing.get_origin(hint) is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(hint))
    return "null" if hint is type(None) else hint.__name__


def _matches(value: Any, hint) -> bool:
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        return any(_matches(value, a) for a in typing.get_args(hint))
    if origin is Literal:
        return value in typing.get_args(hint)
    if hint is type(None):
        return value is None
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, hint)


def _check_type(path: str, value: Any, hint) -> Any:
    if not _matches(value, hint):
        raise UsageError(f"Preset field {path!r} must be {_type_name(hint)}; got {value!r} ({type(value).__name__}).")
    return float(value) if hint is float else value


def _check_hyperparameters(algorithm, hyperparameters: dict[str, Any]) -> None:
    defaults = hyperparameter_defaults(algorithm)
    for key, value in hyperparameters.items():
        path = f"algorithm.hyperparameters.{key}"
        if key not in defaults:
            raise UsageError(f"Unknown preset field {path!r}: {algorithm.name} has no hyperparameter {key!r}. "
                             f"Accepted: {', '.join(sorted(defaults))}.{did_you_mean(key, defaults)}")
        default = defaults[key]
        if key in SCHEDULABLE and isinstance(value, str):
            try:
                float(value.removeprefix("lin_"))
                ok = value.startswith("lin_")
            except ValueError:
                ok = False
            if not ok:
                raise UsageError(f"Preset field {path!r} must be a number or a schedule such as 'lin_0.001'; got {value!r}.")
            continue
        expected = {bool: bool, int: int, float: float, dict: dict}.get(type(default))
        if isinstance(default, str):
            expected = Union[str, float]
        if key == "train_freq":
            expected = Union[int, list]
        if expected is not None:
            _check_type(path, value, expected)
