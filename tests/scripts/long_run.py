"""Writes a checkpoint per step and runs until stopped; on SIGTERM writes the model and exits.

--ignore-term makes it ignore SIGTERM (so only SIGKILL ends it). Resumes from the last
checkpoint it finds, printing the step it resumed from.
"""
import argparse
import os
import signal
import sys
import time

parser = argparse.ArgumentParser()
parser.add_argument("--steps", type=int, default=10_000)
parser.add_argument("--step-seconds", type=float, default=0.05)
parser.add_argument("--ignore-term", default="false")
args = parser.parse_args()

checkpoints = os.environ.get("SM_TRAINING_ENV") and __import__("json").loads(os.environ["SM_TRAINING_ENV"])["checkpoint_dir"]
model_dir = os.environ["SM_MODEL_DIR"]
existing = sorted(int(f.split("-")[1]) for f in os.listdir(checkpoints) if f.startswith("step-"))
start = existing[-1] + 1 if existing else 0
print(f"resuming from step {start}", flush=True)


def on_term(signum, frame):
    if args.ignore_term == "true":
        print("ignoring SIGTERM", flush=True)
        return
    with open(os.path.join(model_dir, "model.txt"), "w") as f:
        f.write(f"stopped at step {step}")
    print("SIGTERM: model saved", flush=True)
    sys.exit(0)


signal.signal(signal.SIGTERM, on_term)
step = start
for step in range(start, start + args.steps):
    with open(os.path.join(checkpoints, f"step-{step:05d}"), "w") as f:
        f.write(str(step))
    print(f"step {step}", flush=True)
    time.sleep(args.step_seconds)
with open(os.path.join(model_dir, "model.txt"), "w") as f:
    f.write(f"finished at step {step}")
