"""A session's ``database_url`` is the store every operation goes to: jobs, endpoints and predictions."""

from __future__ import annotations

import pytest

from rlops.exceptions import NotFound
from rlops.model import Model
from rlops.predictor import Predictor
from rlops.rl import RLEstimator, RLToolkit
from rlops.session import Session
from rlops.store import EndpointStore, JobStore

pytestmark = pytest.mark.slow
OBS = [0.01, -0.02, 0.03, 0.04]


def test_database_url_is_used_to_train_deploy_and_predict(tmp_path):
    url = f"sqlite:///{tmp_path / 'team.db'}"
    session = Session(database_url=url)
    estimator = RLEstimator(toolkit=RLToolkit.SB3, sagemaker_session=session, output_path=str(tmp_path / "out"),
                            hyperparameters={"preset": "cartpole-ppo", "rl.schedule.training_steps": 256,
                                             "rl.schedule.evaluation_episodes": 1})
    estimator.fit(logs=False)
    name = estimator.latest_training_job.name
    assert JobStore(url).get(name).status == "Completed"  # its supervisor wrote to the session's store
    assert JobStore().list() == []  # and the environment's store never heard of it

    predictor = estimator.deploy(initial_instance_count=1, instance_type="local", endpoint_name="team-endpoint")
    try:
        assert EndpointStore(url).get("team-endpoint").status == "InService"
        assert EndpointStore().list() == []
        assert predictor.predict(OBS)["action"] in (0, 1)
        assert Predictor("team-endpoint", sagemaker_session=session).predict([OBS, OBS])["predictions"]
        with pytest.raises(NotFound, match="No endpoint named 'team-endpoint'"):
            Predictor("team-endpoint").predict(OBS)  # the default session's store has no such endpoint

        second = Model(estimator.model_data, sagemaker_session=session).deploy(endpoint_name="team-second")
        assert sorted(r.name for r in session.service.endpoints.list()) == ["team-endpoint", "team-second"]
        second.delete_endpoint()
    finally:
        predictor.delete_endpoint()
    assert EndpointStore(url).list() == []
    assert RLEstimator.attach(name, sagemaker_session=session).model_data == estimator.model_data
