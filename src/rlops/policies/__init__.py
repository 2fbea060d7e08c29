"""Policies to act with and compare: portable trained policies and hand-written baselines.

:func:`load_policy` turns what a person types (``target-tracking``, ``target-tracking:0.7``,
``model.tar.gz``, a model folder) into an object with SB3's ``predict`` interface.
"""

from __future__ import annotations

from pathlib import Path

from rlops.policies.baselines import BASELINES, FOR_ENVIRONMENT, make_baseline
from rlops.policies.evaluation import episode_return, make_env
from rlops.policies.portable import PolicyError, PortablePolicy


def load_policy(reference: str, env_id: str | None, env_kwargs: dict | None = None):
    """A baseline by name (``NAME`` or ``NAME:VALUE``), or a portable policy from a path."""
    name, _, value = reference.partition(":")
    if name in BASELINES:
        if env_id is None:
            from rlops.exceptions import UsageError

            raise UsageError(f"Baseline {name!r} needs an environment: pass --env (e.g. rlops/AutoScaling-v0).")
        env = make_env(env_id, env_kwargs)
        return make_baseline(name, env, float(value) if value else None, tune_with=episode_return(env_id, env_kwargs))
    if Path(reference).exists():
        return PortablePolicy.load(reference)
    from rlops.exceptions import UsageError, did_you_mean

    raise UsageError(f"No policy {reference!r}: not a baseline ({', '.join(BASELINES)}), a job name, a model.tar.gz "
                     f"or a model folder.{did_you_mean(name, BASELINES)}")


__all__ = ["BASELINES", "FOR_ENVIRONMENT", "PolicyError", "PortablePolicy", "load_policy"]
