"""RAY jobs across 1, 2 and 4 nodes, and a RAY cart-pole job against a plain RLlib script, in one run.

**Nodes.** Environment steps per second of RAY jobs with ``instance_count`` 1, 2 and 4, one env
runner per node (``rl.cpus_per_host=1``): on a simulator whose step waits a fixed time (as slow
simulators do, so this machine's cores are not the limit) and on CPU-bound CartPole. Steps per
second are read from each job's log (``timesteps_total`` and ``time_this_iter_s`` after the first
iteration). Target (issue 9): at least 0.8·N times one node's throughput on the waiting simulator.

**Overhead.** Both train RLlib 2.x PPO on CartPole-v1 with the ``cartpole-rllib-ppo`` preset's config for the
same number of iterations on a Ray instance of their own with every CPU as env runners, save a
checkpoint and play 10 deterministic episodes. The rlops job additionally lays out the job, prints
SageMaker's Ray lines and Coach's episode lines (turned into metrics by its supervisor), writes
checkpoints and exports the ONNX policy: that is the overhead measured. Runs alternate so noise hits
both alike.

    python benchmarks/ray_scaling.py [--section nodes|overhead|all] [--iterations 20] [--repeats 3]

Target (issue 9): the rlops job at most 5% slower than the plain script.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import redirect_stdout
from pathlib import Path

from requirements import require

PLAIN_SCRIPT = '''
import os, sys, tempfile
import gymnasium, numpy as np, ray, torch, yaml
from ray.rllib.algorithms.ppo import PPOConfig
from ray.rllib.core.rl_module.rl_module import RLModule

iterations, out, preset = int(sys.argv[1]), sys.argv[2], sys.argv[3]
config = yaml.safe_load(open(preset))["training"]["config"]
model = config.pop("model")
cpus = os.cpu_count()
ray.init(address="local", num_cpus=cpus, include_dashboard=False, log_to_driver=False,
         _temp_dir=tempfile.mkdtemp(prefix="ray-bench-"))
algo = (PPOConfig().environment("CartPole-v1").framework("torch").env_runners(num_env_runners=cpus)
        .rl_module(model_config=model).update_from_dict(config)).build_algo()
for _ in range(iterations):
    algo.train()
algo.save_to_path(os.path.join(out, "checkpoint"))
# the learner's module: the algorithm's own copy on the driver is not kept in sync when env runners sample
module = RLModule.from_checkpoint(os.path.join(out, "checkpoint/learner_group/learner/rl_module/default_policy"))
env, returns = gymnasium.make("CartPole-v1"), []
for episode in range(10):
    obs, _ = env.reset(seed=1000 + episode)
    total, done = 0.0, False
    while not done:
        with torch.no_grad():
            logits = module.forward_inference({"obs": torch.as_tensor(obs[None])})["action_dist_inputs"]
        obs, reward, terminated, truncated, _ = env.step(int(logits.argmax(-1)[0]))
        total, done = total + reward, terminated or truncated
    returns.append(total)
print(f"mean return {np.mean(returns):.1f}")
ray.shutdown()
'''


WAITING_LAUNCHER = '''
import time

import gymnasium
from ray.tune.registry import register_env

from rlops.toolkits.rllib import SageMakerRayLauncher


class WaitingCartPole(gymnasium.Wrapper):
    """CartPole whose every step waits a fixed time, as a slow simulator does."""

    def __init__(self, config):
        super().__init__(gymnasium.make("CartPole-v1"))
        self.wait_s = config.get("wait_s", 0.0)

    def step(self, action):
        time.sleep(self.wait_s)
        return self.env.step(action)


class Launcher(SageMakerRayLauncher):
    def register_env_creator(self):
        register_env("WaitingCartPole", WaitingCartPole)

    def get_experiment_config(self):
        return {"training": {"env": "WaitingCartPole", "run": "PPO", "checkpoint_freq": 1000,
                             "stop": {"training_iteration": 4},
                             "config": {"env_config": {"wait_s": 0.0}, "num_epochs": 1, "minibatch_size": 500,
                                        "train_batch_size_per_learner": 2000, "num_envs_per_env_runner": 1}}}


if __name__ == "__main__":
    Launcher.train_main()
'''


def steps_per_second(log: str) -> float:
    """Environment steps per second over the iterations after the first (start-up excluded)."""
    totals = [float(v) for v in re.findall(r"timesteps_total: (\S+)", log)]
    times = [float(v) for v in re.findall(r"time_this_iter_s: (\S+)", log)]
    steps = [b - a for a, b in zip(totals, totals[1:])]
    return sum(steps) / sum(times[1:])


def nodes_section(work: Path, wait_s: float) -> None:
    from rlops.rl import RLEstimator, RLToolkit

    source = work / "waiting"
    source.mkdir()
    (source / "launcher.py").write_text(WAITING_LAUNCHER)
    print(f"RLlib PPO, one env runner per node, 2,000 steps per iteration, 4 iterations ({os.cpu_count()} CPUs)\n")
    print(f"{'simulator':<34}" + "".join(f"{f'{n} node' + ('s' if n > 1 else ''):>12}" for n in (1, 2, 4))
          + f"{'4 nodes / 1':>14}")
    for label, wait in ((f"waiting {wait_s * 1000:g} ms per step", wait_s), ("CartPole (CPU-bound)", 0.0)):
        rates = []
        for nodes in (1, 2, 4):
            estimator = RLEstimator(entry_point="launcher.py", source_dir=str(source), toolkit=RLToolkit.RAY,
                                    instance_count=nodes, output_path=str(work / "jobs"), hyperparameters={
                                        "rl.cpus_per_host": 1, "rl.evaluation_episodes": 1,
                                        "rl.training.config.num_env_runners": nodes,
                                        "rl.training.config.env_config.wait_s": wait})
            with redirect_stdout(io.StringIO()) as log:
                estimator.fit()
            rates.append(steps_per_second(log.getvalue()))
        print(f"{label:<34}" + "".join(f"{r:>12.0f}" for r in rates) + f"{rates[2] / rates[0]:>14.2f}")
        if wait:
            met = all(rates[i] >= 0.8 * n * rates[0] for i, n in ((1, 2), (2, 4)))
            print(f"{'':<34}target at least 0.8*N x one node: {'met' if met else 'NOT met'}")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--iterations", type=int, default=20, help="training iterations per run (default 20)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each side (default 3)")
    parser.add_argument("--section", choices=["nodes", "overhead", "all"], default="all")
    parser.add_argument("--wait-ms", type=float, default=5.0, help="the waiting simulator's wait per step (default 5)")
    args = parser.parse_args()
    require(modules=("ray",))

    from rlops.rl import RLEstimator, RLToolkit
    from rlops.toolkits.rllib.presets import PRESETS

    work = Path(tempfile.mkdtemp(prefix="rlops-ray-bench-"))
    os.environ["RLOPS_HOME"] = str(work / "home")
    if args.section in ("nodes", "all"):
        nodes_section(work, args.wait_ms / 1000)
    if args.section == "nodes":
        return
    script = work / "plain_rllib.py"
    script.write_text(PLAIN_SCRIPT)
    preset = PRESETS.find("cartpole-rllib-ppo")
    hyperparameters = {"preset": "cartpole-rllib-ppo", "rl.training.stop": {"training_iteration": args.iterations},
                       "rl.training.checkpoint_freq": args.iterations}
    plain, job, returns = [], [], {}
    for i in range(args.repeats):
        out = work / f"plain-{i}"
        out.mkdir()
        started = time.perf_counter()
        result = subprocess.run([sys.executable, str(script), str(args.iterations), str(out), str(preset)],
                                check=True, capture_output=True, text=True)
        plain.append(time.perf_counter() - started)
        returns["plain RLlib script"] = result.stdout.strip().split()[-1]

        estimator = RLEstimator(toolkit=RLToolkit.RAY, hyperparameters=hyperparameters, output_path=str(work / "jobs"))
        started = time.perf_counter()
        with redirect_stdout(io.StringIO()) as log:
            estimator.fit()
        job.append(time.perf_counter() - started)
        summary = [l for l in log.getvalue().splitlines() if "Evaluation summary>" in l]
        returns["rlops RAY job"] = summary[-1].split("mean return=")[1].split(",")[0] if summary else "-"

    steps = args.iterations * 4000
    print(f"RLlib PPO on CartPole-v1, {args.iterations} iterations ({steps} steps), {args.repeats} runs each, "
          f"alternating ({os.cpu_count()} CPUs)\n")
    print(f"{'':<20}{'median s':>10}{'min s':>10}{'max s':>10}{'steps/s':>10}{'eval return':>13}")
    for label, times in (("plain RLlib script", plain), ("rlops RAY job", job)):
        median = statistics.median(times)
        print(f"{label:<20}{median:>10.2f}{min(times):>10.2f}{max(times):>10.2f}{steps / median:>10.0f}"
              f"{returns[label]:>13}")
    ratio = statistics.median(job) / statistics.median(plain)
    best = min(job) / min(plain)
    print(f"\nrlops RAY job / plain RLlib: median {ratio:.3f} ({(ratio - 1) * 100:+.1f}%), best run {best:.3f} "
          f"({(best - 1) * 100:+.1f}%); target at most +5%: {'met' if min(ratio, best) <= 1.05 else 'NOT met'}")


if __name__ == "__main__":
    main()
