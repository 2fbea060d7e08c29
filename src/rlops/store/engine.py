"""Connecting to the job store: SQLite tuned for several processes, or a server database by URL.

Every store call runs in one short transaction. On SQLite, writers open theirs with
``BEGIN IMMEDIATE`` so that two processes never deadlock upgrading a read lock; WAL keeps
readers from waiting on writers, and a busy timeout makes writers queue instead of failing.

The schema's revision is kept in ``rlops_alembic_version`` (stores written before tuning existed
kept it in Alembic's default ``alembic_version``; ``rlops db upgrade`` moves it), so that Optuna's
tables, which keep their own revision in ``alembic_version``, can live in the same database.
"""

from __future__ import annotations

import contextlib
import enum
import threading
import time
from pathlib import Path
from typing import Any, Iterator

from sqlalchemy import Connection, Engine, Select, Table, create_engine, event, inspect, select, text

from rlops.exceptions import SchemaOutOfDate, StoreError

#: The newest migration in ``migrations/versions``; a test checks they agree.
HEAD_REVISION = "0004"
#: Where the schema's revision is recorded (``migrations/env.py`` passes it to Alembic).
VERSION_TABLE = "rlops_alembic_version"
#: Revisions an older rlops recorded in Alembic's default table.
LEGACY_REVISIONS = ("0001", "0002")
UPGRADE_COMMAND = "rlops db upgrade"
BUSY_TIMEOUT_MS = 30_000

_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def get_engine(url: str) -> Engine:
    """One engine per URL per process, checked against the schema once."""
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _create_engine(url)
            ensure_schema(engine)
            _engines[url] = engine
        return engine


def dispose_engines() -> None:
    """Close pooled connections (after a fork, or at the end of a test)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


def _create_engine(url: str) -> Engine:
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    path = url.split("///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False})
    configure_sqlite(engine)
    return engine


def configure_sqlite(engine: Engine) -> None:
    """WAL, a busy timeout, foreign keys, and ``BEGIN IMMEDIATE`` for connections marked ``rlops_write``
    (an engine whose execution options mark it so writes in every transaction)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy's "begin" event below issue BEGIN itself (pysqlite's own handling
        # starts transactions lazily, which defeats BEGIN IMMEDIATE).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection):
        mode = "IMMEDIATE" if conn.get_execution_options().get("rlops_write") else "DEFERRED"
        conn.exec_driver_sql(f"BEGIN {mode}")


@contextlib.contextmanager
def transaction(engine: Engine, write: bool) -> Iterator[Connection]:
    """One transaction: committed on success, rolled back on any error."""
    with engine.connect() as conn:
        if write:
            conn = conn.execution_options(rlops_write=True)
        with conn.begin():
            yield conn


def current_revision(engine: Engine) -> str | None:
    """The schema revision recorded in the database, or None for an empty database."""
    with engine.connect() as conn:
        tables = inspect(conn)
        if tables.has_table(VERSION_TABLE):
            return conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()
        return _legacy_revision(conn)


def _legacy_revision(conn: Connection) -> str | None:
    """The revision an rlops before 0003 recorded in ``alembic_version`` (not Optuna's, which shares that table)."""
    if not inspect(conn).has_table("alembic_version"):
        return None
    revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return revision if revision in LEGACY_REVISIONS else None


def ensure_schema(engine: Engine) -> None:
    """Create the schema in an empty database; refuse one at another revision."""
    revision = current_revision(engine)
    if revision is None:
        upgrade(engine)
    elif revision != HEAD_REVISION:
        raise SchemaOutOfDate(
            f"The job store at {engine.url.render_as_string(hide_password=True)} has schema revision "
            f"{revision!r}; this rlops needs {HEAD_REVISION!r}. Run `{UPGRADE_COMMAND}` to upgrade it "
            "(back up the database first if it matters)."
        )


def upgrade_database(url: str) -> tuple[str | None, str]:
    """Migrate the database at ``url`` to the head revision: ``(revision before, revision after)``."""
    engine = _create_engine(url)
    try:
        before = current_revision(engine)
        upgrade(engine)
        return before, current_revision(engine)
    finally:
        engine.dispose()


def newest_first(table: Table, status: str | None, name_contains: str | None, limit: int | None) -> Select:
    """The rows of a table of named things with a status (jobs, tuning jobs), newest first, filtered as ``list``
    commands filter them."""
    query = select(table).order_by(table.c.created_at.desc())
    if status:
        query = query.where(table.c.status == status)
    if name_contains:
        query = query.where(table.c.name.contains(name_contains))
    return query.limit(limit) if limit else query


def claim_restart(engine: Engine, table: Table, name: str, pid: int | None, started: float | None,
                  active: list[str]) -> bool:
    """Take the right to start a dead supervisor (a job's, a tuner) again: only one process wins, the one that sees
    the row still naming the dead process while the job is active; the restart is counted (``restarts``). The row
    then names no process (which :func:`rlops.runtime.reconcile.supervisor_death` reads as starting) until the
    winner records the new one."""
    from sqlalchemy import and_, update

    with transaction(engine, write=True) as conn:
        return bool(conn.execute(
            update(table).where(and_(table.c.name == name, table.c.supervisor_pid == pid,
                                     table.c.supervisor_started == started, table.c.status.in_(active)))
            .values(supervisor_pid=None, heartbeat_at=time.time(), restarts=table.c.restarts + 1)).rowcount)


def column_values(values: dict[str, Any]) -> dict[str, Any]:
    """Values as the tables hold them: status enums become their strings."""
    return {k: v.value if isinstance(v, enum.Enum) else v for k, v in values.items()}


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` (what ``rlops db upgrade`` runs)."""
    from alembic import command
    from alembic.config import Config

    config = Config(str(Path(__file__).with_name("alembic.ini")))
    try:
        with engine.connect() as conn:
            conn = conn.execution_options(rlops_write=True)
            config.attributes["connection"] = conn
            legacy = _legacy_revision(conn)
            if legacy is not None:  # move the revision to rlops's own table first
                command.stamp(config, legacy)
                conn.execute(text("DROP TABLE alembic_version"))
            command.upgrade(config, revision)
            conn.commit()
    except Exception as exc:  # alembic raises many types; all mean the same to the user
        raise StoreError(f"Could not migrate the job store to {revision}: {exc}") from exc
