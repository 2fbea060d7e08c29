"""``RLEstimator``: SageMaker RL's estimator, running on the toolkits installed here.

A toolkit names the RL library a job's script uses. SageMaker picked a container image per
toolkit; rlops runs the script in its own Python environment, where the toolkit is installed
(or in the environment ``image_uri`` names, the way a custom image did).
"""

from __future__ import annotations

import enum
import importlib.metadata
import importlib.util
import logging
from typing import Any

from rlops.estimator import Framework
from rlops.exceptions import UnavailableToolkit, UsageError, did_you_mean
from rlops.runtime.spec import JobSpec
from rlops.storage import resolve_uri
from rlops.toolkits import rllib, sb3
from rlops.toolkits.sb3.presets import EVALUATION_KEYS

log = logging.getLogger("rlops")


class RLToolkit(str, enum.Enum):
    """RL toolkits; ``SB3`` is rlops's addition and the default for local jobs. ``COACH`` jobs run on
    the SB3 toolkit, with Coach's scripts and presets translated (:mod:`rlops.toolkits.coach`). ``FAST``
    is rlops's own engine (batched environments, a lean PPO and DQN, :mod:`rlops.toolkits.fast`): it runs
    the presets marked ``toolkit: fast`` (an SB3 job given such a preset runs on it too)."""

    COACH = "coach"
    FAST = "fast"
    RAY = "ray"
    SB3 = "sb3"


class RLFramework(str, enum.Enum):
    TENSORFLOW = "tensorflow"
    MXNET = "mxnet"
    PYTORCH = "pytorch"


#: Python distribution that provides each toolkit here, and where to get it.
TOOLKIT_PACKAGES = {RLToolkit.SB3: "stable-baselines3", RLToolkit.RAY: "ray", RLToolkit.FAST: "rlops"}
TOOLKIT_INSTALL = {RLToolkit.SB3: "pip install stable-baselines3", RLToolkit.FAST: "pip install rlops",
                   RLToolkit.RAY: "pip install 'rlops[ray]', which installs 'ray[rllib]'"}
TOOLKIT_FRAMEWORKS = {RLToolkit.SB3: (RLFramework.PYTORCH,), RLToolkit.FAST: (RLFramework.PYTORCH,),
                      # RLlib on PyTorch, and Coach on the SB3 toolkit, whichever framework a notebook names
                      RLToolkit.RAY: tuple(RLFramework), RLToolkit.COACH: tuple(RLFramework)}
#: The answer shape of an endpoint of a job trained "for" a framework (SageMaker served those with its servers).
FRAMEWORK_ANSWERS = {RLFramework.TENSORFLOW: "tensorflow", RLFramework.MXNET: "mxnet"}

_NUMBER = r"[-+]?[0-9]*[.]?[0-9]+([eE][-+]?[0-9]+)?"
COACH_METRICS = [
    {"Name": "reward-training", "Regex": "^Training>.*Total reward=(.*?),"},
    {"Name": "reward-testing", "Regex": "^Testing>.*Total reward=(.*?),"},
]
RAY_METRICS = [
    {"Name": "episode_reward_mean", "Regex": f"episode_reward_mean: ({_NUMBER})"},
    {"Name": "episode_reward_max", "Regex": f"episode_reward_max: ({_NUMBER})"},
]
PPO_LOSS_METRICS = [
    {"Name": "surrogate-loss", "Regex": "^Policy training>.*Surrogate loss=(.*?),"},
    {"Name": "entropy", "Regex": "^Policy training>.*Entropy=(.*?),"},
]
SB3_METRICS = COACH_METRICS + PPO_LOSS_METRICS + [
    {"Name": "reward-evaluation", "Regex": "^Evaluation summary>.*mean return=(.*?),"},
    {"Name": "kl-divergence", "Regex": "^Policy training>.*KL divergence=(.*?),"},
    {"Name": "loss", "Regex": "^Policy training>.*?\\bLoss=(.*?),"},
    {"Name": "value-loss", "Regex": "^Policy training>.*Value loss=(.*?),"},
    {"Name": "actor-loss", "Regex": "^Policy training>.*Actor loss=(.*?),"},
    {"Name": "critic-loss", "Regex": "^Policy training>.*Critic loss=(.*?),"},
    # offline presets: one line of off-policy estimates per epoch (rlops.ope)
    *({"Name": f"ope-{name.lower()}", "Regex": f"^Off-policy evaluation>.*\\b{name}=(.*?),"}
      for name in ("IPS", "WIS", "DM", "DR", "SDR")),
]
DEFAULT_METRICS = {
    RLToolkit.COACH: COACH_METRICS,
    RLToolkit.RAY: RAY_METRICS,
    RLToolkit.SB3: SB3_METRICS,  # SB3 launchers print Coach's lines, and their losses
    RLToolkit.FAST: SB3_METRICS,  # the fast engine prints the same lines
}


def _parse_enum(enum_cls: type[enum.Enum], value: Any, what: str) -> enum.Enum | None:
    if value is None or isinstance(value, enum_cls):
        return value
    allowed = [m.value for m in enum_cls]
    text = str(value).lower()
    for member in enum_cls:
        if text in (member.value, member.name.lower()):
            return member
    raise UnavailableToolkit(f"Unknown {what} {value!r}. Accepted: {', '.join(allowed)}.{did_you_mean(text, allowed)}")


def check_toolkit(toolkit: RLToolkit, framework: RLFramework | None, toolkit_version: str | None) -> None:
    """Refuse a toolkit or framework that is recognised but not usable here, saying what to use."""
    if toolkit == RLToolkit.COACH:  # any version and framework: Coach's presets and launchers are translated
        return
    if framework is not None and framework not in TOOLKIT_FRAMEWORKS[toolkit]:
        raise UnavailableToolkit(
            f"RLFramework.{framework.name} is not available with RLToolkit.{toolkit.name}: rlops's toolkits run on "
            "PyTorch. Use RLFramework.PYTORCH (or pass image_uri for an environment of your own)."
        )
    if toolkit == RLToolkit.RAY and framework not in (None, RLFramework.PYTORCH):
        log.warning("RLFramework.%s: RLlib runs on PyTorch in rlops (its policies deploy in %s's answer shape).",
                    framework.name, framework.name.title())
    package = TOOLKIT_PACKAGES[toolkit]
    if importlib.util.find_spec("ray" if toolkit == RLToolkit.RAY else "stable_baselines3") is None:
        raise UnavailableToolkit(
            f"RLToolkit.{toolkit.name} needs {package}, which is not installed in this Python environment. "
            f"Install it ({TOOLKIT_INSTALL[toolkit]}), or use RLToolkit.SB3."
        )
    if toolkit_version:
        installed = importlib.metadata.version(package)
        if not installed.startswith(str(toolkit_version)):
            log.warning("toolkit_version %s was asked for, but %s %s is installed; the job runs on %s.",
                        toolkit_version, package, installed, installed)


#: The script a toolkit's job runs when it names a preset and no entry point.
BUILTIN_ENTRY_POINTS = {RLToolkit.SB3: sb3.BUILTIN_ENTRY_POINT, RLToolkit.RAY: rllib.BUILTIN_ENTRY_POINT,
                        RLToolkit.FAST: sb3.BUILTIN_ENTRY_POINT}  # the SB3 launcher hands fast presets to the engine


def check_preset(toolkit: RLToolkit, hyperparameters: dict[str, Any], source_dir) -> None:
    """Load and validate the preset a built-in job will run, so a mistake fails before the job starts."""
    if toolkit == RLToolkit.RAY:
        from rlops.toolkits.rllib.presets import check_hyperparameters, load_experiment

        check_hyperparameters(hyperparameters)
        load_experiment(str(hyperparameters["preset"]), search=[source_dir])
        return
    from rlops.toolkits.sb3.presets import load_preset

    overrides = {k: v for k, v in hyperparameters.items() if k != "preset" and k not in EVALUATION_KEYS}
    preset = load_preset(str(hyperparameters["preset"]), overrides, search=[source_dir])
    if toolkit == RLToolkit.FAST and preset.toolkit != "fast":
        from rlops.toolkits.sb3.presets import PRESETS

        fast = [name for name in PRESETS.names() if PRESETS.load(name).get("toolkit") == "fast"]
        raise UsageError(f"RLToolkit.FAST runs presets marked 'toolkit: fast' ({', '.join(fast)}); {preset.name!r} is "
                         "a Stable-Baselines3 preset: use RLToolkit.SB3 for it, or set rl.toolkit=fast with the "
                         "engine's hyperparameters.")


class RLEstimator(Framework):
    """Train a policy with a script on an RL toolkit (SageMaker's ``RLEstimator``).

    >>> from rlops.rl import RLEstimator, RLToolkit, RLFramework
    >>> estimator = RLEstimator(entry_point="train.py", toolkit=RLToolkit.SB3,          # doctest: +SKIP
    ...                         framework=RLFramework.PYTORCH, instance_type="local",
    ...                         hyperparameters={"rl.training.learning_rate": 3e-4})
    >>> estimator.fit()                                                                  # doctest: +SKIP
    """

    def __init__(self, entry_point: str | None = None, toolkit: RLToolkit | str | None = None,
                 toolkit_version: str | None = None, framework: RLFramework | str | None = None,
                 source_dir: str | None = None, hyperparameters: dict[str, Any] | None = None,
                 image_uri: str | None = None, metric_definitions: list[dict[str, str]] | None = None, **kwargs: Any):
        self.toolkit = _parse_enum(RLToolkit, toolkit, "toolkit")
        self.framework = _parse_enum(RLFramework, framework, "framework")
        self.toolkit_version = toolkit_version
        if kwargs.get("image_name") and not image_uri:
            image_uri = kwargs.pop("image_name")
        if self.toolkit is None and not image_uri:
            raise UnavailableToolkit(
                "RLEstimator needs a toolkit (RLToolkit.SB3, RLToolkit.RAY) or an image_uri naming the Python "
                "environment to run in."
            )
        if self.toolkit is not None and not image_uri:
            check_toolkit(self.toolkit, self.framework, toolkit_version)
        if self.framework is None and self.toolkit is not None:
            self.framework = RLFramework.PYTORCH
        super().__init__(entry_point, source_dir=source_dir, hyperparameters=hyperparameters, image_uri=image_uri,
                         metric_definitions=metric_definitions, **kwargs)

    @property
    def _default_base_name(self) -> str:
        return f"rl-{self.toolkit.value}" if self.toolkit else "rl-custom"

    @classmethod
    def default_metric_definitions(cls, toolkit: RLToolkit | str) -> list[dict[str, str]]:
        """The metric definitions a toolkit's jobs get unless they name their own."""
        toolkit = _parse_enum(RLToolkit, toolkit, "toolkit")
        return [dict(d) for d in DEFAULT_METRICS[toolkit]]

    def _metric_definitions(self) -> list[dict[str, str]]:
        if self.metric_definitions is not None:
            return list(self.metric_definitions)
        return self.default_metric_definitions(self.toolkit) if self.toolkit else []

    _estimator_name = "RLEstimator"

    @property
    def _uses_builtin_entry(self) -> bool:
        return self.entry_point is None and self.toolkit in BUILTIN_ENTRY_POINTS

    def _code_location(self):
        """Without an entry point, an SB3 or RAY job runs the toolkit's launcher with the ``preset`` hyperparameter."""
        if not self._uses_builtin_entry:
            return super()._code_location()
        entry = BUILTIN_ENTRY_POINTS[self.toolkit]
        evaluating = EVALUATION_KEYS & self._hyperparameters.keys() if self.toolkit != RLToolkit.RAY else (
            "evaluate_episodes" in self._hyperparameters)
        if "preset" not in self._hyperparameters and not evaluating:
            example = {RLToolkit.RAY: "cartpole-rllib-ppo", RLToolkit.FAST: "cartpole-fast"}.get(self.toolkit, "cartpole-ppo")
            article = "A" if self.toolkit == RLToolkit.RAY else "An"
            raise UsageError(f"{article} {self.toolkit.name} job without an entry_point runs a preset: pass hyperparameters="
                             f"{{'preset': '{example}'}} (`rlops presets list` shows them)"
                             + ", evaluate_episodes to evaluate a policy,"
                             + " or give an entry_point script.")
        if self.source_dir:
            source = resolve_uri(self.source_dir, "source_dir")
            if not source.is_dir():
                raise UsageError(f"source_dir {self.source_dir!r} is not a folder.")
            return source, entry.name
        return entry.parent, entry.name

    def _extra_dependencies(self) -> list[str]:
        return [str(BUILTIN_ENTRY_POINTS[self.toolkit])] if self._uses_builtin_entry and self.source_dir else []

    def _validate_settings(self) -> None:
        super()._validate_settings()
        for key in EVALUATION_KEYS:  # checked here, as training settings are, not once the job has started
            value = self._hyperparameters.get(key)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
                raise UsageError(f"The hyperparameter {key} is a positive number of "
                                 f"{'episodes' if key.endswith('episodes') else 'steps'} to evaluate; got {value!r}.")
        if self._uses_builtin_entry and "preset" in self._hyperparameters:
            check_preset(self.toolkit, self._hyperparameters, self._code_location()[0])

    def _toolkit_fields(self) -> dict[str, Any]:
        return {
            "toolkit": self.toolkit.value if self.toolkit else None,
            "toolkit_version": self.toolkit_version,
            "framework": self.framework.value if self.framework else None,
        }

    def create_model(self, **kwargs: Any):
        """The job's model; its endpoints answer in the shape of the framework the estimator named (TensorFlow
        Serving's or Coach-MXNet's), as SageMaker's did."""
        kwargs.setdefault("answer_format", FRAMEWORK_ANSWERS.get(self.framework, "rlops"))
        return super().create_model(**kwargs)

    @classmethod
    def _from_spec(cls, spec: JobSpec, session):
        estimator = super()._from_spec(spec, session)
        estimator.toolkit = _parse_enum(RLToolkit, spec.toolkit, "toolkit")
        estimator.framework = _parse_enum(RLFramework, spec.framework, "framework")
        estimator.toolkit_version = spec.toolkit_version
        return estimator
