"""Batch RL with rlops: SageMaker's batch RL sample (cart-pole from logged data), on d3rlpy instead of Coach.

1. Log 500 episodes of a random policy on CartPole-v0 (200-step cap, as the original), with each action's
   probability: SageMaker's batch-RL CSV (its dataset averages about 22-25 per episode).
2. Train discrete BCQ from it (the ``cartpole-bcq-offline`` preset; the CSV is the job's training channel);
   each epoch the job prints off-policy estimates (IPS, WIS, DM, DR, SDR) on held-out episodes.
3. Plot WIS and SDR against epoch, and evaluate the policy in the live environment (SageMaker's notebook:
   "around 200").
4. One more round: batch transform the policy over fresh start states, collect 500 episodes with it
   (epsilon-greedy, so its data still covers other actions), retrain on both rounds' data, and evaluate again
   (trained on the policy's own episodes alone, which almost never fail, BCQ cannot tell what ends one).

    python examples/batch_rl/run.py                      # about a minute and a half on 2 cores
    python examples/batch_rl/run.py --episodes 100 --steps 2000   # a quick look
"""

import argparse
import json
import tarfile
from pathlib import Path

import gymnasium as gym

from rlops.analytics import TrainingJobAnalytics
from rlops.datasets import collect, combine, write_dataset
from rlops.plots import _pyplot
from rlops.rl import RLEstimator, RLToolkit
from rlops.storage import resolve_uri
from rlops.transformer import Transformer

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--episodes", type=int, default=500, help="episodes logged per round")
parser.add_argument("--steps", type=int, default=5000, help="training steps per round (the preset's: 5,000)")
parser.add_argument("--epsilon", type=float, default=0.2, help="exploration of the second round's behaviour policy")
parser.add_argument("--output", default="demo-output/batch_rl", help="folder for datasets, jobs and the picture")
args = parser.parse_args()
output = Path(args.output).resolve()
output.mkdir(parents=True, exist_ok=True)
ENV = "CartPole-v0"


def train(dataset: Path, name: str) -> RLEstimator:
    estimator = RLEstimator(toolkit=RLToolkit.SB3, instance_type="local", output_path=str(output / "jobs"),
                            base_job_name=name, hyperparameters={"preset": "cartpole-bcq-offline",
                                                                 "training_steps": args.steps})
    estimator.fit({"training": str(dataset)}, logs=False)
    return estimator


def final(estimator: RLEstimator, metric: str) -> float:
    return next(m["Value"] for m in estimator.latest_training_job.describe()["FinalMetricDataList"]
                if m["MetricName"] == metric)


# 1. the logged data
first = collect(ENV, "random", episodes=args.episodes, seed=0)
first_path = write_dataset(first, output / "cartpole-random.csv")
print(f"Round 1 data: {len(first)} random-policy episodes, mean return {first.returns().mean():.1f} ({first_path})")

# 2. offline training with off-policy evaluation
round1 = train(first_path, "batch-rl-bcq")
print(f"Round 1 job {round1.latest_training_job.job_name}: live return {final(round1, 'reward-evaluation'):.1f} "
      f"(10 episodes, cap 200); last off-policy estimates: WIS {final(round1, 'ope-wis'):.1f}, "
      f"SDR {final(round1, 'ope-sdr'):.1f} (discounted, gamma 0.99)")

# 3. estimates against epoch
plt = _pyplot()
fig, ax = plt.subplots(figsize=(8, 4))
frame = TrainingJobAnalytics(round1.latest_training_job.job_name, metric_names=["ope-wis", "ope-sdr"]).dataframe()
for metric in ("ope-wis", "ope-sdr"):
    values = frame[frame.metric_name == metric].value.to_numpy()
    ax.plot(range(1, len(values) + 1), values, marker="o", label=metric.replace("ope-", "").upper())
live = final(round1, "reward-evaluation")  # cart-pole pays 1 a step: L steps are worth (1 - 0.99^L) / 0.01
ax.axhline((1 - 0.99 ** live) / 0.01, color="black", linestyle="--", label=f"the live policy ({live:.0f} steps), discounted")
ax.set_xlabel("epoch")
ax.xaxis.get_major_locator().set_params(integer=True)
ax.set_ylabel("estimated discounted return")
ax.set_title("Off-policy estimates of the BCQ policy on held-out random-policy episodes")
ax.grid(alpha=0.3)
ax.legend()
fig.tight_layout()
fig.savefig(output / "ope.png", dpi=110)
plt.close(fig)
print(f"Wrote {output / 'ope.png'}")

# 4. the next round: batch transform over fresh start states, then collect with the policy and retrain
env = gym.make(ENV)
starts = output / "start-states.jsonl"
starts.write_text("".join(json.dumps(env.reset(seed=50_000 + i)[0].tolist()) + "\n" for i in range(100)))
transformer = Transformer(round1.model_data, output_path=str(output / "transform"))
transformer.transform(str(starts), content_type="application/json")
answers = [json.loads(line) for line in Path(transformer.output_files[0]).read_text().splitlines()]
print(f"Batch transform: {len(answers)} fresh start states answered; actions "
      f"{sum(a['action'] == 0 for a in answers)} left, {sum(a['action'] == 1 for a in answers)} right")
model = output / "round1-model"
with tarfile.open(resolve_uri(round1.model_data)) as archive:
    archive.extractall(model, filter="data")
second = collect(ENV, str(model), episodes=args.episodes, seed=100_000, epsilon=args.epsilon)
print(f"Round 2 data: {len(second)} episodes of the BCQ policy (epsilon {args.epsilon:g}), mean return "
      f"{second.returns().mean():.1f}")
# both rounds together: the policy's own episodes rarely fail, so alone they would not show what ends an episode
both_path = write_dataset(combine([first, second]), output / "cartpole-rounds-1-2.csv")
round2 = train(both_path, "batch-rl-bcq-round2")
print(f"Round 2 job {round2.latest_training_job.job_name}: live return {final(round2, 'reward-evaluation'):.1f}")
