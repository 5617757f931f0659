"""SQLObject's database: one SQLAlchemy engine per DATABASE_URL and process (a Lambda container
keeps its pool between requests). The engine connects only when an interview first uses it."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from chalicelib.runtime.errors import RuntimeLayerError

if TYPE_CHECKING:
    import sqlalchemy

_engines: dict[str, sqlalchemy.Engine] = {}
_lock = threading.Lock()


class DatabaseNotSetError(RuntimeLayerError):
    """An interview used SQLObject on a server with no DATABASE_URL."""


class SqlDatabase:
    """The `SqlPort` of an evaluation."""

    def __init__(self, url: str) -> None:
        self.url = url

    def engine(self) -> Any:
        if not self.url:
            raise DatabaseNotSetError("SQLObject needs a SQL database, and none is set: set DATABASE_URL to a "
                                      "SQLAlchemy URL (README.md, 'Settings'), e.g. "
                                      "postgresql+psycopg://user:password@host/db or sqlite:///data.sqlite3")
        with _lock:
            engine = _engines.get(self.url)
            if engine is None:
                import sqlalchemy  # on first use: it takes a while to import

                engine = sqlalchemy.create_engine(self.url, pool_pre_ping=True)
                _engines[self.url] = engine
            return engine
