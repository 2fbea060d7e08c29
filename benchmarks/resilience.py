"""What interruptions cost a spot-style job: a cart-pole job interrupted 5 times against the same job uninterrupted.

Both are spot-style rlops jobs with the same preset, checkpoint interval and checkpoint location kind (no
evaluation during training: its cost depends on how long the policy's episodes last at that moment), run
one after the other in this run (alternating when ``--repeats`` > 1). The interrupted one is interrupted
(``TrainingJob.interrupt_during``: its hosts killed at once, no grace period, restarted at once) when its
training reaches 1/6, 2/6, ... 5/6 of its steps, each time counted from the attempt's own progress. Reported: wall
time of each (from ``fit()`` to its return), their ratio, and for each interruption the most steps printed
before it and the checkpoint step it resumed from.

    python benchmarks/resilience.py [--preset cartpole-ppo] [--interruptions 5] [--checkpoint-every 1024] [--steps N]

Target (issue 14): the interrupted job at most 20% longer.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import tempfile
import time
from pathlib import Path

PROGRESS = re.compile(r"^Progress> steps=(\d+)/(\d+)", re.M)
RESUMED = re.compile(r"^Resuming from checkpoint at step (\d+)", re.M)
REACHED = re.compile(r"^(?:Progress> steps=|Training> .*Steps=)(\d+)", re.M)  # steps reached, as printed


def resumptions(log: str) -> list[tuple[int, int]]:
    """``(most steps printed before the interruption, checkpoint step resumed from)`` for each interruption. The
    steps repeated are at most the checkpoint interval by construction; what was printed bounds them from below
    (the host may have trained, and checkpointed, past its last printed line)."""
    result = []
    for before, after in zip(log.split("Interrupted - ")[:-1], log.split("Interrupted - ")[1:]):
        attempt = before.rpartition("Restarting - ")[2]
        reached = [int(s) for s in REACHED.findall(attempt)]
        resumed = RESUMED.search(after)
        if reached and resumed:
            result.append((max(reached), int(resumed.group(1))))
    return result


def run(preset: str, every: int, interruptions: int, work: Path, tag: str, steps: int | None) -> tuple[float, dict]:
    from rlops.rl import RLEstimator, RLToolkit
    from rlops.session import Session

    estimator = RLEstimator(toolkit=RLToolkit.SB3, output_path=str(work / "out"), use_spot_instances=True,
                            max_wait=7200, max_run=3600, checkpoint_s3_uri=(work / f"ckpt-{tag}").as_uri(),
                            hyperparameters={"preset": preset, "rl.schedule.checkpoint_every": every,
                                             # evaluation during training costs what the policy's episodes last,
                                             # which differs between runs; the final evaluation stays
                                             "rl.schedule.evaluation_every": 0,
                                             **({"rl.schedule.training_steps": steps} if steps else {})})
    started = time.perf_counter()
    estimator.fit(wait=False)
    job = estimator.latest_training_job
    jobs = Session().service.jobs
    job.interrupt_during([i / (interruptions + 1) for i in range(1, interruptions + 1)])
    final = jobs.wait(job.name)
    seconds = time.perf_counter() - started
    record = jobs.describe(job.name)
    log = Path(record.log_path).read_text(errors="replace")
    description = job.describe()
    final_metrics = {m["MetricName"]: m["Value"] for m in description["FinalMetricDataList"]}
    return seconds, {"status": str(final.status), "interruptions": len(final.interruptions),
                     "printed_then_resumed": resumptions(log), "evaluation": final_metrics.get("reward-evaluation"),
                     "billable": description.get("BillableTimeInSeconds"),
                     "training": description.get("TrainingTimeInSeconds")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="cartpole-ppo")
    parser.add_argument("--interruptions", type=int, default=5)
    parser.add_argument("--checkpoint-every", type=int, default=1024, help="steps between checkpoints")
    parser.add_argument("--steps", type=int, default=None, help="training steps (default: the preset's)")
    parser.add_argument("--repeats", type=int, default=1, help="pairs of runs (alternated); medians are reported")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="rlops-resilience-"))
    os.environ["RLOPS_HOME"] = str(work / "home")
    plain, interrupted = [], []
    for repeat in range(args.repeats):
        pair = [("plain", 0), ("interrupted", args.interruptions)]
        for tag, count in pair if repeat % 2 == 0 else pair[::-1]:
            seconds, info = run(args.preset, args.checkpoint_every, count, work, f"{tag}-{repeat}", args.steps)
            (plain if count == 0 else interrupted).append((seconds, info))
            print(f"{tag:12s} {seconds:7.1f} s  {info}", flush=True)
    base = statistics.median(s for s, _ in plain)
    hit = statistics.median(s for s, _ in interrupted)
    pairs = [p for _, info in interrupted for p in info["printed_then_resumed"]]
    print(f"\n{args.preset}, {args.steps or 'its'} steps, checkpoint every {args.checkpoint_every} steps, {args.interruptions} interruptions "
          f"(median of {args.repeats}):")
    print(f"  uninterrupted {base:.1f} s, interrupted {hit:.1f} s: {hit / base:.2f}x (target at most 1.20x)")
    print(f"  each interruption: (steps printed before it, checkpoint resumed from) {pairs}; at most "
          f"{args.checkpoint_every} steps repeated each, by construction")


if __name__ == "__main__":
    main()
