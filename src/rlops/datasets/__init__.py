"""Logged experience for batch (offline) RL: episodes with the behaviour policy's action probabilities.

- :mod:`rlops.datasets.episodes`: :class:`Episode` and :class:`Dataset` (transitions, splits, summaries, checks);
- :mod:`rlops.datasets.files`: SageMaker's batch-RL CSV, JSON lines of the same fields, local Minari datasets;
- :mod:`rlops.datasets.collect`: run a behaviour policy in an environment and log it.

>>> from rlops.datasets import collect, write_dataset, read_dataset
>>> write_dataset(collect("CartPole-v0", "random", episodes=500), "cartpole-random.csv")   # doctest: +SKIP
>>> read_dataset("cartpole-random.csv").describe()["return"]["mean"]                       # doctest: +SKIP
22.3
"""

from rlops.datasets.collect import collect
from rlops.datasets.episodes import Dataset, Episode, combine
from rlops.datasets.files import FORMATS, read_dataset, write_dataset

__all__ = ["Dataset", "Episode", "FORMATS", "collect", "combine", "read_dataset", "write_dataset"]
