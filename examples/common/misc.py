"""``common/misc.py`` is where SageMaker RL's notebooks import their helpers from (``from misc import
get_execution_role, wait_for_s3_object``). It only keeps that import line working: the helpers live in
:func:`rlops.get_execution_role` and ``common/s3_objects.py``."""
# ruff: noqa: F401  (re-exports under the names SageMaker's notebook cells import)
from rlops import get_execution_role
from s3_objects import wait_for_s3_object
