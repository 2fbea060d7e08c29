"""The job store: a real SQLite file, several processes at once, schema versions."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory

import rlops.store.engine as engine_module
from rlops.exceptions import NotFound, SchemaOutOfDate
from rlops.records import MetricPoint
from rlops.store import JobStore
from rlops.store.engine import HEAD_REVISION, dispose_engines


def test_head_revision_matches_the_migrations():
    config = Config(str(Path(engine_module.__file__).with_name("alembic.ini")))
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD_REVISION


def test_sqlite_file_in_rlops_home_uses_wal(rlops_home):
    JobStore().create("a-job", {"x": 1}, "/tmp/w", "/tmp/w/log")
    db = rlops_home / "rlops.db"
    assert db.is_file()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT name FROM training_jobs").fetchall() == [("a-job",)]


def test_database_url_replaces_the_default(tmp_path, monkeypatch, rlops_home):
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    monkeypatch.setenv("RLOPS_DATABASE_URL", url)
    JobStore().create("b-job", {}, "/tmp/w", "/tmp/w/log")
    assert (tmp_path / "elsewhere.db").is_file() and not (rlops_home / "rlops.db").exists()


def test_out_of_date_schema_names_the_upgrade_command(rlops_home):
    JobStore()
    dispose_engines()
    with sqlite3.connect(rlops_home / "rlops.db") as conn:
        conn.execute("UPDATE rlops_alembic_version SET version_num = '0000'")
    with pytest.raises(SchemaOutOfDate, match=re.escape("Run `rlops db upgrade`")):
        JobStore()


def test_missing_job_is_not_found():
    with pytest.raises(NotFound, match="No training job named 'ghost'"):
        JobStore().get("ghost")


WRITER = """
import sys
from rlops.records import MetricPoint
from rlops.store import JobStore
store = JobStore()
worker = int(sys.argv[1])
store.create(f"job-{worker}", {"worker": worker}, "/tmp/w", "/tmp/w/log")
for i in range(50):
    store.add_metrics(f"job-{worker}", [MetricPoint("m", float(i), float(i))])
    store.heartbeat(f"job-{worker}")
    store.list()
"""


@pytest.mark.slow
def test_several_processes_write_at_once(rlops_home):
    JobStore()  # create the schema first, as the first rlops call on a machine does
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(i)]) for i in range(6)]
    assert [p.wait(timeout=120) for p in procs] == [0] * 6
    store = JobStore()
    assert sorted(j.name for j in store.list()) == [f"job-{i}" for i in range(6)]
    for i in range(6):
        assert [p.value for p in store.metrics(f"job-{i}")] == [float(v) for v in range(50)]


def test_final_metrics_are_the_last_points():
    store = JobStore()
    store.create("m-job", {}, "/tmp/w", "/tmp/w/log")
    store.add_metrics("m-job", [MetricPoint("a", 1, 1), MetricPoint("b", 5, 1), MetricPoint("a", 2, 2)])
    assert [(p.name, p.value) for p in store.final_metrics("m-job")] == [("a", 2.0), ("b", 5.0)]


def test_db_upgrade_migrates_an_older_store(rlops_home):
    from click.testing import CliRunner
    from sqlalchemy import create_engine, inspect

    from rlops.cli.main import cli
    from rlops.store.engine import upgrade

    url = f"sqlite:///{rlops_home / 'rlops.db'}"
    rlops_home.mkdir(parents=True, exist_ok=True)
    old = create_engine(url)
    upgrade(old, "0001")  # a store written by an rlops before endpoints existed
    assert not inspect(old).has_table("endpoints")
    old.dispose()
    with pytest.raises(SchemaOutOfDate, match="'0001'.*rlops db upgrade"):
        JobStore()
    result = CliRunner().invoke(cli, ["db", "upgrade"])
    assert result.exit_code == 0 and f"upgraded 0001 -> {HEAD_REVISION}" in result.output
    dispose_engines()
    assert JobStore().list() == []


def test_db_upgrade_moves_an_older_revision_table_aside_for_optuna(rlops_home):
    """Stores before 0003 kept their revision in Alembic's default table, which Optuna's tables also use: the
    upgrade moves it to rlops's own, and Optuna's study then lives in the same database."""
    import optuna
    from click.testing import CliRunner
    from sqlalchemy import create_engine, inspect

    from rlops.cli.main import cli
    from rlops.runtime.tuner import open_storage
    from rlops.store.engine import upgrade

    url = f"sqlite:///{rlops_home / 'rlops.db'}"
    rlops_home.mkdir(parents=True, exist_ok=True)
    old = create_engine(url)
    upgrade(old, "0002")
    with old.begin() as conn:  # as an rlops before 0003 left it
        conn.exec_driver_sql("ALTER TABLE rlops_alembic_version RENAME TO alembic_version")
    old.dispose()
    with pytest.raises(SchemaOutOfDate, match="'0002'.*rlops db upgrade"):
        JobStore()
    result = CliRunner().invoke(cli, ["db", "upgrade"])
    assert result.exit_code == 0 and f"upgraded 0002 -> {HEAD_REVISION}" in result.output, result.output
    dispose_engines()
    study = optuna.create_study(storage=open_storage(url), study_name="shared")
    study.tell(study.ask(), 1.0)
    assert JobStore().list() == [] and len(optuna.load_study(study_name="shared", storage=url).trials) == 1
    tables = inspect(create_engine(url)).get_table_names()
    assert {"rlops_alembic_version", "alembic_version", "tuning_jobs", "trials"} <= set(tables)
