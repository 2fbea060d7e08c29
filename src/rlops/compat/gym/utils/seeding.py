"""``gym.utils.seeding``: Gymnasium's generators, answering gym 0.21's ``RandomState`` calls too."""

from __future__ import annotations

import numpy as np
from gymnasium.utils import seeding as _seeding


class LegacyGenerator(np.random.Generator):
    """``np.random.Generator`` with the ``RandomState`` method names gym 0.21 environments call."""

    def randint(self, low, high=None, size=None, dtype=np.int64):
        return self.integers(low, high, size=size, dtype=dtype)

    def rand(self, *shape):
        return self.random(shape or None)

    def randn(self, *shape):
        return self.standard_normal(shape or None)

    def random_sample(self, size=None):
        return self.random(size)

    def random_integers(self, low, high=None, size=None):
        return self.integers(low, high, size=size, endpoint=True)


def np_random(seed: int | None = None) -> tuple[LegacyGenerator, int]:
    """``(generator, seed)`` as gym and Gymnasium return them."""
    generator, seed = _seeding.np_random(seed)
    return LegacyGenerator(generator.bit_generator), seed
