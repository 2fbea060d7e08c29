"""The endpoint store: model servers, their status, address, model and processes."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import psutil
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from rlops.exceptions import AlreadyExists, NotFound
from rlops.store.engine import get_engine, transaction
from rlops.store.schema import endpoints

CREATING, IN_SERVICE, FAILED, DELETING = "Creating", "InService", "Failed", "Deleting"


@dataclass
class EndpointRecord:
    name: str
    status: str
    model: str
    model_dir: str
    host: str
    port: int
    workers: int
    pid: int | None
    pid_started: float | None
    machine: str | None
    log_path: str
    failure_reason: str | None
    created_at: float
    updated_at: float

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def processes(self) -> list[psutil.Process]:
        """The server's live processes (root first), or [] when they are gone."""
        if self.pid is None:
            return []
        try:
            root = psutil.Process(self.pid)
            if abs(root.create_time() - (self.pid_started or 0)) > 1.0 or root.status() == psutil.STATUS_ZOMBIE:
                return []
            return [root, *root.children(recursive=True)]
        except psutil.Error:
            return []


class EndpointStore:
    def __init__(self, url: str | None = None):
        from rlops.settings import database_url

        self.engine = get_engine(url or database_url())

    def create(self, name: str, model: str, model_dir: str, host: str, port: int, workers: int, log_path: str) -> None:
        now = time.time()
        try:
            with transaction(self.engine, write=True) as conn:
                conn.execute(insert(endpoints).values(
                    name=name, status=CREATING, model=model, model_dir=model_dir, host=host, port=port, workers=workers,
                    log_path=log_path, created_at=now, updated_at=now))
        except IntegrityError:
            raise AlreadyExists(f"An endpoint named {name!r} already exists; delete it first "
                                f"(`rlops endpoints delete {name}`) or pick another endpoint_name.") from None

    def get(self, name: str) -> EndpointRecord:
        with transaction(self.engine, write=False) as conn:
            row = conn.execute(select(endpoints).where(endpoints.c.name == name)).first()
        if row is None:
            raise NotFound(f"No endpoint named {name!r}. `rlops endpoints list` shows the endpoints there are.")
        return EndpointRecord(**row._mapping)

    def list(self) -> list[EndpointRecord]:
        with transaction(self.engine, write=False) as conn:
            rows = conn.execute(select(endpoints).order_by(endpoints.c.created_at.desc())).all()
        return [EndpointRecord(**row._mapping) for row in rows]

    def update(self, name: str, **values: Any) -> None:
        with transaction(self.engine, write=True) as conn:
            conn.execute(update(endpoints).where(endpoints.c.name == name).values(updated_at=time.time(), **values))

    def delete(self, name: str) -> None:
        with transaction(self.engine, write=True) as conn:
            conn.execute(delete(endpoints).where(endpoints.c.name == name))
