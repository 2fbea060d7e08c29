"""Cart-pole with rlops: a preset job without a script, then the same preset from the command line.

    python examples/cartpole/run.py                    # cartpole-ppo, 100,000 steps: returns 500
    python examples/cartpole/run.py --preset cartpole-dqn --budget 20000

From a terminal, the same job is ``rlops train --preset cartpole-ppo``.
"""

import argparse
from pathlib import Path

from rlops.analytics import TrainingJobAnalytics
from rlops.rl import RLEstimator, RLToolkit

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--preset", default="cartpole-ppo", choices=["cartpole-ppo", "cartpole-dqn"])
parser.add_argument("--budget", type=int, default=None, help="training steps (default: the preset's)")
parser.add_argument("--output", default="demo-output/cartpole", help="folder for artifacts and pictures")
args = parser.parse_args()
output = Path(args.output).resolve()
output.mkdir(parents=True, exist_ok=True)

hyperparameters = {"preset": args.preset}
if args.budget:
    hyperparameters["rl.schedule.training_steps"] = args.budget
estimator = RLEstimator(toolkit=RLToolkit.SB3, instance_type="local", output_path=str(output / "jobs"),
                        checkpoint_uri=str(output / "checkpoints" / args.preset), hyperparameters=hyperparameters)
estimator.fit()

analytics = TrainingJobAnalytics(estimator.latest_training_job.name)
frame = analytics.dataframe()
testing = frame[frame.metric_name == "reward-evaluation"]["value"]
print(f"\nFinal deterministic evaluation: mean return {testing.iloc[-1]:.1f} (CartPole-v1 is solved at 475)")
print(f"Reward curve: {analytics.plot(str(output / f'{args.preset}.png'), ['reward-training', 'reward-testing'])}")
print(f"Portable policy inside {estimator.model_data}: policy.onnx + policy.json")

predictor = estimator.deploy(initial_instance_count=1, instance_type="local")
answer = predictor.predict([0.0, 0.0, 0.02, 0.0])
print(f"Endpoint {predictor.endpoint_name}: action {answer['action']}, probabilities {answer['probabilities']}")
predictor.delete_endpoint()
