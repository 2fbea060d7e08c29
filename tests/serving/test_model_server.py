"""The model server over real HTTP on loopback: every format, every error, and no 5xx ever."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import httpx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rlops.runtime.endpoints import free_port
from tests.toolkits.sb3_helpers import context, run

pytestmark = pytest.mark.slow  # every test here starts job or server processes



@pytest.fixture(scope="module")
def cartpole_model(tmp_path_factory):
    hps = {"preset": "cartpole-ppo", "rl.schedule": {"training_steps": 512, "evaluation_episodes": 1},
           "rl.env.normalize": {"obs": True}}
    ctx = context(tmp_path_factory.mktemp("served"), hps)
    run(ctx)
    return ctx.model_dir


@pytest.fixture(scope="module")
def server(cartpole_model):
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "rlops.cli.main", "serve", str(cartpole_model), "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env={**os.environ})
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if httpx.get(f"{url}/ping").status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
    else:
        proc.kill()
        raise AssertionError(proc.stdout.read().decode())
    with httpx.Client(base_url=url, timeout=10) as client:
        yield client
    proc.terminate()
    proc.wait(timeout=10)


OBS = [0.01, -0.02, 0.03, 0.04]


def test_formats(server):
    single = server.post("/invocations", json=OBS).json()
    assert single["action"] in (0, 1) and len(single["probabilities"]) == 2 and isinstance(single["value"], float)
    listed = server.post("/invocations", json=[OBS, OBS]).json()
    assert [p["action"] for p in listed["predictions"]] == [single["action"]] * 2
    instances = server.post("/invocations", json={"instances": [OBS]}).json()
    assert instances["predictions"][0] == single
    rllib = server.post("/invocations", json={"inputs": {"observations": [OBS], "prev_action": [0], "is_training": False,
                                                            "seq_lens": [1]}}).json()
    assert rllib["outputs"]["actions_0"] == [single["action"]] and "vf_preds" in rllib["outputs"]
    lines = server.post("/invocations", content=f"{json.dumps(OBS)}\n{json.dumps(OBS)}\n",
                        headers={"Content-Type": "application/jsonlines"})
    assert [json.loads(l)["action"] for l in lines.text.splitlines()] == [single["action"]] * 2
    csv = server.post("/invocations", content="0.01,-0.02,0.03,0.04\n0.01,-0.02,0.03,0.04\n",
                      headers={"Content-Type": "text/csv"}).json()
    assert len(csv["predictions"]) == 2


def test_served_actions_equal_the_toolkits_deterministic_actions(server, cartpole_model):
    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize
    import gymnasium as gym

    rng = np.random.default_rng(0)
    observations = rng.normal(0, [1.0, 1.5, 0.2, 1.5], size=(1000, 4)).astype(np.float32)
    observations = np.clip(observations, [-4.7, -10, -0.41, -10], [4.7, 10, 0.41, 10]).astype(np.float32)
    served = server.post("/invocations", json={"instances": observations.tolist()}).json()["predictions"]
    model = PPO.load(cartpole_model / "model.zip", device="cpu")
    norm = VecNormalize.load(str(cartpole_model / "vecnormalize.pkl"), DummyVecEnv([lambda: gym.make("CartPole-v1")]))
    expected, _ = model.predict(norm.normalize_obs(observations), deterministic=True)
    assert [p["action"] for p in served] == expected.tolist()


@pytest.mark.parametrize("body, content_type, status, fragment", [
    (b"[0.1, 0.2]", "application/json", 400, "shape [2] does not match"),
    (b"[[0.1, 0.2, 0.3, 0.4], [1, 2]]", "application/json", 400, "same shape"),
    (b'["a", "b", "c", "d"]', "application/json", 400, "numbers"),
    (b"[true, false, true, false]", "application/json", 400, "not booleans"),
    (b"[0.1, NaN, 0.3, 0.4]", "application/json", 400, "not valid JSON"),
    (b"{not json", "application/json", 400, "not valid JSON"),
    (b'{"observations": []}', "application/json", 400, "'instances' or 'inputs.observations'"),
    (b"[]", "application/json", 400, "non-empty"),
    (b"[1e400, 0, 0, 0]", "application/json", 400, "not valid JSON|finite"),
    (b"0.1,x,0.3,0.4", "text/csv", 400, "not a number"),
    (b"<obs/>", "application/xml", 415, "Unsupported content type"),
])
def test_bad_requests_get_a_clear_4xx(server, body, content_type, status, fragment):
    response = server.post("/invocations", content=body, headers={"Content-Type": content_type})
    assert response.status_code == status and any(f in response.json()["error"] for f in fragment.split("|"))
    assert "expected" in response.json()
    assert server.get("/ping").status_code == 200  # still serving


def test_an_observation_out_of_bounds_is_answered_with_a_warning(server):
    # CartPole's angle is bounded by 0.42; SageMaker's notebooks probe policies with [0, 0, 2, 2]
    response = server.post("/invocations", json=[0.0, 0.0, 3.0, 0.0])
    assert response.status_code == 200 and response.json()["action"] in (0, 1)
    assert "outside the observation space at index [2]" in response.headers["warning"]
    assert "warning" not in server.post("/invocations", json=[0.0, 0.0, 0.1, 0.0]).headers


json_values = st.recursive(st.none() | st.booleans() | st.floats(allow_nan=True) | st.integers() | st.text(max_size=5),
                           lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=5), children, max_size=4),
                           max_leaves=20)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(st.binary(max_size=200), json_values.map(lambda v: json.dumps(v).encode())),
       content_type=st.sampled_from(["application/json", "application/jsonlines", "text/csv", "text/plain", ""]))
def test_arbitrary_bodies_never_get_a_5xx(server, body, content_type):
    response = server.post("/invocations", content=body, headers={"Content-Type": content_type} if content_type else {})
    assert response.status_code < 500, response.text


def test_serve_refuses_a_port_in_use_and_a_model_that_is_not_a_policy(cartpole_model, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run([sys.executable, "-m", "rlops.cli.main", "serve", str(cartpole_model), "--port", str(port)],
                              capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and f"Port {port} on 127.0.0.1 is already in use" in proc.stderr
    (tmp_path / "empty").mkdir()
    proc = subprocess.run([sys.executable, "-m", "rlops.cli.main", "serve", str(tmp_path / "empty")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "not a portable policy" in proc.stderr
