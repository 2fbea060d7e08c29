"""Endpoints end to end: deploy, predict, several workers, supervision, delete; transform and export."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import numpy as np
import psutil
import pytest
from click.testing import CliRunner

from rlops.cli.main import cli
from rlops.exceptions import AlreadyExists, UsageError
from rlops.model import Model
from rlops.policies import PortablePolicy
from rlops.predictor import PredictionError
from rlops.session import Session

OBS = [0.01, -0.02, 0.03, 0.04]
# each test runs on the local store and through an rlops server
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("service_mode")]


def endpoints():
    return Session().service.endpoints


def server_processes(name: str) -> list[psutil.Process]:
    return [psutil.Process(pid) for pid in endpoints().processes(name)]


def test_deploy_predict_and_delete(trained):
    predictor = trained.deploy(initial_instance_count=1, instance_type="local")
    assert predictor.endpoint_name == trained.latest_training_job.name
    answer = predictor.predict(OBS)
    expected = PortablePolicy.load(trained.model_data).predict(np.array(OBS))[0]
    assert answer["action"] == int(expected)
    batch = predictor.predict(np.array([OBS, OBS], dtype=np.float32))  # NumPy arrays are serialised too
    assert [p["action"] for p in batch["predictions"]] == [answer["action"]] * 2
    with pytest.raises(PredictionError, match="400.*shape"):
        predictor.predict([1.0, 2.0])
    record = endpoints().describe(predictor.endpoint_name)
    assert record.status == "InService" and record.url.startswith("http://127.0.0.1:")
    processes = server_processes(record.name)
    predictor.delete_endpoint()
    psutil.wait_procs(processes, timeout=10)
    assert not any(p.is_running() for p in processes)
    assert endpoints().list() == []


def test_several_workers_supervision_and_restart(trained):
    predictor = Model(trained.model_data).deploy(initial_instance_count=2, instance_type="local", endpoint_name="two-workers")
    record = endpoints().describe("two-workers")
    workers = [p for p in server_processes("two-workers")[1:] if "multiprocessing" in " ".join(p.cmdline()) or p.ppid() == record.pid]
    assert len(workers) >= 2
    assert all(predictor.predict(OBS)["action"] in (0, 1) for _ in range(20))

    processes = server_processes("two-workers")
    os.killpg(record.pid, signal.SIGKILL)  # the whole server dies
    psutil.wait_procs(processes, timeout=10)
    gone = endpoints().describe("two-workers")
    assert gone.status == "Failed" and "processes are gone" in gone.failure_reason
    assert endpoints().restart("two-workers").status == "InService"
    assert predictor.predict(OBS)["action"] in (0, 1)
    predictor.delete_endpoint()


def test_bad_deployments_leave_nothing_running(trained, tmp_path):
    predictor = trained.deploy(endpoint_name="taken")
    with pytest.raises(AlreadyExists, match="'taken' already exists"):
        Model(trained.model_data).deploy(endpoint_name="taken")
    assert [r.name for r in endpoints().list()] == ["taken"]
    predictor.delete_endpoint()
    (tmp_path / "not-a-model").mkdir()
    with pytest.raises(UsageError, match="not a portable policy"):
        Model(str(tmp_path / "not-a-model")).deploy(endpoint_name="broken")
    with pytest.raises(UsageError, match="Invalid endpoint name"):
        Model(trained.model_data).deploy(endpoint_name="bad_name")
    assert endpoints().list() == []


def test_cli_endpoints_and_predict(trained):
    trained.deploy(endpoint_name="cli-endpoint")
    runner = CliRunner()
    listed = runner.invoke(cli, ["endpoints", "list"]).output
    assert "cli-endpoint" in listed and "InService" in listed
    described = json.loads(runner.invoke(cli, ["endpoints", "describe", "cli-endpoint", "--json"]).output)
    assert described["EndpointStatus"] == "InService" and described["Pids"]
    answer = json.loads(runner.invoke(cli, ["predict", "cli-endpoint", json.dumps(OBS)]).output)
    assert answer["action"] in (0, 1)
    assert "Uvicorn running" in runner.invoke(cli, ["endpoints", "logs", "cli-endpoint"]).output
    bad = runner.invoke(cli, ["predict", "cli-endpoint", "[1, 2]"])
    assert bad.exit_code == 1 and "400" in bad.output
    assert "Deleted endpoint cli-endpoint" in runner.invoke(cli, ["endpoints", "delete", "cli-endpoint"]).output


def test_transform_keeps_order_and_joins(trained, tmp_path):
    rng = np.random.default_rng(0)
    observations = np.clip(rng.normal(0, 0.1, (2500, 4)), -0.4, 0.4)
    source = tmp_path / "obs.jsonl"
    source.write_text("".join(json.dumps(o) + "\n" for o in observations.tolist()))
    model = trained.model_data
    result = CliRunner().invoke(cli, ["transform", model, "--input", str(source), "--output", str(tmp_path / "a.jsonl"),
                                      "--batch-size", "1000"])
    assert result.exit_code == 0 and "Wrote 2500 answers" in result.output
    answers = [json.loads(l)["action"] for l in (tmp_path / "a.jsonl").read_text().splitlines()]
    expected, _ = PortablePolicy.load(model).predict(observations.astype(np.float32))
    assert answers == expected.tolist()
    CliRunner().invoke(cli, ["transform", model, "--input", str(source), "--output", str(tmp_path / "j.jsonl"), "--join"])
    first = json.loads((tmp_path / "j.jsonl").read_text().splitlines()[0])
    assert first["input"] == observations[0].tolist() and first["output"]["action"] == answers[0]
    (tmp_path / "bad.jsonl").write_text("[0, 0, 0, 0]\n[0, 0]\n")
    bad = CliRunner().invoke(cli, ["transform", model, "--input", str(tmp_path / "bad.jsonl"), "--output",
                                   str(tmp_path / "x.jsonl")])
    assert bad.exit_code == 2 and "shape" in bad.output and not (tmp_path / "x.jsonl").exists()


def test_export_for_a_device(trained, tmp_path):
    target = tmp_path / "device"
    result = CliRunner().invoke(cli, ["export", trained.latest_training_job.name, "--to", str(target)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in target.iterdir()) == ["policy.json", "policy.onnx", "policy_inference.py"]
    # the module runs with NumPy and ONNX Runtime alone: no rlops, no torch on its path
    code = ("import sys; sys.modules['torch'] = None; sys.modules['rlops'] = None\n"
            "from policy_inference import Policy\n"
            f"print(int(Policy('.').act({OBS!r})))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=target, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    expected = PortablePolicy.load(trained.model_data).predict(np.array(OBS))[0]
    assert int(proc.stdout) == int(expected)


def test_estimator_transformer(trained, tmp_path):
    source = tmp_path / "in" / "obs.jsonl"
    source.parent.mkdir()
    source.write_text(f"{json.dumps(OBS)}\n{json.dumps([0.0, 0.1, -0.1, 0.0])}\n")
    transformer = trained.transformer(instance_count=1, instance_type="local", output_path=str(tmp_path / "out"))
    transformer.transform(source.parent.as_uri(), content_type="application/jsonlines", join_source="Input")
    assert transformer.output_files == [str(tmp_path / "out" / "obs.jsonl.out")]
    rows = [json.loads(line) for line in (tmp_path / "out" / "obs.jsonl.out").read_text().splitlines()]
    assert [r["input"] for r in rows] == [OBS, [0.0, 0.1, -0.1, 0.0]] and all("action" in r["output"] for r in rows)


def test_framework_answer_shapes_and_out_of_bounds_observations(trained, tmp_path):
    from rlops.mxnet import MXNetModel
    from rlops.tensorflow.model import TensorFlowModel

    policy = PortablePolicy.load(trained.model_data)
    outputs = policy.run(np.array([[0.0, 0.0, 2.0, 2.0]], dtype=np.float32))  # outside CartPole's bounds, as notebooks ask
    # Coach-MXNet: the notebook unpacks `value, action = predictor.predict(obs)`
    handler = tmp_path / "deploy-mxnet-coach.py"
    handler.write_text("import mxnet as mx\n\ndef model_fn(model_dir):\n    return mx.mod.Module.load(model_dir)\n")
    predictor = MXNetModel(trained.model_data, framework_version="1.6.0").deploy(
        1, "local", endpoint_name="coach-mxnet", entry_point=str(handler))
    value, action = predictor.predict(np.array([0.0, 0.0, 2.0, 2.0]))
    assert np.allclose(action, outputs["probabilities"][0], atol=1e-5) and np.isclose(value[0], outputs["value"][0][0], atol=1e-4)
    predictor.delete_model()
    predictor.delete_endpoint()
    # TensorFlow Serving: {"predictions": [...]} of the policy head
    predictor = TensorFlowModel(trained.model_data, framework_version="2.1.0").deploy(1, "local", endpoint_name="tf-serving")
    answer = predictor.predict([0.0, 0.0, 2.0, 2.0])
    assert np.allclose(answer["predictions"], outputs["probabilities"][0], atol=1e-5)
    assert len(predictor.predict({"instances": [OBS, OBS]})["predictions"]) == 2
    predictor.delete_endpoint()
    # a handler that needs no framework runs in the endpoint: SageMaker's model_fn/input_fn/predict_fn/output_fn
    plain = tmp_path / "inference.py"
    plain.write_text(
        "import json\n"
        "from rlops.policies import PortablePolicy\n\n"
        "def model_fn(model_dir):\n    return PortablePolicy.load(model_dir)\n\n"
        "def input_fn(body, content_type):\n    return json.loads(body)['state']\n\n"
        "def predict_fn(state, policy):\n    action, _ = policy.predict(state)\n    return {'move': 'right' if int(action) else 'left'}\n\n"
        "def output_fn(prediction, accept):\n    return json.dumps(prediction), 'application/json'\n")
    predictor = Model(trained.model_data).deploy(1, "local", endpoint_name="plain-handler", entry_point=str(plain))
    expected = int(PortablePolicy.load(trained.model_data).predict(np.array(OBS))[0])
    assert predictor.predict({"state": OBS}) == {"move": "right" if expected else "left"}
    with pytest.raises(PredictionError, match="500.*inference handler inference.py failed: KeyError"):
        predictor.predict({"no-state": OBS})
    assert predictor.predict({"state": OBS})["move"] in ("left", "right")  # still serving
    predictor.delete_endpoint()
    assert endpoints().list() == []
