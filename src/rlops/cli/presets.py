"""``rlops presets``: the built-in presets, and what is in one."""

from __future__ import annotations

import click
import yaml

from rlops.cli.tables import dump_json, table
from rlops.toolkits.sb3.presets import builtin_names, find_preset, load_raw


@click.group("presets")
def presets() -> None:
    """Presets: a job's environment, algorithm and schedule in one YAML file.

    \b
    Examples:
      rlops presets list
      rlops presets show cartpole-ppo
      rlops train --preset cartpole-ppo --set rl.schedule.training_steps=20000
    """


@presets.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def list_presets(as_json) -> None:
    """List the built-in presets."""
    rows = []
    for name in builtin_names():
        data = load_raw(name)
        schedule = data.get("schedule", {})
        rows.append({"name": name, "environment": data["env"]["id"], "algorithm": data["algorithm"]["name"],
                     "training_steps": schedule.get("training_steps"), "target": data.get("target"),
                     "description": data.get("description", "")})
    if as_json:
        dump_json(rows)
        return
    click.echo(table(["NAME", "ENVIRONMENT", "ALGORITHM", "STEPS", "TARGET", "DESCRIPTION"],
                     [(r["name"], r["environment"], r["algorithm"], r["training_steps"], r["target"],
                       r["description"][:60]) for r in rows]))


@presets.command("show")
@click.argument("name")
def show(name) -> None:
    """Print a preset (built-in, or a path to a YAML file)."""
    path = find_preset(name)
    click.echo(f"# {path}")
    click.echo(yaml.safe_dump(load_raw(name), sort_keys=False).rstrip())
