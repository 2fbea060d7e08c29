"""``InstanceGroup``: one group of a heterogeneous cluster, as in ``sagemaker.instance_group``.

>>> from rlops.instance_group import InstanceGroup
>>> groups = [InstanceGroup("learner", "local_gpu", 1), InstanceGroup("rollouts", "local", 2)]

An estimator given ``instance_groups`` runs one host per instance, named ``algo-1``, ``algo-2``, ...
in the order of the groups; each host learns its group from ``SM_CURRENT_INSTANCE_GROUP`` and
``resourceconfig.json`` (SPEC section 7). A RAY job puts its learner on one group and its env
runners on the others (:mod:`rlops.toolkits.rllib`).
"""

from __future__ import annotations

from typing import Any

from rlops.contract import validate_name
from rlops.exceptions import UsageError


class InstanceGroup:
    """A named group of ``instance_count`` hosts of one ``instance_type``."""

    def __init__(self, instance_group_name: str | None = None, instance_type: str | None = None,
                 instance_count: int | None = None):
        self.instance_group_name = instance_group_name
        self.instance_type = instance_type
        self.instance_count = instance_count

    def _to_request_dict(self) -> dict[str, Any]:
        """SageMaker's ``InstanceGroup`` request shape."""
        return {"InstanceGroupName": self.instance_group_name, "InstanceType": self.instance_type,
                "InstanceCount": self.instance_count}

    def __repr__(self) -> str:
        return f"InstanceGroup({self.instance_group_name!r}, {self.instance_type!r}, {self.instance_count!r})"


def group_specs(groups: Any) -> list[dict[str, Any]]:
    """Validated ``[{"instance_group_name", "instance_type", "instance_count"}, ...]`` for the job spec."""
    if not isinstance(groups, (list, tuple)) or not groups:
        raise UsageError(f"instance_groups must be a non-empty list of InstanceGroup; got {groups!r}.")
    specs, seen = [], set()
    for group in groups:
        if isinstance(group, dict):  # the request shape, or the spec's own
            group = InstanceGroup(group.get("instance_group_name", group.get("InstanceGroupName")),
                                  group.get("instance_type", group.get("InstanceType")),
                                  group.get("instance_count", group.get("InstanceCount")))
        if not isinstance(group, InstanceGroup):
            raise UsageError(f"instance_groups holds InstanceGroup objects (from rlops.instance_group); got {group!r}.")
        name, kind, count = group.instance_group_name, group.instance_type, group.instance_count
        if not isinstance(name, str):
            raise UsageError(f"An instance group needs a name (instance_group_name); got {group!r}.")
        validate_name(name, "instance group")
        if name in seen:
            raise UsageError(f"Two instance groups are named {name!r}; group names must be unique.")
        seen.add(name)
        if not isinstance(kind, str) or not kind:
            raise UsageError(f"Instance group {name!r} needs an instance_type such as 'local'; got {kind!r}.")
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise UsageError(f"Instance group {name!r} needs a positive integer instance_count; got {count!r}.")
        specs.append({"instance_group_name": name, "instance_type": kind, "instance_count": count})
    return specs
