"""For each preset: environment steps and wall time until its policy reaches its target.

Each preset runs as a real rlops job with a deterministic evaluation every ``--every`` steps;
the first evaluation at or above the target gives the steps, and the job's log its wall time.
A preset with a numeric ``target`` (cart-pole, mountain car) is measured against it; the
auto-scaling and knapsack presets against the best of their tuned baselines on the same seeds.

    python benchmarks/time_to_target.py                      # every preset with a target
    python benchmarks/time_to_target.py cartpole-ppo cartpole-dqn

Budgets are the presets' own; a preset that never reaches its target says so.
"""

from __future__ import annotations

import argparse
import os
import re
import tempfile
from pathlib import Path

from rlops.policies import FOR_ENVIRONMENT, load_policy
from rlops.policies.evaluation import evaluate
from rlops.rl import RLEstimator, RLToolkit
from rlops.session import Session
from rlops.toolkits.sb3.presets import builtin_names, load_preset

SUMMARY = re.compile(r"^(\S+ \S+ )?Evaluation summary> .*mean return=(\S+), .*training steps=(\d+)")


def baseline_target(env_id: str, episodes: int) -> tuple[float, str]:
    """The best tuned baseline's mean return on held-out seeds: what a learned policy must beat."""
    best = None
    for name in FOR_ENVIRONMENT.get(env_id, []):
        if name == "hindsight-optimum":
            continue  # an upper bound, not a rule a person could run
        policy = load_policy(name, env_id)
        mean = evaluate({name: policy}, env_id, episodes=episodes)[0].summary()["mean"]
        if best is None or mean > best[0]:
            best = (mean, policy.describe())
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("presets", nargs="*", help="presets to measure (default: all with a target or baselines)")
    parser.add_argument("--every", type=int, default=None, help="evaluation interval in steps (default: budget / 20)")
    parser.add_argument("--episodes", type=int, default=10, help="episodes per evaluation")
    args = parser.parse_args()
    os.environ.setdefault("RLOPS_HOME", tempfile.mkdtemp(prefix="rlops-ttt-"))

    rows = []
    for name in args.presets or builtin_names():
        preset = load_preset(name)
        if preset.target is not None:
            target, against = preset.target, f"target {preset.target:g}"
        elif preset.env.id in FOR_ENVIRONMENT:
            target, against = baseline_target(preset.env.id, args.episodes)
            against = f"best baseline: {against} = {target:.1f}"
        else:
            continue
        budget = preset.schedule.training_steps
        every = args.every or max(budget // 20, 1000)
        estimator = RLEstimator(toolkit=RLToolkit.SB3, output_path=tempfile.mkdtemp(prefix="rlops-ttt-out-"),
                                hyperparameters={"preset": name, "rl.schedule.evaluation_every": every,
                                                 "rl.schedule.evaluation_episodes": args.episodes,
                                                 "rl.schedule.keep_best": False})
        print(f"{name}: training {budget} steps, evaluating every {every} ...", flush=True)
        estimator.fit(logs=False)
        jobs = Session().service.jobs
        record = jobs.describe(estimator.latest_training_job.name)
        started = next(t["start_time"] for t in record.transitions if t["status"] == "Training")
        reached = None
        for line in Path(record.log_path).read_text().splitlines():
            match = SUMMARY.match(line)
            if match and float(match.group(2)) >= target:
                reached = int(match.group(3))
                break
        points = jobs.metrics(record.name, ["reward-evaluation"])
        hit = next((p for p in points if p.value >= target), None)
        wall = f"{hit.timestamp - started:.0f}" if hit else "-"
        final = points[-1].value if points else float("nan")
        rows.append((name, against, reached if reached is not None else "not reached", wall, f"{final:.1f}",
                     f"{record.ended_at - started:.0f}"))

    print(f"\n{'preset':<28}{'target':<48}{'steps to target':>16}{'wall s':>8}{'final return':>14}{'total s':>9}")
    for row in rows:
        print(f"{row[0]:<28}{row[1]:<48}{str(row[2]):>16}{row[3]:>8}{row[4]:>14}{row[5]:>9}")


if __name__ == "__main__":
    main()
