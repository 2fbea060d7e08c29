"""Batch RL against d3rlpy used directly, and an endpoint with data capture against one without, in one run.

1. **Training**: the same 500 random-policy CartPole-v0 episodes (SageMaker's batch-RL CSV), the same
   discrete BCQ settings (the ``cartpole-bcq-offline`` preset: 5,000 steps in epochs of 1,000) and the
   same live evaluation (10 episodes), as
   - a plain script that reads the CSV with pandas, builds d3rlpy's ``MDPDataset``, fits and plays
     (whole-process wall time);
   - an rlops job (``RLEstimator.fit``) without off-policy evaluation (``offline.estimators: []``): the
     same work, with the job's supervisor, log, metrics, checkpoints and ONNX export;
   - the rlops job as the preset runs it, with the five off-policy estimates every epoch.
   Alternated, ``--repeats`` times each; medians and live returns.
2. **Data capture**: the trained policy on two endpoints, one capturing 100% of its invocations and one
   without capture: p50 latency of sequential requests on a keep-alive connection, and requests per
   second from ``--clients`` threads for ``--seconds`` each.

    python benchmarks/offline.py [--repeats 3] [--seconds 5] [--clients 8]

Targets (issue 13, on 2 cores): the rlops job at most 5% slower than d3rlpy directly; p50 with capture at
100% at most 10% above capture off.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

PLAIN = r'''
import sys, time, logging
import numpy as np, pandas as pd, torch, gymnasium as gym
torch.set_num_threads(1)
from rlops.toolkits.offline.algorithms import import_d3rlpy   # d3rlpy needs gym's name lent to load
d3rlpy = import_d3rlpy()
from d3rlpy.logging import NoopAdapterFactory
d3rlpy.seed(0)
frame = pd.read_csv(sys.argv[1])
features = [c for c in frame.columns if c.startswith("state_feature_")]
last = frame["episode_id"].ne(frame["episode_id"].shift(-1))
dataset = d3rlpy.dataset.MDPDataset(
    observations=frame[features].to_numpy(np.float32), actions=frame["action"].to_numpy(np.int64),
    rewards=frame["reward"].to_numpy(np.float32), terminals=last.to_numpy(np.float32),
    action_space=d3rlpy.ActionSpace.DISCRETE, action_size=2)
algo = d3rlpy.algos.DiscreteBCQConfig(batch_size=64, learning_rate=6.25e-05, target_update_interval=1000,
                                      gamma=0.99).create(device=False)
algo.fit(dataset, n_steps=5000, n_steps_per_epoch=1000, show_progress=False, logger_adapter=NoopAdapterFactory(),
         save_interval=10**9)
env, returns = gym.make("CartPole-v0"), []
for seed in range(10000, 10010):
    obs, _ = env.reset(seed=seed)
    total, done = 0.0, False
    while not done:
        obs, reward, terminated, truncated, _ = env.step(int(algo.predict(obs[None].astype(np.float32))[0]))
        total += reward
        done = terminated or truncated
    returns.append(total)
print(np.mean(returns))
'''

OBS = [0.01, -0.02, 0.03, 0.04]


def plain(csv_path: Path) -> tuple[float, float]:
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", PLAIN, str(csv_path)], capture_output=True, text=True, check=True)
    return time.perf_counter() - start, float(out.stdout.strip().splitlines()[-1])


def job(csv_path: Path, output: Path, ope: bool) -> tuple[float, float, object]:
    from rlops.rl import RLEstimator, RLToolkit

    extra = {} if ope else {"rl.offline.estimators": []}
    estimator = RLEstimator(toolkit=RLToolkit.SB3, output_path=str(output),
                            hyperparameters={"preset": "cartpole-bcq-offline", **extra})
    start = time.perf_counter()
    estimator.fit({"training": str(csv_path)}, logs=False)
    seconds = time.perf_counter() - start
    final = {m["MetricName"]: m["Value"] for m in estimator.latest_training_job.describe()["FinalMetricDataList"]}
    return seconds, final["reward-evaluation"], estimator


def p50(url: str, n: int) -> float:
    host, port = url.split("//")[1].split(":")
    connection = http.client.HTTPConnection(host, int(port))
    body = json.dumps(OBS)
    times = []
    for _ in range(n):
        started = time.perf_counter()
        connection.request("POST", "/invocations", body, {"Content-Type": "application/json"})
        connection.getresponse().read()
        times.append(time.perf_counter() - started)
    return statistics.median(times[n // 10:]) * 1000


def rps(url: str, clients: int, seconds: float) -> float:
    host, port = url.split("//")[1].split(":")
    body, counts = json.dumps(OBS), [0] * clients
    deadline = time.perf_counter() + seconds

    def client(i: int) -> None:
        connection = http.client.HTTPConnection(host, int(port))
        while time.perf_counter() < deadline:
            connection.request("POST", "/invocations", body, {"Content-Type": "application/json"})
            connection.getresponse().read()
            counts[i] += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        os.environ["RLOPS_HOME"] = home
        from rlops.datasets import collect, write_dataset
        from rlops.model_monitor import DataCaptureConfig

        csv_path = write_dataset(collect("CartPole-v0", "random", episodes=500, seed=0), Path(home) / "cartpole.csv")
        runs: dict[str, list[tuple[float, float]]] = {"d3rlpy directly": [], "rlops job": [], "rlops job + OPE": []}
        estimator = None
        for repeat in range(args.repeats):
            runs["d3rlpy directly"].append(plain(csv_path))
            seconds, live, estimator = job(csv_path, Path(home) / "out", ope=False)
            runs["rlops job"].append((seconds, live))
            runs["rlops job + OPE"].append(job(csv_path, Path(home) / "out", ope=True)[:2])
            print(f"repeat {repeat}: " + ", ".join(f"{k} {v[-1][0]:.1f} s (live {v[-1][1]:.0f})" for k, v in runs.items()),
                  flush=True)
        base = statistics.median(s for s, _ in runs["d3rlpy directly"])
        print("\n| training (500 random episodes, BCQ 5,000 steps, 10 live episodes) | median wall | live returns | ratio |")
        print("|---|---|---|---|")
        for name, values in runs.items():
            median = statistics.median(s for s, _ in values)
            print(f"| {name} | {median:.1f} s | {', '.join(f'{r:.0f}' for _, r in values)} | {median / base:.2f}x |")

        model = estimator.create_model()
        with_capture = model.deploy(1, "local", endpoint_name="bench-capture", data_capture_config=DataCaptureConfig(
            enable_capture=True, sampling_percentage=100, destination_s3_uri=str(Path(home) / "capture")))
        without = estimator.create_model().deploy(1, "local", endpoint_name="bench-plain")
        results = {}
        for _ in range(2):  # alternated, twice
            for name, predictor in (("capture off", without), ("capture 100%", with_capture)):
                results.setdefault(name, []).append((p50(predictor.url, args.requests),
                                                     rps(predictor.url, args.clients, args.seconds)))
        with_capture.delete_endpoint()
        without.delete_endpoint()
        captured = sum(len(p.read_text().splitlines()) for p in (Path(home) / "capture").rglob("*.jsonl"))
        print(f"\n| endpoint | p50 latency | requests/s ({args.clients} clients) |")
        print("|---|---|---|")
        for name, values in results.items():
            print(f"| {name} | {statistics.median(v[0] for v in values):.3f} ms | "
                  f"{statistics.median(v[1] for v in values):,.0f} |")
        off, on = (statistics.median(v[0] for v in results[k]) for k in ("capture off", "capture 100%"))
        print(f"\np50 with capture {on / off:.2f}x without (target at most 1.10x); {captured:,} invocations captured")


if __name__ == "__main__":
    main()
