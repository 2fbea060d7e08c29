"""A custom environment written for gym 0.21 trains unchanged (rlops.compat.gym on the job's path)."""

from __future__ import annotations

import re

import pytest

from rlops.exceptions import UnexpectedStatusException
from rlops.rl import RLEstimator, RLToolkit
from rlops.session import Session
from tests.conftest import SCRIPTS

pytestmark = pytest.mark.slow
SOURCE = SCRIPTS / "gym0x"


def test_a_gym_0x_environment_trains_unchanged(tmp_path):
    estimator = RLEstimator(toolkit=RLToolkit.SB3, source_dir=str(SOURCE), output_path=str(tmp_path / "out"),
                            hyperparameters={"preset": "corridor-ppo"})
    estimator.fit(logs=False)
    log = "".join(Session().service.jobs.logs(estimator.latest_training_job.name))
    assert re.search(r"gym( and rl_coach)? (is|are) not installed for the job: using rlops's compatibility layer "
                     r"\(gym 0\.x environments on Gymnasium", log)
    returns = [float(r) for r in re.findall(r"^Testing>.*Total reward=(-?[\d.]+),", log, re.M)]
    # walking right reaches the end in at most 5 steps (return >= 0.6); a policy that does not
    # learn wanders until the 50-step cut (about -5)
    assert returns and min(returns) >= 0.5


def test_an_import_failing_inside_the_environment_module_names_the_real_cause(tmp_path):
    estimator = RLEstimator(toolkit=RLToolkit.SB3, source_dir=str(SOURCE), output_path=str(tmp_path / "out"),
                            hyperparameters={"preset": "corridor-ppo", "rl.env.id": "corridor_bad:Corridor"})
    with pytest.raises(UnexpectedStatusException):
        estimator.fit(logs=False)
    reason = Session().service.jobs.describe(estimator.latest_training_job.name).failure_reason
    assert "the module 'corridor_bad' is there, but importing it failed" in reason
    assert "No module named 'not_a_real_package'" in reason and "Put its file in source_dir" not in reason
