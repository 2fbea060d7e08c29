import not_a_real_package  # noqa: F401  (what a user forgot to list in requirements.txt)
from corridor_env import Corridor  # noqa: F401
