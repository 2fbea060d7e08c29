"""``rlops evaluate`` and ``rlops plot``: compare policies on the same seeds; draw reward curves."""

from __future__ import annotations

from pathlib import Path

import click

from rlops.cli.jobs import job_model
from rlops.cli.tables import dump_json, table
from rlops.cli.train import parse_setting
from rlops.exceptions import NotFound, UsageError


def _resolve(reference: str) -> str:
    """A job name becomes its model archive; anything else is passed on as typed."""
    if Path(reference).exists() or ":" in reference:
        return reference
    from rlops.policies import BASELINES

    if reference in BASELINES:
        return reference
    from rlops.session import Session

    from rlops.storage import resolve_uri

    try:
        return str(resolve_uri(job_model(Session().service, reference)))  # a path: "exists" below finds it
    except NotFound:
        return reference


@click.command("evaluate")
@click.argument("policies", nargs=-1)
@click.option("--env", "env_id", help="Environment id (default: the one the first trained policy was trained on).")
@click.option("--env-arg", "env_args", multiple=True, metavar="KEY=VALUE", help="Environment argument (repeatable).")
@click.option("--baselines", "with_baselines", is_flag=True, help="Add the environment's baselines to the comparison.")
@click.option("-n", "--episodes", type=click.IntRange(min=1), default=20, show_default=True, help="Episodes per policy.")
@click.option("--seed", type=int, default=1000, show_default=True,
              help="First seed; every policy plays the same seeds (baselines tune on seeds 0-2).")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), help="Auto scaling: write a picture of load "
              "against serving capacity over the first 3 days, one panel per policy.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def evaluate(policies, env_id, env_args, with_baselines, episodes, seed, plot_path, as_json) -> None:
    """Run policies for seeded episodes and compare them in one table.

    A POLICY is a training job's name, a model.tar.gz or model folder, or a baseline
    (static-fleet, target-tracking, threshold, hindsight-optimum; NAME:VALUE fixes its setting,
    otherwise it is tuned on training seeds).

    \b
    Examples:
      rlops evaluate my-autoscaling-job --baselines
      rlops evaluate target-tracking:0.7 static-fleet --env rlops/AutoScaling-v0 -n 5
      rlops evaluate model.tar.gz --env rlops/AutoScaling-v0 --env-arg weekly_amplitude=0.0
    """
    from rlops.policies import FOR_ENVIRONMENT, PortablePolicy, load_policy
    from rlops.policies.evaluation import evaluate as run

    references = {name: _resolve(name) for name in policies}  # a job name becomes its model archive
    loaded = {}
    env_kwargs = dict(parse_setting(a) for a in env_args)
    for reference in references.values():  # trained policies first: they may name the environment
        if Path(reference).exists():
            policy = PortablePolicy.load(reference)
            env_id = env_id or policy.env_id
            env_kwargs = env_kwargs or dict(policy.manifest.get("env_kwargs") or {})
            loaded[reference] = policy
    if env_id is None:
        raise UsageError("Name the environment with --env (no trained policy given to take it from).")
    names = list(policies) + ([b for b in FOR_ENVIRONMENT.get(env_id, []) if b not in policies] if with_baselines else [])
    if not names:
        raise UsageError("Give at least one POLICY, or --baselines.")
    compared = {}
    for name in names:
        reference = references.get(name, name)
        if reference not in loaded:
            click.echo(f"Preparing {name} (tuning a baseline plays training episodes)...", err=True)
        policy = loaded.get(reference) or load_policy(reference, env_id, env_kwargs)
        label = policy.describe() if hasattr(policy, "describe") else name
        compared[label] = policy
    click.echo(f"Evaluating {len(compared)} policies for {episodes} episodes on {env_id} (seeds {seed}-{seed + episodes - 1})...",
               err=True)
    reports = run(compared, env_id, env_kwargs, episodes=episodes, seed=seed, trace=bool(plot_path))
    rows = [r.summary() for r in reports]
    if as_json:
        dump_json(rows)
    else:
        figures = [k for k in rows[0] if k not in ("policy", "episodes", "mean", "std", "min", "max")]
        headers = ["POLICY", "EPISODES", "MEAN RETURN", "STD", "MIN", "MAX"] + [f.replace("_", " ").upper() for f in figures]
        click.echo(table(headers, [[r["policy"], r["episodes"], round(r["mean"], 2), round(r["std"], 2),
                                     round(r["min"], 2), round(r["max"], 2), *(round(r[f], 1) for f in figures)]
                                    for r in rows]))
    if plot_path:
        if not all(r.trace and "capacity" in r.trace for r in reports):
            raise UsageError("--plot draws load against capacity: it needs the rlops/AutoScaling-v0 environment.")
        from rlops.plots import load_and_capacity

        load_and_capacity({r.policy: r.trace for r in reports}, plot_path)
        click.echo(f"Picture: {plot_path}", err=True)


@click.command("plot")
@click.argument("job_name")
@click.option("-m", "--metric", "metrics", multiple=True, help="Metric to draw (repeatable; default: rewards).")
@click.option("-o", "--output", default="curve.png", show_default=True, type=click.Path(dir_okay=False),
              help="Picture to write (PNG, SVG, PDF...).")
def plot(job_name, metrics, output) -> None:
    """Draw a job's reward curve (or any of its metrics) from its logged data points."""
    from rlops.analytics import TrainingJobAnalytics

    analytics = TrainingJobAnalytics(job_name)
    frame = analytics.dataframe()
    if frame.empty:
        raise UsageError(f"Job {job_name!r} has logged no metrics yet.")
    available = sorted(frame.metric_name.unique())
    chosen = list(metrics) or [m for m in available if m.startswith(("reward", "episode_reward"))] or available
    missing = [m for m in chosen if m not in available]
    if missing:
        raise UsageError(f"Job {job_name!r} has no metric {missing[0]!r}. Its metrics: {', '.join(available)}.")
    analytics.plot(output, chosen)
    click.echo(f"Wrote {output} ({', '.join(chosen)}).")
