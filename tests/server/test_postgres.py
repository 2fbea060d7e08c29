"""An rlops server on a real Postgres: a job trained through it shows the same metrics as on SQLite, and what the
server records lands in Postgres."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from rlops.session import Session
from tests.conftest import ServerProcess

pytestmark = pytest.mark.slow


def trained_metrics(estimator_factory) -> tuple[str, list[tuple[str, float]], list[tuple[str, float]]]:
    estimator = estimator_factory("emit_metrics.py", hyperparameters={"episodes": 5},
                                  metric_definitions=[{"Name": "reward", "Regex": "Total reward=(-?[0-9.]+)"},
                                                      {"Name": "loss", "Regex": "loss=([0-9.]+)"}])
    estimator.fit(logs=False)
    jobs = Session().service.jobs
    name = estimator.latest_training_job.name
    points = [(p.name, p.value) for p in jobs.metrics(name)]
    final = [(p.name, p.value) for p in jobs.final_metrics(name)]
    assert jobs.describe(name).status == "Completed"
    return name, points, final


def test_a_job_through_the_server_on_postgres_shows_the_same_metrics_as_on_sqlite(
        postgres, estimator_factory, rlops_home, tmp_path, monkeypatch):
    _, on_sqlite, final_sqlite = trained_metrics(estimator_factory)  # the local store, SQLite
    assert len(on_sqlite) == 5 * 3  # a training and a testing reward and the loss, per episode

    url = postgres.database()
    server = ServerProcess(rlops_home, [tmp_path], database_url=url)
    try:
        monkeypatch.setenv("RLOPS_SERVER", server.url)
        version = Session().service.client.check()
        assert version["store"].startswith("postgresql+psycopg://rlops@127.0.0.1")
        name, on_postgres, final_postgres = trained_metrics(estimator_factory)
    finally:
        server.stop()
    assert on_postgres == on_sqlite and final_postgres == final_sqlite

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT status FROM training_jobs WHERE name = :n"), {"n": name}).scalar() \
                == "Completed"
            assert conn.execute(text("SELECT count(*) FROM metrics WHERE job_name = :n"), {"n": name}).scalar() == 15
    finally:
        engine.dispose()
