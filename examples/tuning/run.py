"""Tune PPO on cart-pole with SageMaker's HyperparameterTuner, and compare the best with the preset's defaults.

The tuning cell of a SageMaker RL notebook, with ``sagemaker`` changed to ``rlops``:

1. an ``RLEstimator`` running the ``cartpole-ppo`` preset (RL Zoo's settings) at a smaller budget;
2. ranges for the learning rate, ``n_steps`` and the entropy coefficient;
3. a Bayesian search (Optuna's TPE) with Hyperband stopping poor jobs early, two jobs at a time; each trial
   is an ordinary training job (``rlops jobs list`` shows them), the tuning job survives this script
   (``rlops tuning describe NAME``);
4. the objective is ``reward-evaluation``: the mean return of the last periodic evaluation of each job;
5. one job with the preset's own values at the same budget, and the two side by side, with a picture.

    python examples/tuning/run.py                     # 10 jobs of 30k steps, about 4 minutes on 2 cores
    python examples/tuning/run.py --jobs 4 --steps 8000   # a quick look
"""

import argparse
from pathlib import Path

import rlops
from rlops.rl import RLEstimator, RLToolkit
from rlops.toolkits.sb3.presets import load_preset
from rlops.tuner import ContinuousParameter, HyperparameterTuner, IntegerParameter

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--jobs", type=int, default=10, help="training jobs the search runs (max_jobs)")
parser.add_argument("--parallel", type=int, default=2, help="jobs at a time (max_parallel_jobs)")
parser.add_argument("--steps", type=int, default=30_000, help="training steps of every job (the preset's: 100,000)")
parser.add_argument("--strategy", default="Hyperband", choices=["Bayesian", "Random", "Hyperband"])
parser.add_argument("--output", default="demo-output/tuning", help="folder for artifacts and the picture")
args = parser.parse_args()
output = Path(args.output).resolve()
output.mkdir(parents=True, exist_ok=True)

PRESET = "cartpole-ppo"
N_STEPS = "rl.algorithm.hyperparameters.n_steps"
ENT_COEF = "rl.algorithm.hyperparameters.ent_coef"
evaluations = max(2, args.steps // 5_000)  # data points for Hyperband: one evaluation every steps/evaluations
static = {"preset": PRESET, "training_steps": args.steps, "rl.schedule.evaluation_every": args.steps // evaluations,
          "rl.schedule.checkpoint_every": args.steps,
          "rl.torch_threads": 1}  # jobs share the machine: one PyTorch thread each (oversubscribed threads crawl)


def estimator(**extra):
    return RLEstimator(toolkit=RLToolkit.SB3, role=rlops.get_execution_role(), instance_type="local",
                       output_path=str(output), hyperparameters={**static, **extra})


tuner = HyperparameterTuner(
    estimator(), objective_metric_name="reward-evaluation",  # one of RLEstimator's metric definitions
    hyperparameter_ranges={
        "learning_rate": ContinuousParameter(1e-4, 1e-2, scaling_type="Logarithmic"),
        N_STEPS: IntegerParameter(16, 256, scaling_type="Logarithmic"),
        ENT_COEF: ContinuousParameter(0.0, 0.02),
    },
    strategy=args.strategy, objective_type="Maximize", max_jobs=args.jobs, max_parallel_jobs=args.parallel,
    base_tuning_job_name="cartpole", random_seed=0,
)
print(f"Tuning {PRESET} at {args.steps:,} steps a job: {args.jobs} jobs, {args.parallel} at a time, {args.strategy}")
tuner.fit(wait=False)
name = tuner.latest_tuning_job.name
print(f"Tuning job {name} (follow it from another terminal: rlops tuning describe {name})")
tuner.wait()

frame = tuner.analytics().dataframe()
print()
print(frame[["TrainingJobName", "TrainingJobStatus", "FinalObjectiveValue", "learning_rate", N_STEPS, ENT_COEF]]
      .rename(columns={N_STEPS: "n_steps", ENT_COEF: "ent_coef"}).to_string(index=False))
best = tuner.describe()["BestTrainingJob"]
picture = tuner.analytics().plot(str(output / "tuning.png"))

print(f"\nThe preset's own values at the same budget ({args.steps:,} steps):")
defaults = estimator()
defaults.fit(logs=False, job_name=f"{name}-defaults")
default_score = next(m["Value"] for m in defaults.latest_training_job.describe()["FinalMetricDataList"]
                     if m["MetricName"] == "reward-evaluation")
preset = load_preset(PRESET).algorithm.hyperparameters

rows = [("preset defaults", default_score, preset["learning_rate"], preset["n_steps"], preset.get("ent_coef", 0.0)),
        ("best of the search", best["FinalHyperParameterTuningJobObjectiveMetric"]["Value"],
         *(best["TunedHyperParameters"][k] for k in ("learning_rate", N_STEPS, ENT_COEF)))]
print(f"\n{'':20}{'reward-evaluation':>18}{'learning_rate':>16}{'n_steps':>9}{'ent_coef':>11}")
for label, score, lr, n_steps, ent in rows:
    lr = lr if isinstance(lr, str) else f"{lr:.3g}"
    print(f"{label:20}{score:18.1f}{lr:>16}{n_steps:>9}{ent:11.4f}")
print(f"\nBest training job: {best['TrainingJobName']}; picture: {picture}")
