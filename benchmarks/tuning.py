"""Time to a good configuration: Bayesian search with Hyperband against Random search without early stopping.

Both search the same ranges for PPO on cart-pole (the ``cartpole-ppo`` preset, Stable-Baselines3, at
``--steps`` steps a job, one PyTorch thread a job), over wide ranges where most configurations fail at
that budget: learning rate and ``n_steps`` (log scales), ``n_epochs``, ``gae_lambda``, ``ent_coef``. Each strategy gets the same budget (``--jobs`` training jobs, ``--parallel``
at a time) and the same seeds; a search stops as soon as one job's objective, its last evaluation's
mean return (``reward-evaluation``, 10 deterministic episodes), reaches ``--target``. Reported per seed
and as medians: wall time from ``fit()`` to the end of the first job that reached the target, the jobs
started by then, and how many Hyperband stopped early. A search that never reaches the target counts
its whole wall time.

    python benchmarks/tuning.py [--seeds 0 1 2 3 4] [--jobs 16] [--parallel 2] [--steps 20000] [--target 475]

Target (issue 12): Bayesian + Hyperband reaches the target in at most half the wall time of Random.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

STRATEGIES = {"Bayesian+Hyperband": dict(strategy="Hyperband"), "Random": dict(strategy="Random")}


def search(label: str, seed: int, args, output: Path) -> dict:
    from rlops.records import ObjectiveStatus
    from rlops.rl import RLEstimator, RLToolkit
    from rlops.session import Session
    from rlops.tuner import ContinuousParameter, HyperparameterTuner, IntegerParameter

    evaluations = args.evaluations
    estimator = RLEstimator(toolkit=RLToolkit.SB3, instance_type="local", output_path=str(output), hyperparameters={
        "preset": "cartpole-ppo", "training_steps": args.steps, "rl.torch_threads": 1,
        "rl.schedule.evaluation_every": args.steps // evaluations, "rl.schedule.checkpoint_every": args.steps})
    tuner = HyperparameterTuner(
        estimator, "reward-evaluation", {
            "learning_rate": ContinuousParameter(1e-5, 1e-1, "Logarithmic"),
            "rl.algorithm.hyperparameters.n_steps": IntegerParameter(8, 1024, "Logarithmic"),
            "rl.algorithm.hyperparameters.n_epochs": IntegerParameter(1, 20),
            "rl.algorithm.hyperparameters.gae_lambda": ContinuousParameter(0.8, 1.0),
            "rl.algorithm.hyperparameters.ent_coef": ContinuousParameter(0.0, 0.1)},
        max_jobs=args.jobs, max_parallel_jobs=args.parallel, random_seed=seed, **STRATEGIES[label])
    service = Session().service
    start = time.time()
    tuner.fit(wait=False)
    name = tuner.latest_tuning_job.name
    reached = None
    while True:
        record = service.tuning.describe(name)
        trials = service.tuning.trials(name)
        hits = [t for t in trials if t.objective_status == ObjectiveStatus.SUCCEEDED and not t.early_stopped
                and t.final_objective >= args.target]
        if hits and reached is None:
            first = min(hits, key=lambda t: t.ended_at)
            reached = dict(seconds=first.ended_at - start, jobs=sum(t.created_at <= first.ended_at for t in trials),
                           job=first.training_job_name, value=first.final_objective)
            service.tuning.stop(name)
        if record.is_terminal:
            break
        time.sleep(0.5)
    trials = service.tuning.trials(name)
    return dict(strategy=label, seed=seed, reached=reached is not None,
                seconds=reached["seconds"] if reached else time.time() - start,
                jobs=reached["jobs"] if reached else len(trials),
                early=sum(t.early_stopped for t in trials), best=max((t.final_objective or float("-inf"))
                                                                    for t in trials if not t.early_stopped))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--jobs", type=int, default=16)
    parser.add_argument("--parallel", type=int, default=2)
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--target", type=float, default=475.0)
    parser.add_argument("--evaluations", type=int, default=6,
                        help="evaluations per job: the objective's data points, Hyperband's resources")
    args = parser.parse_args()
    import os

    with tempfile.TemporaryDirectory() as home:
        os.environ["RLOPS_HOME"] = home
        results = []
        for seed in args.seeds:
            for label in STRATEGIES:
                result = search(label, seed, args, Path(home) / "output")
                results.append(result)
                print(f"seed {seed} {label:19} {'reached' if result['reached'] else 'NOT reached'} target in "
                      f"{result['seconds']:6.1f} s after {result['jobs']} jobs ({result['early']} stopped early; "
                      f"best {result['best']:.1f})", flush=True)
    print(f"\n| strategy | median wall time to {args.target:g} | median jobs started | reached (of {len(args.seeds)}) |")
    print("|---|---|---|---|")
    medians = {}
    for label in STRATEGIES:
        mine = [r for r in results if r["strategy"] == label]
        medians[label] = statistics.median(r["seconds"] for r in mine)
        print(f"| {label} | {medians[label]:.1f} s | {statistics.median(r['jobs'] for r in mine):g} | "
              f"{sum(r['reached'] for r in mine)} |")
    ratio = medians["Random"] / medians["Bayesian+Hyperband"]
    print(f"\nBayesian+Hyperband is {ratio:.2f}x Random's speed to the target (target: at least 2x).")


if __name__ == "__main__":
    main()
