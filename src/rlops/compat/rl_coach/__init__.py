"""``rl_coach`` on rlops: Coach's module names over rlops's translation to Stable-Baselines3.

Placed on a Coach job's path only (see :mod:`rlops.compat`); the classes live in
:mod:`rlops.toolkits.coach`.
"""

__version__ = "0.11.0+rlops"
