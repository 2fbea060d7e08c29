"""Predictive auto scaling with rlops: SageMaker RL's flagship example, on this machine.

The workflow of SageMaker's notebook, with ``sagemaker`` changed to ``rlops``:

1. the environment: a web service's fleet against a daily and weekly load with spikes;
2. the preset: PPO on rlops's fast engine, ``autoscaling-fast`` (256 copies of the simulator stepped as one
   array operation); ``--preset autoscaling-ppo`` trains Stable-Baselines3's PPO instead (4M steps, ~13 min);
3. train with ``RLEstimator`` in local mode, keeping checkpoints (a progress bar shows steps, recent return,
   rate and time left);
4. plot the reward curve;
5. evaluate the policy from the checkpoint channel in a second job;
6. compare it with the rules a person would write: a static fleet and target tracking.

    python examples/autoscaling/run.py                       # make demo: about 95 s of training on 2 cores
    python examples/autoscaling/run.py --budget 500000 --episodes 5   # a quick look (RL does not win yet)
"""

import argparse
from pathlib import Path

import gymnasium as gym
import numpy as np

import rlops
import rlops.envs  # noqa: F401  (registers rlops/AutoScaling-v0)
from rlops.analytics import TrainingJobAnalytics
from rlops.policies import PortablePolicy, load_policy
from rlops.policies.evaluation import evaluate
from rlops.plots import load_and_capacity
from rlops.rl import RLEstimator, RLToolkit
from rlops.toolkits.sb3.presets import load_preset

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--preset", default="autoscaling-fast", choices=["autoscaling-fast", "autoscaling-ppo"],
                    help="autoscaling-fast (rlops's fast engine, the default) or autoscaling-ppo (Stable-Baselines3)")
parser.add_argument("--budget", type=int, default=None, help="training steps (default: the preset's own)")
parser.add_argument("--episodes", type=int, default=20, help="held-out evaluation episodes per policy")
parser.add_argument("--output", default="demo-output/autoscaling", help="folder for artifacts and pictures")
parser.add_argument("--episode-minutes", type=int, default=10_000, help="episode length (default about a week)")
args = parser.parse_args()
output = Path(args.output).resolve()
output.mkdir(parents=True, exist_ok=True)

# 1. The environment, as the preset sets it (autoscaling-fast: one choice, the net change in machines). One step
#    is one minute; an episode is about a week.
env_kwargs = {**load_preset(args.preset).env.kwargs, "max_time_steps": args.episode_minutes}
env = gym.make("rlops/AutoScaling-v0", **env_kwargs)
meaning = "machines to add, plus 10" if env.unwrapped.config.action_type == "net" else "turn on, turn off"
print(f"Environment: observations {env.observation_space.shape}, actions {env.action_space} ({meaning})")

# 2-3. Train the preset in local mode. Checkpoints go to checkpoint_uri, so a second run resumes.
budget = {"rl.schedule.training_steps": args.budget} if args.budget else {}
if args.preset == "autoscaling-ppo":  # SB3's evaluations are slow on week-long episodes: one, at the end
    budget.update({"rl.schedule.evaluation_every": 0, "rl.schedule.evaluation_episodes": 1})
estimator = RLEstimator(
    toolkit=RLToolkit.FAST if args.preset == "autoscaling-fast" else RLToolkit.SB3,
    role=rlops.get_execution_role(),
    instance_type="local",
    output_path=(output / "jobs").as_uri(),
    checkpoint_s3_uri=(output / "checkpoints").as_uri(),
    base_job_name=args.preset,
    hyperparameters={"preset": args.preset, **budget, "rl.env.kwargs": env_kwargs},
)
estimator.fit(logs=False)  # on a terminal: one updating progress line
job = estimator.latest_training_job.describe()
print(f"Trained {job['TrainingJobName']} in {job['TrainingTimeInSeconds']} s; model at {estimator.model_data}")

# 4. The reward curve, from the metrics the job logged: Coach's Training> lines (each copy's week-long episodes end
#    together, so few points) and the periodic evaluations on seeds of the job's own.
curve = TrainingJobAnalytics(job["TrainingJobName"], metric_names=["reward-training", "reward-evaluation"]).plot(
    str(output / "reward-curve.png"))
print(f"Reward curve: {curve}")

# 5. Evaluate from the checkpoint channel in a second job, as the SageMaker notebook did.
evaluator = RLEstimator(toolkit=estimator.toolkit, instance_type="local", output_path=(output / "jobs").as_uri(),
                        base_job_name="autoscaling-eval", hyperparameters={"evaluate_episodes": 1})
evaluator.fit({"checkpoint": (output / "checkpoints").as_uri()}, logs=False)
final = {m["MetricName"]: m["Value"] for m in evaluator.latest_training_job.describe()["FinalMetricDataList"]}
print(f"Evaluation job {evaluator.latest_training_job.name}: return {final['reward-evaluation']:.0f}")

# 6. Compare with the baselines on the same held-out seeds (the baselines tune on seeds 0-2).
policies = {"PPO (rlops)": PortablePolicy.load(estimator.model_data)}
for name in ("target-tracking", "static-fleet"):
    baseline = load_policy(name, "rlops/AutoScaling-v0", env_kwargs)  # tuned on training seeds 0-2
    policies[baseline.describe()] = baseline
reports = evaluate(policies, "rlops/AutoScaling-v0", env_kwargs, episodes=args.episodes, seed=1000, trace=True)
print(f"\n{'policy':<32}{'mean return':>12}{'std':>10}{'downtime min':>14}{'machine-min':>13}")
for report in reports:
    row = report.summary()
    print(f"{row['policy']:<32}{row['mean']:>12.0f}{row['std']:>10.0f}{row['downtime_minutes']:>14.1f}"
          f"{row['machine_minutes']:>13.0f}")
ours, *rules = [r.summary()["mean"] for r in reports]
verdicts = [f"{'beats' if ours > value else 'loses to'} {r.policy} by {abs(ours - value) / abs(value):.1%}"
            for r, value in zip(reports[1:], rules)]
print(f"The trained policy {' and '.join(verdicts)} on {args.episodes} held-out episodes.")
if args.budget:
    print(f"(Trained {args.budget:,} steps instead of the preset's own budget.)")
picture = load_and_capacity({r.policy: r.trace for r in reports}, output / "load-vs-capacity.png")
print(f"\nLoad against serving capacity, first 3 days: {picture}")

# 7. Deploy the policy to a local endpoint, ask it what to do, and delete the endpoint.
predictor = estimator.deploy(initial_instance_count=1, instance_type="local")
observation, _ = env.reset(seed=7)
answer = predictor.predict(observation)  # a NumPy array is serialised to JSON
action = answer["action"]
on, off = (max(action - 10, 0), max(10 - action, 0)) if np.ndim(action) == 0 else action
print(f"Endpoint {predictor.endpoint_name}: turn on {on}, turn off {off} machines (value estimate {answer['value']:.2f})")
predictor.delete_endpoint()
