"""The fast engine against Stable-Baselines3, in the same run, and the vectorised environments' step rates.

1. **Cart-pole, time to solved**: whole-process wall time, from starting Python to a policy whose
   deterministic evaluation (20 episodes) averages at least 475, evaluated every 4,096 (fast engine) or
   8,192 (SB3) steps:
   - rlops's fast engine (the ``cartpole-fast`` preset's settings), as a plain script;
   - Stable-Baselines3 PPO with RL Zoo's tuned cart-pole settings (the ``cartpole-ppo`` preset's);
   - the ``cartpole-fast`` preset as an rlops job (``RLEstimator.fit``: supervisor, log, artifacts).
2. **Auto scaling**: the ``autoscaling-fast`` preset as a plain script: training time, then its mean
   return on the 20 held-out seeds (1000-1019) against tuned target tracking and the static fleet.
3. **Knapsack** (``--knapsack``): each fast knapsack preset and its SB3 preset (MaskablePPO) as a job
   in a fresh process: whole-process wall time and the mean return on 100 held-out episodes, with the
   tuned value-density threshold.
4. **Environment steps per second** of each vectorised environment at 1, 64 and 1,024 copies, and of
   the single-copy environment stepped in a Python loop.

    python benchmarks/fast_engine.py [--skip-autoscaling] [--knapsack] [--repeats 1]

Targets (issue 11, on 2 cores): cart-pole solved in at most 3 s of process wall time and at least 10x
faster than SB3; auto scaling above target tracking after at most 60 s of training.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

FAST_CARTPOLE = r'''
import time, json, sys
import numpy as np, torch
from rlops.toolkits.fast.ppo import PPO
from rlops.toolkits.fast.training import make_env, make_settings, play, torch_actor
from rlops.toolkits.sb3.presets import load_preset
preset = load_preset("cartpole-fast")
torch.set_num_threads(int(sys.argv[1]))
env, eval_env = make_env(preset, preset.env.n_envs), make_env(preset, 20)
ppo = PPO(env, make_settings(preset), seed=int(sys.argv[2]))
result = {}
def check(progress):
    if progress.steps % preset.schedule.evaluation_every == 0:
        import contextlib, io
        with contextlib.redirect_stdout(io.StringIO()):
            mean = play(torch_actor(ppo), eval_env, 20, 100_000).mean
        if mean >= 475:
            result.update(steps=progress.steps, mean=mean)
            return False
ppo.learn(preset.schedule.training_steps, check)
print(json.dumps(result))
'''

SB3_CARTPOLE = r'''
import json, sys
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy
torch.set_num_threads(int(sys.argv[1]))
env = make_vec_env("CartPole-v1", n_envs=8, seed=int(sys.argv[2]))
eval_env = make_vec_env("CartPole-v1", n_envs=1, seed=100_000)
lin = lambda start: (lambda progress: progress * start)
model = PPO("MlpPolicy", env, n_steps=32, batch_size=256, gae_lambda=0.8, gamma=0.98, n_epochs=20, ent_coef=0.0,
            learning_rate=lin(0.001), clip_range=lin(0.2), seed=int(sys.argv[2]), device="cpu")
result = {}
class Solved(BaseCallback):
    def _on_step(self):
        if self.num_timesteps % 8192 < 8:
            mean, _ = evaluate_policy(self.model, eval_env, n_eval_episodes=20, deterministic=True)
            if mean >= 475:
                result.update(steps=self.num_timesteps, mean=mean)
                return False
        return True
model.learn(300_000, callback=Solved())
print(json.dumps(result))
'''

FAST_AUTOSCALING = r'''
import contextlib, io, json, sys, time
import numpy as np, torch
start = time.monotonic()
from rlops.policies import load_policy
from rlops.policies.evaluation import evaluate
from rlops.toolkits.fast.ppo import PPO
from rlops.toolkits.fast.training import make_env, make_settings, play, torch_actor
from rlops.toolkits.sb3.presets import load_preset
preset = load_preset("autoscaling-fast")
torch.set_num_threads(int(sys.argv[1]))
ppo = PPO(make_env(preset, preset.env.n_envs), make_settings(preset), seed=preset.seed)
ppo.learn(preset.schedule.training_steps)
trained = time.monotonic() - start
with contextlib.redirect_stdout(io.StringIO()):
    ours = play(torch_actor(ppo), make_env(preset, 20), 20, 1000).mean  # seeds 1000-1019, as the baselines below
reports = evaluate({name: load_policy(name, "rlops/AutoScaling-v0") for name in ("target-tracking", "static-fleet")},
                   "rlops/AutoScaling-v0", episodes=20, seed=1000)
print(json.dumps({"training_s": trained, "steps": ppo.steps, "fast": ours,
                  **{r.policy: r.summary()["mean"] for r in reports}}))
'''


KNAPSACK = [("knapsack-fast", "knapsack-ppo"), ("knapsack-medium-fast", "knapsack-medium-ppo"),
            ("knapsack-hard-fast", "knapsack-hard-ppo")]

KNAPSACK_SCRIPT = r'''
import contextlib, io, json, os, sys, tempfile
from pathlib import Path
os.environ["RLOPS_HOME"] = tempfile.mkdtemp()
from rlops.toolkits.sb3.launcher import JobContext, SB3Launcher
from rlops.policies import PortablePolicy, load_policy
from rlops.policies.evaluation import evaluate
from rlops.toolkits.sb3.presets import load_preset
home, preset = os.environ["RLOPS_HOME"], sys.argv[2]
folders = {k: Path(home) / k for k in ("model", "data", "intermediate", "checkpoints")}
for folder in folders.values():
    os.makedirs(folder)
context = JobContext(hyperparameters={"preset": preset}, model_dir=folders["model"], output_data_dir=folders["data"],
                     intermediate_dir=folders["intermediate"], checkpoint_dir=folders["checkpoints"], code_dir=Path(home),
                     channels={}, num_cpus=int(sys.argv[1]))
with contextlib.redirect_stdout(io.StringIO()):
    SB3Launcher(context).run()
    env_id = load_preset(preset).env.id
    policies = {"policy": PortablePolicy(folders["model"]), "threshold": load_policy("threshold", env_id)}
    rows = {r.policy: r.summary()["mean"] for r in evaluate(policies, env_id, episodes=100, seed=1000)}
print(json.dumps({"env": env_id, **rows}))
'''


def timed(code: str, *args: str) -> tuple[float, dict]:
    """Run ``code`` in a fresh Python; returns (whole-process wall seconds, the JSON it printed last)."""
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True)
    return time.monotonic() - start, json.loads(proc.stdout.strip().splitlines()[-1])


def rlops_job_seconds() -> tuple[float, dict]:
    from rlops.rl import RLEstimator, RLToolkit

    with tempfile.TemporaryDirectory() as home:
        os.environ["RLOPS_HOME"] = home
        start = time.monotonic()
        estimator = RLEstimator(toolkit=RLToolkit.FAST, instance_type="local", output_path=home + "/out",
                                hyperparameters={"preset": "cartpole-fast"})
        estimator.fit(logs=False)
        wall = time.monotonic() - start
        job = estimator.latest_training_job.describe()
        metrics = {m["MetricName"]: m["Value"] for m in job["FinalMetricDataList"]}
    return wall, {"mean": metrics.get("reward-evaluation")}


def step_rates() -> list[tuple[str, int, float]]:
    import gymnasium as gym
    import numpy as np

    import rlops.envs  # noqa: F401
    from rlops.envs.vector import VECTORISED, make_vector

    rows = []
    measured = ["CartPole-v1", "rlops/AutoScaling-v0", "rlops/Knapsack-v0", "rlops/KnapsackHard-v0", "MountainCar-v0",
                "MountainCarContinuous-v0"]  # the others share these classes
    assert set(measured[1:]) <= set(VECTORISED)
    for env_id in measured:
        single = gym.make(env_id)
        single.reset(seed=0)
        action = single.action_space.sample()
        start, steps = time.perf_counter(), 0
        while time.perf_counter() - start < 1.0:
            for _ in range(1000):
                _, _, terminated, truncated, _ = single.step(action)
                if terminated or truncated:
                    single.reset()
            steps += 1000
        rows.append((env_id, 0, steps / (time.perf_counter() - start)))
        for copies in (1, 64, 1024):
            env = make_vector(env_id, copies)
            env.reset(seed=0)
            actions = np.stack([single.action_space.sample() for _ in range(copies)])
            start, steps = time.perf_counter(), 0
            while time.perf_counter() - start < 1.0:
                for _ in range(20):
                    env.step(actions)
                steps += 20 * copies
            rows.append((env_id, copies, steps / (time.perf_counter() - start)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeats", type=int, default=1, help="cart-pole runs per contender (different seeds)")
    parser.add_argument("--skip-autoscaling", action="store_true")
    parser.add_argument("--knapsack", action="store_true",
                        help="also train the three fast knapsack presets and the SB3 ones (about 6 minutes)")
    args = parser.parse_args()
    threads = str(args.threads)

    print(f"Cart-pole, whole-process wall time to a deterministic mean >= 475 over 20 episodes ({threads} threads):")
    results: dict[str, list[tuple[float, dict]]] = {"fast engine (script)": [], "SB3, RL Zoo settings": [],
                                                     "fast engine (rlops job)": []}
    for seed in range(args.repeats):
        results["fast engine (script)"].append(timed(FAST_CARTPOLE, threads, str(seed)))
        results["SB3, RL Zoo settings"].append(timed(SB3_CARTPOLE, threads, str(seed)))
        results["fast engine (rlops job)"].append(rlops_job_seconds())
    sb3 = sorted(w for w, _ in results["SB3, RL Zoo settings"])[len(results["SB3, RL Zoo settings"]) // 2]
    print(f"{'contender':<26}{'wall s (median)':>16}{'steps':>10}{'vs SB3':>9}")
    for name, runs in results.items():
        wall = sorted(w for w, _ in runs)[len(runs) // 2]
        steps = runs[0][1].get("steps", "-")
        print(f"{name:<26}{wall:>16.2f}{steps!s:>10}{sb3 / wall:>8.1f}x")

    if not args.skip_autoscaling:
        wall, result = timed(FAST_AUTOSCALING, threads)
        print(f"\nAuto scaling (autoscaling-fast, {result['steps']:,} steps): trained in {result['training_s']:.1f} s "
              f"(process {wall:.1f} s); mean return on 20 held-out seeds:")
        for name, value in result.items():
            if name not in ("training_s", "steps"):
                print(f"  {name:<32}{value:>10.0f}")

    if args.knapsack:
        print("\nKnapsack, mean return on 100 held-out episodes (seeds 1000-1099) and whole-process wall time:")
        print(f"{'problem':<26}{'fast preset':>14}{'wall s':>8}{'SB3 preset':>13}{'wall s':>8}{'threshold':>11}")
        for fast, sb3 in KNAPSACK:
            fast_wall, fast_result = timed(KNAPSACK_SCRIPT, threads, fast)
            sb3_wall, sb3_result = timed(KNAPSACK_SCRIPT, threads, sb3)
            print(f"{fast_result['env']:<26}{fast_result['policy']:>14.1f}{fast_wall:>8.1f}{sb3_result['policy']:>13.1f}"
                  f"{sb3_wall:>8.1f}{fast_result['threshold']:>11.1f}")

    print("\nEnvironment steps per second (copies 0: the single-copy environment in a Python loop):")
    print(f"{'environment':<24}{'copies':>8}{'steps/s':>14}")
    for env_id, copies, rate in step_rates():
        print(f"{env_id:<24}{copies:>8}{rate:>14,.0f}")


if __name__ == "__main__":
    main()
