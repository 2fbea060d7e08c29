"""``rlops presets`` and ``rlops train`` through click's in-process runner."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from rlops.cli.main import cli
from rlops.store import JobStore


def test_presets_list_and_show():
    runner = CliRunner()
    table = runner.invoke(cli, ["presets", "list"])
    assert table.exit_code == 0 and table.output.split()[:6] == ["NAME", "ENVIRONMENT", "ALGORITHM", "STEPS", "TARGET", "DESCRIPTION"]
    rows = json.loads(runner.invoke(cli, ["presets", "list", "--json"]).output)
    assert {"cartpole-ppo", "cartpole-dqn"} <= {r["name"] for r in rows}
    shown = runner.invoke(cli, ["presets", "show", "cartpole-ppo"]).output
    assert "name: PPO" in shown and "n_steps: 32" in shown
    missing = runner.invoke(cli, ["presets", "show", "cartpole-pp"])
    assert missing.exit_code == 2 and "Did you mean 'cartpole-ppo'" in missing.output


@pytest.mark.slow
def test_train_with_overrides_keeps_types(tmp_path):
    runner = CliRunner()
    result = runner.invoke(cli, [
        "train", "--preset", "cartpole-ppo", "--output-path", str(tmp_path), "--job-name", "cli-train",
        "--set", "rl.schedule.training_steps=256", "--set", "rl.schedule.evaluation_episodes=1",
        "--set", "discount=0.97", "--set", 'rl.algorithm.hyperparameters.policy_kwargs={"net_arch": [16]}',
    ])
    assert result.exit_code == 0, result.output
    assert "Completed - Training job completed" in result.output and "Model: file://" in result.output
    hps = JobStore().get("cli-train").spec["hyperparameters"]
    assert hps["rl.schedule.training_steps"] == "256" and hps["discount"] == "0.97"
    assert json.loads(hps["rl.algorithm.hyperparameters.policy_kwargs"]) == {"net_arch": [16]}


def test_train_refuses_a_bad_setting_before_starting():
    result = CliRunner().invoke(cli, ["train", "--preset", "cartpole-ppo", "--set", "rl.env.n_envs=many"])
    assert result.exit_code == 2 and "'env.n_envs' must be int; got 'many'" in result.output
    assert JobStore().list() == []
    bad = CliRunner().invoke(cli, ["train", "--preset", "cartpole-ppo", "--set", "novalue"])
    assert bad.exit_code == 2 and "KEY=VALUE" in bad.output


def test_presets_of_every_toolkit_are_listed_and_shown():
    from rlops.cli.presets import toolkit_of

    runner = CliRunner()
    rows = json.loads(runner.invoke(cli, ["presets", "list", "--json"]).output)
    toolkits = {r["name"]: r["toolkit"] for r in rows}
    assert toolkits["cartpole-ppo"] == "sb3" and toolkits["cartpole-rllib-ppo"] == "ray"
    assert toolkit_of("autoscaling-rllib-ppo") == "ray" and toolkit_of("knapsack-ppo") == "sb3"
    shown = runner.invoke(cli, ["presets", "show", "cartpole-rllib-ppo"]).output
    assert "run: PPO" in shown and "rllib/presets/cartpole-rllib-ppo.yaml" in shown
