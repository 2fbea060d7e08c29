"""Continuous actions on the offline path: fitting actions into d3rlpy's range, and the off-policy estimate.

d3rlpy's continuous policies act in [-1, 1] (a tanh); an environment with other bounds gets a
``MinMaxActionScaler`` of its bounds unless the preset sets one, so the logged actions are learned in
that range and the policy's answers are mapped back (in ``predict`` and in the exported graph).

Continuous policies have no action probabilities to weigh logged steps by, so importance sampling
does not apply; the direct method (``DM``) does: d3rlpy's fitted Q evaluation (``d3rlpy.ope.FQE``) of the
policy on the held-out episodes, continued from epoch to epoch, read at each episode's first state and
averaged, with a bootstrap interval over episodes.
"""

from __future__ import annotations

import numpy as np

from rlops.datasets import Dataset
from rlops.ope import Estimate, bootstrap_estimate

#: FQE gradient steps at the first epoch, and at each later one (continuing from the last).
FQE_FIRST_STEPS, FQE_NEXT_STEPS = 2000, 500


def action_scaler(space, hyperparameters: dict) -> dict | None:
    """The scaler d3rlpy needs for ``space`` (a ``Box``), as d3rlpy's config writes it: None when its bounds are
    [-1, 1] or the preset gives one."""
    if "action_scaler" in hyperparameters or (np.all(space.low == -1) and np.all(space.high == 1)):
        return None
    return {"type": "min_max", "params": {"minimum": space.low.tolist(), "maximum": space.high.tolist()}}


class DirectMethod:
    """The ``DM`` estimate of a continuous d3rlpy policy on ``held_out`` episodes (module docstring)."""

    def __init__(self, d3rlpy, algo, held_out: Dataset, mdp, gamma: float, device):
        from d3rlpy.logging import NoopAdapterFactory

        self._noop = NoopAdapterFactory
        self.held_out, self.mdp, self.fitted = held_out, mdp, 0
        self.first = np.stack([e.observations[0] for e in held_out])
        config = d3rlpy.ope.FQEConfig(gamma=gamma, observation_scaler=algo.config.observation_scaler,
                                      action_scaler=algo.config.action_scaler, learning_rate=3e-4,
                                      target_update_interval=20, batch_size=256)
        self.fqe = d3rlpy.ope.FQE(algo=algo, config=config, device=device)

    def estimate(self, bootstrap: int, seed: int) -> dict[str, Estimate]:
        steps = FQE_NEXT_STEPS if self.fitted else FQE_FIRST_STEPS
        for _ in self.fqe.fitter(self.mdp, n_steps=steps, n_steps_per_epoch=steps, show_progress=False,
                                 logger_adapter=self._noop(), save_interval=10 ** 9):
            pass
        self.fitted += steps
        values = self.fqe.predict_value(self.first, self.fqe.algo.predict(self.first)).astype(np.float64)
        return {"DM": bootstrap_estimate("DM", lambda index: values[index].mean(-1), len(values), bootstrap, seed=seed)}
