"""``rlops presets``: the built-in presets, and what is in one."""

from __future__ import annotations

import click
import yaml

from rlops.cli.tables import dump_json, table
from rlops.exceptions import UsageError
from rlops.toolkits.rllib.presets import PRESETS as RLLIB_PRESETS
from rlops.toolkits.sb3.presets import PRESETS as SB3_PRESETS

#: Each toolkit's built-in presets, by the name ``RLEstimator(toolkit=...)`` takes.
TOOLKIT_PRESETS = {"sb3": SB3_PRESETS, "ray": RLLIB_PRESETS}


def toolkit_of(name: str) -> str:
    """The toolkit whose built-in (or, for a path, whose format) preset ``name`` is."""
    for toolkit, folder in TOOLKIT_PRESETS.items():
        try:
            data = folder.load(name)
        except UsageError:
            continue
        return "ray" if "training" in data else toolkit
    return "sb3"  # a preset in --source-dir: the SB3 format unless it says otherwise


def _summary(toolkit: str, name: str) -> dict:
    data = TOOLKIT_PRESETS[toolkit].load(name)
    if toolkit == "ray":
        training = data["training"]
        stop = training.get("stop") or {}
        return {"name": name, "toolkit": toolkit, "environment": training["env"], "algorithm": training["run"],
                "training_steps": stop.get("timesteps_total"), "target": data.get("target"),
                "description": data.get("description", "")}
    return {"name": name, "toolkit": data.get("toolkit", toolkit),  # "fast": the SB3 launcher hands it to the engine
            "environment": data["env"]["id"], "algorithm": data["algorithm"]["name"],
            "training_steps": data.get("schedule", {}).get("training_steps"), "target": data.get("target"),
            "description": data.get("description", "")}


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
    """List the built-in presets of every toolkit (SB3, and RLlib for RLToolkit.RAY)."""
    rows = [_summary(toolkit, name) for toolkit, folder in TOOLKIT_PRESETS.items() for name in folder.names()]
    if as_json:
        dump_json(rows)
        return
    click.echo(table(["NAME", "ENVIRONMENT", "ALGORITHM", "STEPS", "TARGET", "DESCRIPTION", "TOOLKIT"],
                     [(r["name"], r["environment"], r["algorithm"], r["training_steps"], r["target"],
                       r["description"][:60], r["toolkit"]) for r in rows]))


@presets.command("show")
@click.argument("name")
def show(name) -> None:
    """Print a preset (built-in, or a path to a YAML file)."""
    folder = TOOLKIT_PRESETS[toolkit_of(name)]
    click.echo(f"# {folder.find(name)}")
    click.echo(yaml.safe_dump(folder.load(name), sort_keys=False).rstrip())
