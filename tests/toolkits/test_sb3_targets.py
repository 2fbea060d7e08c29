"""The built-in CartPole presets solve CartPole-v1 in a real job: deterministic evaluation >= 475."""

from __future__ import annotations

import pytest

from rlops.rl import RLEstimator, RLToolkit

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("preset", ["cartpole-ppo", "cartpole-dqn"])
def test_preset_reaches_475(preset, tmp_path):
    estimator = RLEstimator(toolkit=RLToolkit.SB3, hyperparameters={"preset": preset},
                            output_path=str(tmp_path / "out"))
    estimator.fit(logs=False)
    final = {m["MetricName"]: m["Value"] for m in estimator.latest_training_job.describe()["FinalMetricDataList"]}
    assert final["reward-evaluation"] >= 475, final
