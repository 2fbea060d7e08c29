"""An rlops endpoint against the server a user would otherwise write (FastAPI calling SB3's predict).

Both serve the same CartPole PPO policy on 127.0.0.1 with the same number of worker processes,
measured in the same run: latency of single predictions at concurrency 1 (p50, p99, from a
keep-alive client), requests per second at concurrency 1 to 64 (wrk), and the time of one request
carrying 10,000 observations.

    python benchmarks/endpoint.py [--workers 2] [--seconds 5]

Needs FastAPI (the ``rlops[bench]`` extra, which ``make bench`` installs) and ``wrk``
(``apt-get install wrk``). Targets (issue 5, on 2 cores): against the FastAPI + SB3
server at least 3x the requests per second and at most half the p50 latency; p50 <= 0.5 ms at
concurrency 1, >= 5,000 requests/s at concurrency 16, 10,000 observations in <= 20 ms.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from requirements import require

PEER = '''
import os
import numpy as np
from fastapi import FastAPI
from pydantic import BaseModel
from stable_baselines3 import PPO

model = PPO.load(os.environ["PEER_MODEL"], device="cpu")
app = FastAPI()


class Request(BaseModel):
    instances: list[list[float]]


@app.post("/invocations")
def invocations(request: Request):
    actions, _ = model.predict(np.asarray(request.instances, dtype=np.float32), deterministic=True)
    return {"predictions": [{"action": int(a)} for a in actions]}
'''
OBS = [0.01, -0.02, 0.03, 0.04]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(port: int) -> None:
    body = json.dumps({"instances": [OBS]})
    for _ in range(600):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("POST", "/invocations", body, {"Content-Type": "application/json"})
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server on port {port} did not start")


def latencies(port: int, n: int) -> list[float]:
    connection = http.client.HTTPConnection("127.0.0.1", port)
    body = json.dumps({"instances": [OBS]})
    times = []
    for _ in range(n):
        started = time.perf_counter()
        connection.request("POST", "/invocations", body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
        times.append(time.perf_counter() - started)
    return times


def big_request(port: int, n: int = 10_000, repeats: int = 5) -> float:
    import numpy as np

    rows = np.clip(np.random.default_rng(0).normal(0, 0.1, (n, 4)), -0.4, 0.4).tolist()
    body = json.dumps({"instances": rows})
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        connection.request("POST", "/invocations", body, {"Content-Type": "application/json"})
        assert connection.getresponse().read()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def wrk_rps(port: int, connections: int, seconds: int, script: Path) -> float:
    threads = min(connections, 2)
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "-s", str(script),
                          f"http://127.0.0.1:{port}/invocations"], capture_output=True, text=True, check=True).stdout
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2, help="server processes for each server (default 2)")
    parser.add_argument("--seconds", type=int, default=5, help="wrk duration per concurrency level")
    args = parser.parse_args()
    require(modules=("fastapi", "uvicorn"), programs={"wrk": "apt-get install wrk"})

    work = Path(tempfile.mkdtemp(prefix="rlops-endpoint-bench-"))
    os.environ["RLOPS_HOME"] = str(work / "home")
    from rlops.model import Model
    from rlops.rl import RLEstimator, RLToolkit
    from rlops.storage import resolve_uri, unpack

    estimator = RLEstimator(toolkit=RLToolkit.SB3, output_path=str(work / "out"),
                            hyperparameters={"preset": "cartpole-ppo", "rl.schedule.training_steps": 2048,
                                             "rl.schedule.evaluation_episodes": 1})
    estimator.fit(logs=False)
    model_dir = unpack(resolve_uri(estimator.model_data), work / "model")

    predictor = Model(estimator.model_data).deploy(initial_instance_count=args.workers, endpoint_name="bench")
    rlops_port = predictor.sagemaker_session.service.endpoints.describe("bench").port
    peer_port = free_port()
    (work / "peer.py").write_text(PEER)
    peer = subprocess.Popen([sys.executable, "-m", "uvicorn", "peer:app", "--port", str(peer_port), "--workers",
                             str(args.workers), "--log-level", "warning", "--no-access-log"], cwd=work,
                            env={**os.environ, "PEER_MODEL": str(model_dir / "model.zip")})
    script = work / "post.lua"
    script.write_text('wrk.method = "POST"\nwrk.body = \'{"instances": [[0.01, -0.02, 0.03, 0.04]]}\'\n'
                      'wrk.headers["Content-Type"] = "application/json"\n')
    try:
        wait_ready(peer_port)
        wait_ready(rlops_port)
        results = {}
        for label, port in (("rlops endpoint", rlops_port), ("FastAPI + SB3 predict", peer_port)):
            latencies(port, 300)  # warm up
            times = sorted(latencies(port, 3000))
            results[label] = {
                "p50_ms": 1000 * times[len(times) // 2], "p99_ms": 1000 * times[int(len(times) * 0.99)],
                **{f"rps_c{c}": wrk_rps(port, c, args.seconds, script) for c in (1, 4, 16, 64)},
                "obs10k_ms": 1000 * big_request(port),
            }
    finally:
        peer.terminate()
        predictor.delete_endpoint()

    columns = ["p50_ms", "p99_ms", "rps_c1", "rps_c4", "rps_c16", "rps_c64", "obs10k_ms"]
    print(f"\nCartPole PPO policy, {args.workers} workers each, 127.0.0.1, {os.cpu_count()} CPUs (client on the same CPUs)\n")
    print(f"{'':<24}" + "".join(f"{c:>11}" for c in columns))
    for label, row in results.items():
        print(f"{label:<24}" + "".join(f"{row[c]:>11.2f}" if c.endswith("ms") else f"{row[c]:>11.0f}" for c in columns))
    ours, peer_row = results["rlops endpoint"], results["FastAPI + SB3 predict"]
    print(f"{'ratio (rlops / peer)':<24}" + "".join(f"{ours[c] / peer_row[c]:>11.2f}" for c in columns))


if __name__ == "__main__":
    main()
