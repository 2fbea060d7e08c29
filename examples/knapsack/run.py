"""The online knapsack with rlops: MaskablePPO against the rules a person would write.

Items arrive one at a time; the agent keeps each or throws it away. Action masks stop the agent
from putting in items that do not fit. The learned policy is compared with a tuned value-density
threshold and with the hindsight optimum (which sees every item in advance: an upper bound).

Then the same training again as a spot-style job (``use_spot_instances=True``, as SageMaker's knapsack
sample showed managed spot training): interrupted twice while it trains, as a reclaimed machine would be,
it resumes from its checkpoints each time, finishes the same number of steps and is scored on the same
held-out episodes. ``--no-spot`` skips it.

    python examples/knapsack/run.py                          # the preset's full budget
    python examples/knapsack/run.py --budget 20000 --episodes 20
"""

import argparse
import shutil
from pathlib import Path

from rlops.analytics import TrainingJobAnalytics
from rlops.policies import PortablePolicy, load_policy
from rlops.policies.evaluation import evaluate
from rlops.rl import RLEstimator, RLToolkit

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--budget", type=int, default=300_000, help="training steps (default: the preset's)")
parser.add_argument("--episodes", type=int, default=100, help="held-out evaluation episodes")
parser.add_argument("--output", default="demo-output/knapsack", help="folder for artifacts and pictures")
parser.add_argument("--no-spot", dest="spot", action="store_false", help="skip the spot-style run")
args = parser.parse_args()
output = Path(args.output).resolve()
output.mkdir(parents=True, exist_ok=True)
for folder in ("checkpoints", "spot-checkpoints"):  # a job resumes from what its checkpoint location holds: start afresh
    shutil.rmtree(output / folder, ignore_errors=True)

estimator = RLEstimator(toolkit=RLToolkit.SB3, instance_type="local", output_path=str(output / "jobs"),
                        checkpoint_uri=str(output / "checkpoints"), base_job_name="knapsack",
                        hyperparameters={"preset": "knapsack-ppo", "rl.schedule.training_steps": args.budget})
estimator.fit(logs=False)
name = estimator.latest_training_job.name
TrainingJobAnalytics(name, metric_names=["reward-training"]).plot(str(output / "reward-curve.png"))

evaluator = RLEstimator(toolkit=RLToolkit.SB3, output_path=str(output / "jobs"), hyperparameters={"evaluate_episodes": 10})
evaluator.fit({"checkpoint": str(output / "checkpoints")}, logs=False)

env_id = "rlops/Knapsack-v0"
policies = {"MaskablePPO (rlops)": PortablePolicy.load(estimator.model_data)}
for baseline in ("threshold", "hindsight-optimum"):
    policy = load_policy(baseline, env_id)
    policies[policy.describe()] = policy
if args.spot:
    spot = RLEstimator(toolkit=RLToolkit.SB3, instance_type="local", output_path=str(output / "jobs"),
                       base_job_name="knapsack-spot", use_spot_instances=True, max_run=3600, max_wait=7200,
                       checkpoint_s3_uri=(output / "spot-checkpoints").as_uri(),
                       hyperparameters={"preset": "knapsack-ppo", "rl.schedule.training_steps": args.budget,
                                        # whole rollouts (8 copies x 256 steps): a resumed PPO ends on the budget
                                        "rl.schedule.checkpoint_every": max(2048, args.budget // 10 // 2048 * 2048)})
    spot.fit(wait=False)
    made = spot.latest_training_job.interrupt_during([1 / 3, 2 / 3], poll=0.2)  # twice, as a reclaimed machine would
    spot.latest_training_job.wait(logs=False)
    described = spot.latest_training_job.describe()
    print(f"Spot-style job {described['TrainingJobName']}: {described['TrainingJobStatus']} after {made} "
          f"interruption(s), {len(described['rlops']['Interruptions'])} "
          f"recorded; trained {PortablePolicy.load(spot.model_data).manifest['training_steps']} steps; "
          f"training {described['TrainingTimeInSeconds']} s, billable {described['BillableTimeInSeconds']} s")
    policies["MaskablePPO, spot-style"] = PortablePolicy.load(spot.model_data)
rows = {r.policy: r.summary() for r in evaluate(policies, env_id, episodes=args.episodes, seed=1000)}
optimum = rows["hindsight-optimum"]["mean"]
print(f"\n{'policy':<28}{'mean return':>12}{'share of optimum':>18}")
for policy, row in rows.items():
    print(f"{policy:<28}{row['mean']:>12.1f}{row['mean'] / optimum:>18.1%}")
print(f"\nReward curve: {output / 'reward-curve.png'}")

# Deploy the policy, ask it about one item (RLlib's request format, with the action mask), delete the endpoint.
predictor = estimator.deploy(initial_instance_count=1, instance_type="local")
item = [500, 120, 300, 40, 70, 10]  # capacity, bag weight, bag value, item weight, item value, items left
answer = predictor.predict({"inputs": {"observations": [item], "action_mask": [[1, 1]]}})
print(f"Endpoint {predictor.endpoint_name}: {'put it in' if answer['outputs']['actions_0'][0] else 'throw it away'}")
predictor.delete_endpoint()
