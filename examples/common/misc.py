"""``common/misc.py`` is where SageMaker RL's notebooks import their helpers from (``from misc import
get_execution_role, wait_for_s3_object``); this file keeps that import line working and holds only the role."""
import rlops
from s3_objects import wait_for_s3_object  # noqa: F401  (imported from here by SageMaker's notebook cells)


def get_execution_role():
    """SageMaker asked IAM for a role; rlops needs none and returns a placeholder that estimators accept."""
    return rlops.get_execution_role()
