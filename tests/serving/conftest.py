"""A small trained cart-pole policy for the endpoint tests."""

from __future__ import annotations

import pytest

from rlops.rl import RLEstimator, RLToolkit


@pytest.fixture
def trained(tmp_path):
    estimator = RLEstimator(toolkit=RLToolkit.SB3, output_path=str(tmp_path / "out"),
                            hyperparameters={"preset": "cartpole-ppo", "rl.schedule.training_steps": 256,
                                             "rl.schedule.evaluation_episodes": 1})
    estimator.fit(logs=False)
    return estimator
