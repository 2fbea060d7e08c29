"""The model server held at saturation (0 errors, memory flat), fed fuzzed bodies (0 5xx), and refusing requests
without the token when it listens beyond loopback."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
import time

import httpx
import psutil
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rlops.runtime.endpoints import free_port
from tests.reliability.conftest import size
from tests.toolkits.sb3_helpers import context, run


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    ctx = context(tmp_path_factory.mktemp("served"), {"preset": "cartpole-ppo", "rl.schedule": {
        "training_steps": 256, "evaluation_episodes": 1}})
    run(ctx)
    return ctx.model_dir


def start(model, *extra: str, env=None):
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "rlops", "serve", str(model), "--port", str(port), *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env or dict(os.environ), text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            httpx.get(f"{url}/ping", timeout=1)
            return proc, url
        except httpx.TransportError:
            if proc.poll() is not None:
                break
            time.sleep(0.1)
    proc.kill()
    raise AssertionError(proc.stdout.read())


def stop(proc):
    proc.terminate()
    try:
        return proc.communicate(timeout=20)[0]
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.communicate()[0]


@pytest.fixture(scope="module")
def server(model):
    proc, url = start(model)
    yield proc, url
    stop(proc)


def memory(pid: int) -> int:
    root = psutil.Process(pid)
    return sum(p.memory_info().rss for p in [root, *root.children(recursive=True)])


def test_saturation_without_errors_and_with_flat_memory(server):
    proc, url = server
    seconds, threads = size(10, 60), 8
    statuses: dict[int, int] = {}
    failures: list[str] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + 2 + seconds
    baseline: list[int] = []

    def client(seed: int):
        body = json.dumps([0.01 * seed, -0.02, 0.03, 0.04])
        with httpx.Client(base_url=url, timeout=10) as http:
            while time.monotonic() < stop_at:
                try:
                    status = http.post("/invocations", content=body, headers={"Content-Type": "application/json"}).status_code
                except httpx.HTTPError as exc:
                    with lock:
                        failures.append(repr(exc))
                    continue
                with lock:
                    statuses[status] = statuses.get(status, 0) + 1

    workers = [threading.Thread(target=client, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    time.sleep(2)  # warmed up: caches, allocator pools and buffers at their working size
    baseline.append(memory(proc.pid))
    samples = []
    while time.monotonic() < stop_at:
        time.sleep(1)
        samples.append(memory(proc.pid))
    for worker in workers:
        worker.join()
    assert not failures and set(statuses) == {200}, (failures[:3], statuses)
    assert statuses[200] > 100 * seconds  # it was saturated, not idle
    growth = max(samples[-3:]) - baseline[0]
    assert growth < 20 * 2 ** 20, f"server memory grew {growth / 2 ** 20:.1f} MiB under load"


BODIES = st.one_of(
    st.binary(max_size=3000),
    st.recursive(st.none() | st.booleans() | st.floats(allow_nan=True, allow_infinity=True) | st.integers()
                 | st.text(max_size=20), lambda children: st.lists(children, max_size=6)
                 | st.dictionaries(st.text(max_size=10), children, max_size=4), max_leaves=40).map(
        lambda value: json.dumps(value).encode()),
    st.lists(st.floats(allow_nan=False, width=32), min_size=0, max_size=12).map(lambda v: ",".join(map(str, v)).encode()),
)
TYPES = st.sampled_from(["application/json", "text/csv", "application/x-npy", "application/octet-stream",
                         "text/plain", "application/jsonlines", "", "application/json; charset=latin-1"])


def test_a_thousand_fuzzed_request_bodies_get_no_5xx(server):
    _, url = server
    seen: dict[int, int] = {}
    with httpx.Client(base_url=url, timeout=10) as http:
        @settings(max_examples=1000, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(body=BODIES, content_type=TYPES)
        def probe(body, content_type):
            response = http.post("/invocations", content=body, headers={"Content-Type": content_type} if content_type else {})
            seen[response.status_code] = seen.get(response.status_code, 0) + 1
            assert response.status_code < 500, (body[:200], content_type, response.text[:300])
            if response.status_code >= 400:
                assert "error" in response.json()  # a JSON body saying what was wrong

        probe()
        assert http.get("/ping").status_code == 200
    assert sum(seen.values()) >= 1000 and set(seen) & {400, 415}


def test_beyond_loopback_every_request_needs_the_token(model, rlops_home):
    env = {**os.environ, "RLOPS_HOME": str(rlops_home)}
    env.pop("RLOPS_TOKEN", None)
    proc, url = start(model, "--host", "0.0.0.0", env=env)
    try:
        token_file = rlops_home / "server-token"
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        token = token_file.read_text().strip()
        observation = json.dumps([0.0, 0.0, 0.0, 0.0])
        refused = httpx.post(f"{url}/invocations", content=observation, headers={"Content-Type": "application/json"})
        assert refused.status_code == 401 and "needs its token" in refused.json()["error"]
        assert httpx.get(f"{url}/ping").status_code == 401
        wrong = httpx.post(f"{url}/invocations", content=observation, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        answered = httpx.post(f"{url}/invocations", content=observation,
                              headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
        assert answered.status_code == 200 and "action" in answered.json()
    finally:
        first = stop(proc)
    assert f"Authorization: Bearer {token}" in first  # shown once, when it was made
    proc, url = start(model, "--host", "0.0.0.0", env=env)
    second = stop(proc)
    assert token not in second and "requests need the token in" in second
    proc, url = start(model, env=env)  # loopback: no token asked
    try:
        assert httpx.get(f"{url}/ping").status_code == 200
    finally:
        stop(proc)
