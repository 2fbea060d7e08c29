"""A training script that counts steps and checkpoints every ``--every`` steps, as a careful user's script does.

Each checkpoint is written to a temporary name and renamed, and the one before it is kept until the new one
is complete. On start it resumes from the newest checkpoint it can read, skipping (with a warning naming
it) one that is corrupt. It prints ``resumed at step S`` and ``step I`` for every step, so a test can count
the steps repeated after each interruption; the model records the final step.
"""
import argparse
import json
import os
import time

parser = argparse.ArgumentParser()
parser.add_argument("--steps", type=int, default=200)
parser.add_argument("--every", type=int, default=10)
parser.add_argument("--step-seconds", type=float, default=0.01)
parser.add_argument("--keep", type=int, default=2)
args = parser.parse_args()

folder = json.loads(os.environ["SM_TRAINING_ENV"])["checkpoint_dir"]
os.makedirs(folder, exist_ok=True)


def saved() -> list[int]:
    return sorted((int(f.split("-")[1].split(".")[0]) for f in os.listdir(folder)
                   if f.startswith("ckpt-") and f.endswith(".json")), reverse=True)


state = {"step": 0, "total": 0}
for step in saved():
    path = os.path.join(folder, f"ckpt-{step:06d}.json")
    try:
        with open(path) as f:
            state = json.load(f)
        assert state["step"] == step and state["total"] == step * (step + 1) // 2
        break
    except (ValueError, KeyError, AssertionError) as exc:
        print(f"Warning: skipping the unreadable checkpoint {os.path.basename(path)} ({type(exc).__name__})", flush=True)
        state = {"step": 0, "total": 0}
print(f"resumed at step {state['step']}", flush=True)

while state["step"] < args.steps:
    state["step"] += 1
    state["total"] += state["step"]  # the "training": a sum whose value proves no step was skipped or doubled
    print(f"step {state['step']}", flush=True)
    time.sleep(args.step_seconds)
    if state["step"] % args.every == 0 or state["step"] == args.steps:
        path = os.path.join(folder, f"ckpt-{state['step']:06d}.json")
        with open(path + ".partial", "w") as f:
            f.write(json.dumps(state))
            f.flush()
            os.fsync(f.fileno())
        os.replace(path + ".partial", path)
        for old in saved()[args.keep:]:
            os.remove(os.path.join(folder, f"ckpt-{old:06d}.json"))
with open(os.path.join(os.environ["SM_MODEL_DIR"], "model.json"), "w") as f:
    json.dump(state, f)
print(f"finished: step {state['step']}, total {state['total']}", flush=True)
