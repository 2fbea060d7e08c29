"""The examples run end to end at a small budget: scripts as a user runs them, and the notebook."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).parents[2] / "examples"
pytestmark = pytest.mark.slow


def run_example(script: str, *args: str, home: Path, cwd: Path) -> str:
    env = {**os.environ, "RLOPS_HOME": str(home)}
    proc = subprocess.run([sys.executable, str(EXAMPLES / script), *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


def test_autoscaling_script(rlops_home, tmp_path):
    out = run_example("autoscaling/run.py", "--budget", "2048", "--episodes", "1", "--episode-minutes", "720",
                      "--output", str(tmp_path / "out"), home=rlops_home, cwd=tmp_path)
    assert "PPO (rlops)" in out and "target-tracking (target=" in out and "static-fleet (machines=" in out
    assert re.search(r"Endpoint autoscaling-fast-\S+: turn on \d+, turn off \d+ machines", out)
    assert re.search(r"The trained policy (beats|loses to) target-tracking \(target=\S+\) by \S+%", out)
    assert (tmp_path / "out" / "reward-curve.png").is_file() and (tmp_path / "out" / "load-vs-capacity.png").is_file()


def test_autoscaling_notebook(rlops_home, tmp_path, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    for key, value in {"RLOPS_EXAMPLE_BUDGET": "2048", "RLOPS_EXAMPLE_EPISODES": "1",
                       "RLOPS_EXAMPLE_EPISODE_MINUTES": "720", "RLOPS_EXAMPLE_OUTPUT": str(tmp_path / "nb")}.items():
        monkeypatch.setenv(key, value)
    notebook = nbformat.read(EXAMPLES / "autoscaling" / "autoscaling.ipynb", as_version=4)
    NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert sum("image/png" in o.get("data", {}) for o in outputs) == 2
    assert (tmp_path / "nb" / "load-vs-capacity.png").is_file()
    assert any("turn on" in o.get("text", "") for o in outputs)


def test_knapsack_script(rlops_home, tmp_path):
    out = run_example("knapsack/run.py", "--budget", "16384", "--episodes", "5", "--output", str(tmp_path / "out"),
                      home=rlops_home, cwd=tmp_path)
    rows = {m["policy"].strip(): (float(m["mean"]), float(m["share"])) for m in re.finditer(
        r"^(?P<policy>\S.*?)\s+(?P<mean>-?\d+\.\d)\s+(?P<share>-?\d+\.\d)%$", out, re.M)}
    assert {"MaskablePPO (rlops)", "hindsight-optimum"} <= set(rows) and any(p.startswith("threshold") for p in rows)
    optimum = rows["hindsight-optimum"][0]
    for policy, (mean, share) in rows.items():  # the optimum bounds every online policy from above
        assert 0 <= mean <= optimum and share == pytest.approx(100 * mean / optimum, abs=0.2), policy
    assert re.search(r"Endpoint knapsack-\S+: (put it in|throw it away)", out)
    # the spot-style run: interrupted twice, resumed from its checkpoints, the whole budget trained and scored
    assert re.search(r"Spot-style job knapsack-spot-\S+: Completed after 2 interruption\(s\), 2 recorded; trained "
                     r"16384 steps", out), out
    assert "MaskablePPO, spot-style" in rows


def test_cartpole_script(rlops_home, tmp_path):
    out = run_example("cartpole/run.py", "--budget", "2048", "--output", str(tmp_path / "out"), home=rlops_home,
                      cwd=tmp_path)
    assert "Final deterministic evaluation" in out and "policy.onnx" in out and "probabilities" in out


def test_mountaincar_script(rlops_home, tmp_path):
    out = run_example("mountaincar/run.py", "--budget", "1000", "--patient", "--output", str(tmp_path / "out"),
                      home=rlops_home, cwd=tmp_path)
    assert "mountaincar-dqn: final deterministic evaluation" in out and re.search(r"Endpoint \S+: action \d", out)


def test_quickstart_script(rlops_home, tmp_path):
    out = run_example("quickstart/run.py", "--episodes", "20", "--output", str(tmp_path / "out"), home=rlops_home,
                      cwd=tmp_path)
    assert "Completed" in out and "Reward curve data" in out


def run_sagemaker_notebook(name: str, budget: int, monkeypatch) -> tuple[list[str], list]:
    """Execute examples/NAME/NAME.ipynb in its folder, after checking that only `sagemaker` became `rlops` in it;
    returns the texts and the outputs of its code cells."""
    import nbformat
    from nbclient import NotebookClient

    folder = EXAMPLES / name
    notebook = nbformat.read(folder / f"{name}.ipynb", as_version=4)
    source = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    assert "sagemaker" not in source.replace("sagemaker_rl", "")  # `sagemaker` became `rlops`, nothing else did
    monkeypatch.setenv("RLOPS_EXAMPLE_BUDGET", str(budget))
    NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(folder)}}).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    errors = [o for o in outputs if o.output_type == "error"]
    assert not errors, errors
    texts = [o.get("text", "") + str(o.get("data", {}).get("text/plain", "")) for o in outputs]
    assert any("S3 bucket path: s3://rlops-default-bucket/" in t for t in texts)
    return texts, outputs


def test_a_sagemaker_coach_notebook_runs_with_only_its_imports_changed(rlops_home, monkeypatch):
    texts, outputs = run_sagemaker_notebook("rl_cartpole_coach", 20000, monkeypatch)
    assert sum("image/png" in o.get("data", {}) for o in outputs) == 1  # the reward curve
    assert any("image/gif" in o.get("data", {}) for o in outputs)  # an evaluation episode
    probabilities = [t for t in texts if t.startswith("[")]  # the two `action` cells: [p(left), p(right)]
    assert len(probabilities) == 2


def test_a_sagemaker_ray_notebook_runs_with_its_shipped_launcher_and_tensorflow_model(rlops_home, monkeypatch):
    # the notebook's common/sagemaker_rl/ray_launcher.py cannot run outside SageMaker; in the job the name is rlops's
    texts, outputs = run_sagemaker_notebook("rl_cartpole_ray", 3, monkeypatch)
    log = "".join(texts)
    assert "sagemaker_rl.ray_launcher is rlops's rlops.toolkits.rllib.launcher in this job" in log
    assert sum("image/png" in o.get("data", {}) for o in outputs) == 1  # episode_reward_mean over time
    assert re.search(r"Evaluation summary> episodes=5, mean return=\d", log)  # the evaluation job, on the model channel
    assert texts[-1].strip() in ("[0]", "[1]")  # result["outputs"]["actions_0"] of RLlib's {"inputs": ...} request


def test_tuning_script(rlops_home, tmp_path):
    out = run_example("tuning/run.py", "--jobs", "2", "--steps", "2048", "--output", str(tmp_path / "out"),
                      home=rlops_home, cwd=tmp_path)
    assert re.search(r"preset defaults\s+\S+\s+lin_0.001\s+32\s+0.0000", out)
    assert re.search(r"best of the search\s+\S+\s+\S+\s+\d+\s+\S+", out)
    assert (tmp_path / "out" / "tuning.png").is_file()


def test_batch_rl_script(rlops_home, tmp_path):
    out = run_example("batch_rl/run.py", "--episodes", "60", "--steps", "1000", "--output", str(tmp_path / "out"),
                      home=rlops_home, cwd=tmp_path)
    assert re.search(r"Round 1 data: 60 random-policy episodes, mean return \d", out)
    assert re.search(r"Round 1 job \S+: live return [\d.]+ .*WIS [-\d.]+, SDR [-\d.]+", out)
    assert "Batch transform: 100 fresh start states answered" in out
    assert re.search(r"Round 2 job \S+: live return [\d.]+", out)
    assert (tmp_path / "out" / "ope.png").is_file()
