"""``rlops datasets``: collect logged experience and describe it; ``rlops ope``: evaluate a policy from it."""

from __future__ import annotations

import sys

import click

from rlops.cli.tables import dump_json, table


@click.group("datasets")
def datasets() -> None:
    """Logged experience for batch RL: SageMaker's batch-RL CSV, JSON lines of its fields, local Minari datasets.

    \b
    Examples:
      rlops datasets collect --env CartPole-v0 --policy random --episodes 500 --out cartpole.csv
      rlops datasets collect --env CartPole-v1 --policy JOB_OR_MODEL --epsilon 0.1 --episodes 200 --out next.jsonl
      rlops datasets describe cartpole.csv
      rlops datasets from-capture my-endpoint --out traffic.jsonl
    """


@datasets.command("collect")
@click.option("--env", "env_id", required=True, help="Gymnasium environment id, e.g. CartPole-v0 (or MountainCarContinuous-v0: continuous actions).")
@click.option("--policy", default="random", show_default=True,
              help="random, a baseline (NAME or NAME:VALUE), a model folder or model.tar.gz.")
@click.option("--episodes", type=int, default=100, show_default=True)
@click.option("--out", "output", required=True, help="File to write: .csv (SageMaker's columns) or .jsonl.")
@click.option("--max-steps", type=int, default=None, help="Cut episodes at this many steps (default: the env's limit).")
@click.option("--epsilon", type=float, default=0.0, show_default=True,
              help="Act at random this share of steps (a deterministic policy needs some, for importance sampling); with "
                   "continuous actions, the noise added to the policy's action, as a share of half the action range.")
@click.option("--seed", type=int, default=0, show_default=True, help="Episode i starts from seed + i.")
def collect_command(env_id, policy, episodes, output, max_steps, epsilon, seed) -> None:
    """Run a behaviour policy and write every step with its action probabilities (discrete actions)."""
    from tqdm import tqdm

    from rlops.datasets import collect, write_dataset

    with tqdm(total=episodes, unit="episode", desc="collecting", file=sys.stderr, disable=not sys.stderr.isatty()) as bar:
        dataset = collect(env_id, policy, episodes, max_steps, seed, epsilon, progress=lambda n: bar.update(n - bar.n))
    path = write_dataset(dataset, output)
    summary = dataset.describe()
    click.echo(f"Wrote {path}: {summary['episodes']} episodes, {summary['steps']} steps, mean return "
               f"{summary['return']['mean']:.2f} ({dataset.behaviour}).")


@datasets.command("describe")
@click.argument("dataset")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def describe(dataset, as_json) -> None:
    """Episodes, steps, the return distribution and the behaviour policy of a dataset (FILE or minari:ID)."""
    from rlops.datasets import read_dataset

    summary = read_dataset(dataset).describe()
    if as_json:
        dump_json(summary)
        return
    click.echo(f"{summary['source']}: {summary['episodes']} episodes, {summary['steps']} steps, "
               f"{summary['terminated']} ended by the environment (the rest cut short)")
    if "action_counts" in summary:
        click.echo(f"observations {tuple(summary['observation_shape'])}, {summary['actions']} actions taken "
                   f"{summary['action_counts']} times")
    else:
        rounded = lambda key: [round(v, 3) for v in summary[key]]  # noqa: E731
        click.echo(f"observations {tuple(summary['observation_shape'])}, actions {summary['actions']}: mean "
                   f"{rounded('action_mean')}, std {rounded('action_std')}, from {rounded('action_min')} to "
                   f"{rounded('action_max')}")
    click.echo(f"behaviour policy: {summary['behaviour']}")
    click.echo(table(["", "MEAN", "STD", "MIN", "P25", "MEDIAN", "P75", "MAX"], [
        (name, *(round(summary[key][s], 3) for s in ("mean", "std", "min", "p25", "median", "p75", "max")))
        for name, key in (("return", "return"), ("length", "episode_length"))]))


@datasets.command("from-capture")
@click.argument("source")
@click.option("--out", "output", required=True, help="File to write: .csv or .jsonl.")
@click.option("--rewards", "rewards_files", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="A JSON-lines file of {eventId, reward, done} (repeatable), beside those the endpoint recorded.")
def from_capture_command(source, output, rewards_files) -> None:
    """Turn an endpoint's captured traffic and its rewards into a dataset (SOURCE: an endpoint or a capture folder).

    Steps are the captured invocations whose custom attributes name an episode
    (predictor.predict(obs, custom_attributes="episode=ID")) and that have a reward
    (predictor.report_reward(predictor.last_event_id, reward, done=...)).
    """
    from pathlib import Path

    from rlops.datasets import write_dataset
    from rlops.datasets.capture import from_capture

    folder = Path(source)
    if not folder.is_dir():
        from rlops.serving.server import serving_settings
        from rlops.session import Session

        record = Session().service.endpoints.describe(source)
        capture = serving_settings(Path(record.model_dir)).get("capture")
        if not capture:
            raise click.ClickException(f"Endpoint {source!r} has no data capture (deploy it with a DataCaptureConfig).")
        folder = Path(capture["folder"])
    dataset = from_capture(folder, [Path(r) for r in rewards_files])
    path = write_dataset(dataset, output)
    click.echo(f"Wrote {path}: {len(dataset)} episodes, {dataset.steps} steps from {folder}.")


@click.command("ope")
@click.argument("policy")
@click.option("--dataset", "dataset_path", required=True, help="Logged episodes: .csv, .jsonl or minari:ID.")
@click.option("--gamma", type=float, default=0.99, show_default=True, help="Discount of the estimated return.")
@click.option("--estimator", "estimators", multiple=True, help="Only this estimator (repeatable): IPS, WIS, DM, DR, SDR.")
@click.option("--bootstrap", type=int, default=200, show_default=True, help="Resamples for the confidence intervals.")
@click.option("--env", "env_id", default=None, help="The environment, for a baseline policy given by name.")
@click.option("--json", "as_json", is_flag=True, help="Print the estimates as JSON.")
def ope(policy, dataset_path, gamma, estimators, bootstrap, env_id, as_json) -> None:
    """Estimate how POLICY would score from episodes another policy logged (off-policy evaluation).

    POLICY is a model folder, a model.tar.gz, a baseline (with --env) or `random`. Each estimate is the expected
    discounted return from an episode's start, with a 95% bootstrap interval over episodes; DM, DR and SDR fit a
    Q-model of the policy on the dataset (fitted Q evaluation).
    """
    from rlops.datasets import read_dataset
    from rlops.ope import COACH_COLUMNS, ESTIMATORS, evaluate, policy_probabilities

    dataset = read_dataset(dataset_path)
    estimates = evaluate(dataset, policy_probabilities(policy, dataset.n_actions, env_id), gamma=gamma,
                         estimators=estimators or ESTIMATORS, bootstrap=bootstrap)
    if as_json:
        dump_json({name: vars(e) for name, e in estimates.items()})
        return
    click.echo(f"{policy} on {dataset.source} ({len(dataset)} episodes, behaviour: {dataset.describe()['behaviour']}), "
               f"gamma {gamma:g}:")
    click.echo(table(["ESTIMATOR", "", "VALUE", "95% LOW", "95% HIGH"], [
        (name, COACH_COLUMNS[name], e.value, e.low, e.high) for name, e in estimates.items()]))
