"""``gym`` for environments written for gym 0.2x, on Gymnasium 1.x (rlops's compatibility layer).

A class that subclasses :class:`gym.Env` may keep the old API: ``reset()`` returning only the
observation, ``step()`` returning ``(obs, reward, done, info)``, a ``seed()`` method, and
``self.np_random.randint(...)``-style calls. It is a Gymnasium environment all the same: its
``reset(seed=..., options=...)`` returns ``(obs, info)`` and its ``step()`` five values, a
``done`` becoming ``terminated`` unless ``info["TimeLimit.truncated"]`` says the episode was cut
(Gymnasium's own ``convert_to_terminated_truncated_step_api``). Spaces, errors, wrappers,
``make`` and ``register`` are Gymnasium's. This package is placed on a job's path only when the
job's Python has no ``gym`` of its own.
"""

from __future__ import annotations

import inspect

import gymnasium
from gymnasium import error, logger, spaces, wrappers  # noqa: F401  (the names gym had)
from gymnasium import ActionWrapper, ObservationWrapper, RewardWrapper, Space, Wrapper  # noqa: F401
from gymnasium.utils.step_api_compatibility import convert_to_terminated_truncated_step_api

from gym.envs.registration import make, register, registry, spec  # noqa: F401
from gym.utils import seeding

__version__ = "0.26.2+rlops"


class Env(gymnasium.Env):
    """Gymnasium's ``Env``, adapting subclasses written for gym 0.21-0.26 to Gymnasium's API."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "reset" in vars(cls):
            cls.reset = _new_reset(vars(cls)["reset"])
        if "step" in vars(cls):
            cls.step = _new_step(vars(cls)["step"])

    @property
    def np_random(self):
        """A NumPy generator that also answers gym 0.21's ``RandomState`` calls (``randint``, ``rand``, ...)."""
        if self._np_random is None:
            self._np_random, self._np_random_seed = seeding.np_random()
        return self._np_random

    @np_random.setter
    def np_random(self, value):
        self._np_random = value

    def seed(self, seed=None):
        """gym 0.x's seeding: a fresh generator for ``seed``; returns ``[seed]``."""
        self._np_random, seed = seeding.np_random(seed)
        return [seed]


def _new_reset(reset):
    takes_seed = "seed" in inspect.signature(reset).parameters

    def new_reset(self, *, seed=None, options=None, **kwargs):
        if seed is not None:
            self.seed(seed)
        if takes_seed:  # gym 0.26: reset(seed=..., options=...) -> (obs, info)
            result = reset(self, seed=seed, options=options, **kwargs)
        else:  # gym 0.21: reset() -> obs
            result = reset(self, **kwargs)
        if isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], dict):
            return result
        return result, {}

    new_reset._gym_0x = reset  # not __wrapped__: signature checks must see the new keywords
    return new_reset


def _new_step(step):
    def new_step(self, action):
        result = step(self, action)
        return convert_to_terminated_truncated_step_api(result) if len(result) == 4 else result

    new_step._gym_0x = step
    return new_step
