"""The SageMaker RL workflow on this machine: train, watch the reward curve, stop, resume.

Run it with ``make demo`` (or ``python examples/quickstart/run.py --episodes 300``). It is the
notebook a SageMaker RL user knows, with ``sagemaker`` changed to ``rlops`` on the imports.
"""

import argparse
from pathlib import Path

import rlops
from rlops.analytics import TrainingJobAnalytics
from rlops.rl import RLEstimator, RLToolkit, RLFramework

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--episodes", type=int, default=300, help="training episodes (the budget)")
parser.add_argument("--output", default="demo-output", help="folder for artifacts and checkpoints")
args = parser.parse_args()

here = Path(__file__).parent
output = Path(args.output).resolve()
role = rlops.get_execution_role()

estimator = RLEstimator(
    entry_point="train.py",
    source_dir=str(here),
    toolkit=RLToolkit.SB3,
    framework=RLFramework.PYTORCH,
    role=role,
    instance_type="local",
    instance_count=1,
    output_path=output.as_uri(),
    checkpoint_s3_uri=(output / "checkpoints").as_uri(),
    base_job_name="quickstart-cartpole",
    hyperparameters={"episodes": args.episodes, "learning_rate": 0.02},
    metric_definitions=RLEstimator.default_metric_definitions(RLToolkit.COACH),
)
estimator.fit()

job_name = estimator.latest_training_job.name
description = estimator.latest_training_job.describe()
print(f"\nJob {job_name}: {description['TrainingJobStatus']} in {description['TrainingTimeInSeconds']} s")
print(f"Model: {estimator.model_data}")

frame = TrainingJobAnalytics(job_name, metric_names=["reward-training"]).dataframe()
rewards = frame["value"].to_numpy()
window = max(1, len(rewards) // 10)
print(f"Reward, first {window} episodes: {rewards[:window].mean():.1f}; last {window}: {rewards[-window:].mean():.1f}")
frame.to_csv(output / "reward-training.csv", index=False)
print(f"Reward curve data: {output / 'reward-training.csv'}")
print(f"\nFrom any terminal:  rlops jobs describe {job_name}   rlops jobs metrics {job_name}")
