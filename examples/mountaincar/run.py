"""Mountain car with rlops: DQN on MountainCar-v0 and SAC on MountainCarContinuous-v0.

The car must rock back and forth to build momentum; a reward arrives only at the top, which makes
exploration the hard part. The "patient" variants of the SageMaker examples (10,000-step limit)
are ``rlops/PatientMountainCar-v0`` and ``rlops/PatientMountainCarContinuous-v0``.

    python examples/mountaincar/run.py                              # mountaincar-dqn, solved at -110
    python examples/mountaincar/run.py --preset mountaincar-continuous-sac    # solved at 90
    python examples/mountaincar/run.py --budget 5000 --patient      # a quick look, patient car
"""

import argparse
from pathlib import Path

from rlops.analytics import TrainingJobAnalytics
from rlops.rl import RLEstimator, RLToolkit

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--preset", default="mountaincar-dqn", choices=["mountaincar-dqn", "mountaincar-continuous-sac"])
parser.add_argument("--budget", type=int, default=None, help="training steps (default: the preset's)")
parser.add_argument("--patient", action="store_true", help="train on the 10,000-step patient variant")
parser.add_argument("--output", default="demo-output/mountaincar", help="folder for artifacts and pictures")
args = parser.parse_args()
output = Path(args.output).resolve()
output.mkdir(parents=True, exist_ok=True)

hyperparameters = {"preset": args.preset}
if args.budget:
    hyperparameters["rl.schedule.training_steps"] = args.budget
    hyperparameters["rl.schedule.evaluation_every"] = 0
if args.patient:
    continuous = args.preset.endswith("sac")
    hyperparameters["rl.env.id"] = f"rlops/PatientMountainCar{'Continuous' if continuous else ''}-v0"
estimator = RLEstimator(toolkit=RLToolkit.SB3, instance_type="local", output_path=str(output / "jobs"),
                        hyperparameters=hyperparameters)
estimator.fit(logs=False)

final = {m["MetricName"]: m["Value"] for m in estimator.latest_training_job.describe()["FinalMetricDataList"]}
print(f"{args.preset}: final deterministic evaluation, mean return {final['reward-evaluation']:.1f}")
curve = TrainingJobAnalytics(estimator.latest_training_job.name).plot(str(output / f"{args.preset}.png"),
                                                                       ["reward-training", "reward-testing"])
print(f"Reward curve: {curve}")

predictor = estimator.deploy(initial_instance_count=1, instance_type="local")
answer = predictor.predict([-0.5, 0.0])  # at the bottom of the valley, standing still
print(f"Endpoint {predictor.endpoint_name}: action {answer['action']}")
predictor.delete_endpoint()
