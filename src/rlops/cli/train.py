"""``rlops train``: a training job from a preset, without writing a script."""

from __future__ import annotations

import json

import click

from rlops.exceptions import UsageError


def parse_setting(text: str) -> tuple[str, object]:
    """``rl.a.b=0.5`` -> ``("rl.a.b", 0.5)``: the value is JSON when it parses, else a string."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise UsageError(f"--set takes KEY=VALUE (e.g. rl.algorithm.hyperparameters.gamma=0.99); got {text!r}.")
    try:
        return key.strip(), json.loads(value)
    except ValueError:
        return key.strip(), value


@click.command("train")
@click.option("--preset", "preset", required=True, help="A built-in preset (`rlops presets list`) or one in --source-dir.")
@click.option("--set", "settings", multiple=True, metavar="KEY=VALUE",
              help="Override a preset field (rl.<dotted.path>=VALUE, or an alias such as discount=0.99). Repeatable; "
                   "VALUE is JSON when it parses (0.5, true, [64, 64]), else a string.")
@click.option("--source-dir", type=click.Path(exists=True, file_okay=False), help="Folder with your presets and environment code.")
@click.option("--job-name", help="Name of the job (default: the preset's name and a timestamp).")
@click.option("--output-path", help="Where artifacts go (a folder, file:// or s3:// URI; default the default bucket, RLOPS_HOME/s3/rlops-default-bucket).")
@click.option("--checkpoint-uri", help="Keep checkpoints here; a job started again on it resumes.")
@click.option("--instance-count", type=int, default=1, show_default=True, help="Hosts (processes) to run.")
@click.option("--max-run", type=int, default=86400, show_default=True, help="Stop the job after this many seconds.")
@click.option("--input", "inputs", multiple=True, metavar="CHANNEL=PATH",
              help="An input channel (a file, folder, file:// or s3:// URI), e.g. training=cartpole.csv for a batch-RL "
                   "preset. Repeatable.")
@click.option("--wait/--no-wait", default=True, show_default=True, help="Stream the log until the job ends.")
def train(preset, settings, source_dir, job_name, output_path, checkpoint_uri, instance_count, max_run, inputs,
          wait) -> None:
    """Train an agent from a preset (Stable-Baselines3, or RLlib for its presets), as a job you can follow,
    stop and attach to.

    \b
    Examples:
      rlops train --preset cartpole-ppo
      rlops train --preset cartpole-dqn --set rl.schedule.training_steps=20000 --set discount=0.98
      rlops train --preset cartpole-rllib-ppo --set rl.training.config.lr=0.0005
      rlops train --preset cartpole-bcq-offline --input training=cartpole.csv
    """
    from rlops.cli.presets import toolkit_of
    from rlops.rl import RLEstimator

    hyperparameters = {"preset": preset, **dict(parse_setting(s) for s in settings)}
    estimator = RLEstimator(toolkit=toolkit_of(preset), source_dir=source_dir, hyperparameters=hyperparameters,
                            output_path=output_path, checkpoint_uri=checkpoint_uri, instance_count=instance_count,
                            max_run=max_run, base_job_name=preset.replace("_", "-").replace(".", "-"))
    channels = {}
    for text in inputs:
        channel, sep, path = text.partition("=")
        if not sep or not channel or not path:
            raise UsageError(f"--input takes CHANNEL=PATH (e.g. training=cartpole.csv); got {text!r}.")
        channels[channel] = path
    estimator.fit(channels or None, wait=wait, job_name=job_name)
    name = estimator.latest_training_job.name
    if wait:
        click.echo(f"\nModel: {estimator.model_data}")
    else:
        click.echo(f"Started {name}. Follow it with: rlops jobs logs {name} --follow")
