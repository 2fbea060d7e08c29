"""The d3rlpy algorithms offline presets name, checked without importing d3rlpy; and d3rlpy's import.

d3rlpy 2.8 imports the retired ``gym`` package at load time (only as the other class of its
``isinstance`` checks). rlops does not install ``gym`` (it would shadow Gymnasium's ``gym`` stand-in for
old scripts), so :func:`import_d3rlpy` lends d3rlpy Gymnasium under that name while it loads and takes
it back afterwards.
"""

from __future__ import annotations

import importlib
import logging
import sys
import types
from typing import Generic, TypeVar

from rlops.exceptions import UsageError, did_you_mean

#: Preset algorithm name -> d3rlpy config class, for discrete actions...
DISCRETE = {
    "DiscreteBCQ": "DiscreteBCQConfig",
    "DiscreteCQL": "DiscreteCQLConfig",
    "DoubleDQN": "DoubleDQNConfig",
    "DQN": "DQNConfig",
    "DiscreteBC": "DiscreteBCConfig",
}
#: ... and for continuous ones.
CONTINUOUS = {
    "CQL": "CQLConfig",
    "IQL": "IQLConfig",
    "TD3PlusBC": "TD3PlusBCConfig",
    "BC": "BCConfig",
}
ALGORITHMS = {**DISCRETE, **CONTINUOUS}
ESTIMATORS = ("IPS", "WIS", "DM", "DR", "SDR")
#: What continuous policies can be estimated with: importance sampling needs probabilities of discrete actions.
CONTINUOUS_ESTIMATORS = ("DM",)


def estimators(preset) -> list[str]:
    """The off-policy estimators an offline preset runs: those it names, else every one its actions allow."""
    named = preset.offline.estimators
    if named is not None:
        return list(named)
    return list(CONTINUOUS_ESTIMATORS if preset.algorithm.name in CONTINUOUS else ESTIMATORS)
D3RLPY_INSTALL = "pip install --no-deps d3rlpy==2.8.0 (`make test` and `make demo` install it)"


def check_preset(preset) -> None:
    """Refuse an offline preset that names an algorithm, a split or an estimator rlops does not run."""
    name = preset.algorithm.name
    if name not in ALGORITHMS:
        raise UsageError(f"Offline presets train {', '.join(DISCRETE)} (d3rlpy, discrete actions) or "
                         f"{', '.join(CONTINUOUS)} (continuous actions); got {name!r}.{did_you_mean(name, ALGORITHMS)}")
    offline = preset.offline
    if not 0 < offline.train_to_eval_ratio < 1:
        raise UsageError(f"offline.train_to_eval_ratio is the share of episodes trained on, between 0 and 1; got "
                         f"{offline.train_to_eval_ratio!r}.")
    if not 0 < offline.gamma <= 1:
        raise UsageError(f"offline.gamma is a discount in (0, 1]; got {offline.gamma!r}.")
    accepted = CONTINUOUS_ESTIMATORS if name in CONTINUOUS else ESTIMATORS
    unknown = [e for e in estimators(preset) if e not in accepted]
    if unknown:
        why = " (continuous actions have no action probabilities to weigh)" if name in CONTINUOUS else ""
        raise UsageError(f"Estimator {unknown[0]!r} in offline.estimators cannot evaluate {name}{why}; accepted: "
                         f"{', '.join(accepted)}.")


def import_d3rlpy():
    """``d3rlpy``, imported with Gymnasium standing in for ``gym`` while it loads (and its logging quietened)."""
    if "d3rlpy" in sys.modules:
        return sys.modules["d3rlpy"]
    import gymnasium
    import gymnasium.spaces
    import gymnasium.wrappers

    observation, action = TypeVar("observation"), TypeVar("action")

    class Wrapper(gymnasium.Wrapper[observation, action, observation, action], Generic[observation, action]):
        """gym 0.26's two-parameter ``Wrapper``, which d3rlpy subclasses."""

    def module(name: str, **attributes) -> types.ModuleType:
        made = types.ModuleType(name)
        made.__dict__.update(attributes)
        return made

    time_limit = module("gym.wrappers.time_limit", TimeLimit=gymnasium.wrappers.TimeLimit)
    transform_reward = module("gym.wrappers.transform_reward", TransformReward=gymnasium.wrappers.TransformReward)
    wrappers = module("gym.wrappers", **{**vars(gymnasium.wrappers), "time_limit": time_limit,
                                         "transform_reward": transform_reward})
    version = module("gym.version", VERSION="0.26.2")
    gym = module("gym", Env=gymnasium.Env, Wrapper=Wrapper, make=gymnasium.make, spaces=gymnasium.spaces,
                 wrappers=wrappers, version=version, __version__="0.26.2")
    lent = {"gym": gym, "gym.spaces": gymnasium.spaces, "gym.version": version, "gym.wrappers": wrappers,
            "gym.wrappers.time_limit": time_limit, "gym.wrappers.transform_reward": transform_reward}
    saved = {k: v for k, v in sys.modules.items() if k == "gym" or k.startswith("gym.")}
    for name in saved:
        del sys.modules[name]
    sys.modules.update(lent)
    try:
        d3rlpy = importlib.import_module("d3rlpy")
    except ImportError as exc:
        raise UsageError(f"Offline presets need d3rlpy, which is not installed here ({exc}): {D3RLPY_INSTALL}.") from None
    finally:
        for name in lent:
            sys.modules.pop(name, None)
        sys.modules.update(saved)
    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    return d3rlpy
