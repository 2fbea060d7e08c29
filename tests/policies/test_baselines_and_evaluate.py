"""Baselines, the hindsight optimum, portable policies and ``rlops evaluate`` / ``rlops plot``."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from click.testing import CliRunner

from rlops.cli.main import cli
from rlops.policies import PolicyError, PortablePolicy, load_policy
from rlops.policies.baselines import optimal_subset
from rlops.policies.evaluation import evaluate
from rlops.toolkits.sb3.presets import load_preset
from tests.toolkits.sb3_helpers import context, run


def test_optimal_subset_matches_brute_force():
    rng = np.random.default_rng(0)
    for dims in (1, 2):
        for _ in range(20):
            n = 8
            sizes = rng.integers(1, 30, size=(n, dims))
            values = rng.integers(1, 40, size=n)
            capacity = rng.integers(20, 80, size=dims)
            best = max((sum(values[list(c)]) for r in range(n + 1) for c in itertools.combinations(range(n), r)
                        if np.all(sizes[list(c)].sum(axis=0) <= capacity) or not c), default=0)
            chosen = optimal_subset(sizes, values, capacity)
            assert np.all(sizes[chosen].sum(axis=0) <= capacity)
            assert values[chosen].sum() == best


def test_hindsight_optimum_bounds_the_threshold_rule():
    policies = {name: load_policy(name, "rlops/Knapsack-v0") for name in ("hindsight-optimum", "threshold")}
    optimum, threshold = evaluate(policies, "rlops/Knapsack-v0", episodes=10)
    assert all(o >= t for o, t in zip(optimum.returns, threshold.returns))
    assert optimum.summary()["mean"] > threshold.summary()["mean"]


def test_autoscaling_baselines_are_tuned_and_target_tracking_beats_doing_nothing():
    tracking = load_policy("target-tracking", "rlops/AutoScaling-v0", {"max_time_steps": 1440})
    assert tracking.value in tracking.grid
    static = load_policy("static-fleet:50", "rlops/AutoScaling-v0", {"max_time_steps": 1440})
    reports = evaluate({"tracking": tracking, "static": static}, "rlops/AutoScaling-v0", {"max_time_steps": 1440},
                       episodes=3, trace=True)
    assert reports[0].summary()["mean"] > reports[1].summary()["mean"]
    assert reports[0].summary()["machine_minutes"] < reports[1].summary()["machine_minutes"]
    assert len(reports[0].trace["load"]) == 1441 and len(reports[0].trace["capacity"]) == 1441


@pytest.fixture(scope="module")
def knapsack_model(tmp_path_factory):
    hps = {"preset": "knapsack-ppo", "rl.schedule": {"training_steps": 2048, "evaluation_episodes": 1}}
    ctx = context(tmp_path_factory.mktemp("knapsack"), hps)
    run(ctx)
    return ctx.model_dir


def test_portable_policy_acts_with_masks_and_refuses_other_spaces(knapsack_model):
    policy = PortablePolicy.load(knapsack_model)
    assert policy.env_id == "rlops/Knapsack-v0"
    report, = evaluate({"trained": policy}, "rlops/Knapsack-v0", episodes=3)
    assert len(report.returns) == 3
    with pytest.raises(PolicyError, match=r"Policy: observation Box.*\(6,\).*Environment: observation Box.*\(9,\)"):
        evaluate({"trained": policy}, "rlops/KnapsackMedium-v0", episodes=1)


def test_evaluate_cli_table_json_and_bad_input(knapsack_model, tmp_path):
    runner = CliRunner()
    result = runner.invoke(cli, ["evaluate", str(knapsack_model), "--baselines", "-n", "3"])
    assert result.exit_code == 0, result.output
    lines = [l for l in result.output.splitlines() if l.strip()]
    header = next(l for l in lines if l.startswith("POLICY"))
    assert "MEAN RETURN" in header and "BAG VALUE" in header
    assert any(l.startswith("hindsight-optimum") for l in lines) and any(l.startswith("threshold (density=") for l in lines)
    rows = json.loads(runner.invoke(cli, ["evaluate", "threshold:1.0", "--env", "rlops/Knapsack-v0", "-n", "2",
                                          "--json"]).stdout)
    assert rows[0]["policy"] == "threshold (density=1)" and rows[0]["episodes"] == 2
    unknown = runner.invoke(cli, ["evaluate", "target-trackin", "--env", "rlops/AutoScaling-v0"])
    assert unknown.exit_code == 2 and "Did you mean 'target-tracking'" in unknown.output
    not_policy = tmp_path / "x.tar.gz"
    not_policy.write_bytes(b"not an archive")
    bad = runner.invoke(cli, ["evaluate", str(not_policy), "--env", "rlops/Knapsack-v0"])
    assert bad.exit_code != 0 and "not a readable model archive" in bad.output


def test_evaluate_cli_takes_a_job_name(estimator_factory):
    estimator = estimator_factory(None, hyperparameters={
        "preset": "knapsack-ppo", "rl.schedule": {"training_steps": 2048, "evaluation_episodes": 1}})
    estimator.fit(logs=False, job_name="knapsack-job")
    result = CliRunner().invoke(cli, ["evaluate", "knapsack-job", "--baselines", "-n", "2"])
    assert result.exit_code == 0, result.output  # the job's model, on the environment it was trained on
    assert any(line.startswith("knapsack-job ") for line in result.output.splitlines())
    assert "hindsight-optimum" in result.output


def test_autoscaling_picture(tmp_path):
    picture = tmp_path / "scaling.png"
    result = CliRunner().invoke(cli, ["evaluate", "target-tracking:0.7", "static-fleet:45", "--env",
                                      "rlops/AutoScaling-v0", "-n", "1", "--plot", str(picture)])
    assert result.exit_code == 0, result.output
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and picture.stat().st_size > 20_000


def test_plot_cli_draws_the_reward_curve(estimator_factory, tmp_path):
    estimator = estimator_factory("emit_metrics.py", hyperparameters={"episodes": 5})
    estimator.fit(logs=False, job_name="plotted")
    out = tmp_path / "curve.png"
    result = CliRunner().invoke(cli, ["plot", "plotted", "-o", str(out)])
    assert result.exit_code == 0 and "reward-training" in result.output
    assert out.read_bytes()[:4] == b"\x89PNG"
    missing = CliRunner().invoke(cli, ["plot", "plotted", "-m", "nope"])
    assert missing.exit_code == 2 and "no metric 'nope'" in missing.output
    assert estimator.training_job_analytics.plot(str(tmp_path / "a.png")).endswith("a.png")


@pytest.mark.parametrize("preset", ["autoscaling-ppo", "knapsack-ppo", "knapsack-medium-ppo", "knapsack-hard-ppo",
                                    "mountaincar-dqn", "mountaincar-continuous-sac"])
def test_new_presets_are_valid(preset):
    assert load_preset(preset).name == preset
