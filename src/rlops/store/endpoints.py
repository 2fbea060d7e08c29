"""The endpoint store: model servers, their status, address, model and processes.

Whether a server's processes are alive is the runtime service's question; the store records
the answer.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from rlops.exceptions import AlreadyExists, NotFound
from rlops.records import EndpointRecord, EndpointStatus
from rlops.store.engine import column_values, get_engine, transaction
from rlops.store.schema import endpoints


class EndpointStore:
    def __init__(self, url: str | None = None):
        from rlops.settings import database_url

        self.url = url or database_url()
        self.engine = get_engine(self.url)

    def create(self, name: str, model: str, model_dir: str, host: str, port: int, workers: int, log_path: str) -> None:
        now = time.time()
        try:
            with transaction(self.engine, write=True) as conn:
                conn.execute(insert(endpoints).values(
                    name=name, status=EndpointStatus.CREATING.value, model=model, model_dir=model_dir, host=host,
                    port=port, workers=workers, log_path=log_path, created_at=now, updated_at=now))
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
        values = column_values(values)
        with transaction(self.engine, write=True) as conn:
            conn.execute(update(endpoints).where(endpoints.c.name == name).values(updated_at=time.time(), **values))

    def delete(self, name: str) -> None:
        with transaction(self.engine, write=True) as conn:
            conn.execute(delete(endpoints).where(endpoints.c.name == name))
