"""`SQLObject`: docassemble's "single source of truth" pattern, an object whose attributes are
kept in the columns of one SQL table (SQLAlchemy, against DATABASE_URL).

The object says which table and columns it uses, in attributes named as docassemble's class
attributes (set them with ``using`` or in a subclass):

- ``_table``: the table's name (created with the columns below, and an ``id`` key, on first use);
- ``_columns``: column name → the attribute path it holds (``'first_name': 'name.first'``);
- ``_types``: column name → ``'text'`` (the default), ``'integer'``, ``'number'`` or ``'boolean'``;
- ``_uid``: a column whose value names one row (unique), used to find an existing row;
- ``_required``: the columns that must be defined before the row is written.

``db_get(column)``, ``db_set(column, value)`` and ``db_null(column)`` move one value between the
object and a column (override them to convert values); ``db_save()`` writes the row (an insert,
or an update of the row it has, or of the row with the same ``_uid``), ``db_read()`` reads its
row into the object, ``db_find_existing()`` finds the row with the object's ``_uid``,
``db_delete()`` deletes its row. ``db_add_child(obj)``, ``db_remove_child(obj)``,
``db_has_child(obj)`` and ``db_child_ids(table)`` keep a many-to-many relationship between two
SQLObjects in a table of their own (``<parent table>__<child table>``).

The object keeps only its row's id (``id``) and its own attributes: it is pickled with the
answers, and reaches the database of the evaluation running at the time. SQL writes happen when
they are called, not with the turn's commit: give the table a ``_uid`` so that a turn run again
after a conflict finds the row it wrote instead of adding another.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from chalicelib.engine import active
from chalicelib.library.objects import DAObject

if TYPE_CHECKING:
    import sqlalchemy as sa
else:

    class _OnFirstUse:
        """SQLAlchemy, imported when an interview first uses SQLObject (not at every cold start)."""

        def __getattr__(self, name: str) -> Any:
            return getattr(importlib.import_module("sqlalchemy"), name)

    sa = _OnFirstUse()

__all__ = ["SQLObject"]

_TYPES: Mapping[str, str] = {"text": "Text", "integer": "BigInteger", "number": "Float", "boolean": "Boolean"}
_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_")
_tables: dict[tuple[int, str], sa.Table] = {}
_lock = threading.Lock()


def _engine() -> sa.Engine:
    port = active.current().request.sql
    if port is None:
        raise RuntimeError("SQLObject is not available here (no database was given to this evaluation)")
    engine: sa.Engine = port.engine()
    return engine


def _checked_name(kind: str, name: Any) -> str:
    text = str(name)
    if not text or len(text) > 60 or not set(text) <= _NAME_CHARS or text[0].isdigit():
        raise ValueError(f"SQLObject: a {kind} name is 1 to 60 lower-case letters, digits and _, not starting with a "
                         f"digit; found {text!r}")
    return text


def _table(engine: sa.Engine, name: str, columns: Mapping[str, str], uid: str | None) -> sa.Table:
    """The table (created if missing) with an `id` key and the columns, typed as asked."""
    with _lock:
        key = (id(engine), name)
        table = _tables.get(key)
        if table is None:
            metadata = sa.MetaData()
            table = sa.Table(name, metadata, sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
                             *[sa.Column(column, getattr(sa, _TYPES[kind]), unique=(column == uid))
                               for column, kind in columns.items()])
            metadata.create_all(engine, checkfirst=True)
            _tables[key] = table
        return table


def _link_table(engine: sa.Engine, parent: str, child: str) -> sa.Table:
    name = _checked_name("table", f"{parent}__{child}")
    with _lock:
        key = (id(engine), name)
        table = _tables.get(key)
        if table is None:
            metadata = sa.MetaData()
            table = sa.Table(name, metadata, sa.Column("parent_id", sa.Integer, primary_key=True),
                             sa.Column("child_id", sa.Integer, primary_key=True))
            metadata.create_all(engine, checkfirst=True)
            _tables[key] = table
        return table


class SQLObject(DAObject):
    _table: str = ""
    _columns: Mapping[str, str] = {}
    _types: Mapping[str, str] = {}
    _uid: str | None = None
    _required: tuple[str, ...] | list[str] = ()

    # ------------------------------------------------------------------ the mapping
    def _sql_columns(self) -> dict[str, str]:
        if not self._columns:
            raise ValueError(f"SQLObject {self.instanceName}: _columns names no column; give it "
                             "{'column': 'attribute', ...}")
        kinds = {}
        for column in self._columns:
            kind = str(self._types.get(column, "text"))
            if kind not in _TYPES:
                raise ValueError(f"SQLObject {self.instanceName}: the type of column {column!r} is one of "
                                 f"{', '.join(_TYPES)}; found {kind!r}")
            kinds[_checked_name("column", column)] = kind
        if "id" in kinds:
            raise ValueError(f"SQLObject {self.instanceName}: 'id' is the row's key, kept by SQLObject itself; "
                             "map your own identifier to another column")
        return kinds

    def _sql_table(self) -> sa.Table:
        uid = self._uid
        columns = self._sql_columns()
        if uid is not None and uid not in columns:
            raise ValueError(f"SQLObject {self.instanceName}: _uid {uid!r} is not one of the columns")
        return _table(_engine(), _checked_name("table", self._table), columns, uid)

    def db_get(self, column: str) -> Any:
        """The value of `column` from the object; raises AttributeError when it is not defined."""
        path = self._columns[column]
        if not self.defined(path):
            raise AttributeError(f"{self.instanceName}.{path} is not defined")
        return self._sought(path)

    def _sought(self, path: str) -> Any:
        """The attribute at `path`; a missing one is asked for, as any read in interview code."""
        target: Any = self
        for part in path.split("."):
            target = getattr(target, part)
        return target

    def db_set(self, column: str, value: Any) -> None:
        """Put a column's value into the object."""
        *parents, last = self._columns[column].split(".")
        target: Any = self
        for part in parents:
            target = getattr(target, part)
        setattr(target, last, value)

    def db_null(self, column: str) -> None:
        """The column is NULL: the attribute becomes undefined (asked again if needed)."""
        *parents, last = self._columns[column].split(".")
        target: Any = self
        for part in parents:
            if not isinstance(target, DAObject) or not target.attribute_defined(part):
                return
            target = getattr(target, part)
        if last in getattr(target, "__dict__", {}):
            delattr(target, last)

    def _values(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for column in self._sql_columns():
            try:
                values[column] = self.db_get(column)
            except AttributeError:
                continue
        return values

    # ------------------------------------------------------------------ rows
    def ready(self) -> bool:
        """Whether every `_required` column (and the `_uid`) is defined, so the row may be written."""
        needed = [*self._required, *([self._uid] if self._uid else [])]
        values = self._values()
        return all(column in values for column in needed)

    def db_find_existing(self) -> bool:
        """Find the row with this object's `_uid` value (asked for if undefined); if there is one, take
        its id and read the row into the object."""
        if not self._uid:
            return False
        table = self._sql_table()
        wanted = self._sought(self._columns[self._uid])  # asked for first if it is not defined yet
        with _engine().connect() as connection:
            found = connection.execute(sa.select(table.c.id).where(table.c[self._uid] == wanted)).first()
        if found is None:
            return False
        self.id = int(found[0])
        self.db_read()
        return True

    def db_read(self) -> bool:
        """Read the object's row (by `id`) into it; False when it has no row (or the row is gone)."""
        if "id" not in self.__dict__:
            return False
        table = self._sql_table()
        with _engine().connect() as connection:
            row = connection.execute(sa.select(table).where(table.c.id == self.id)).mappings().first()
        if row is None:
            del self.id
            return False
        for column in self._sql_columns():
            if row[column] is None:
                self.db_null(column)
            else:
                self.db_set(column, row[column])
        return True

    def db_save(self) -> bool:
        """Write the object's defined columns to its row (made if needed); False (nothing written)
        while a `_required` column is undefined."""
        if not self.ready():
            return False
        values = self._values()
        table = self._sql_table()
        try:
            self._write(table, values)
        except sa.exc.IntegrityError:
            if not self._uid:
                raise
            self._write(table, values)  # another writer inserted the same _uid first: update that row
        return True

    def _write(self, table: sa.Table, values: dict[str, Any]) -> None:
        with _engine().begin() as connection:
            if self._uid:
                found = connection.execute(sa.select(table.c.id).where(table.c[self._uid] == values[self._uid])).first()
                if found is not None:
                    self.id = int(found[0])
            if "id" in self.__dict__:
                done = connection.execute(sa.update(table).where(table.c.id == self.id).values(**values))
                if done.rowcount:
                    return
            made = connection.execute(sa.insert(table).values(**values))
            self.id = int(made.inserted_primary_key[0])

    def db_delete(self) -> bool:
        """Delete the object's row (and its relationships); the object forgets its id."""
        if "id" not in self.__dict__:
            return False
        table = self._sql_table()
        with _engine().begin() as connection:
            gone = connection.execute(sa.delete(table).where(table.c.id == self.id)).rowcount
        del self.id
        return bool(gone)

    # ------------------------------------------------------------------ relationships
    def _link(self, child: SQLObject) -> tuple[sa.Table, int, int]:
        for end in (self, child):
            if "id" not in end.__dict__ and not end.db_save():
                raise ValueError(f"SQLObject {end.instanceName} has no row yet (a required column is undefined); "
                                 "define it before relating it")
        return _link_table(_engine(), _checked_name("table", self._table), _checked_name("table", child._table)), \
            int(self.id), int(child.id)

    def db_add_child(self, child: SQLObject) -> None:
        """Relate `child` to this object (once: adding it again changes nothing)."""
        table, parent_id, child_id = self._link(child)
        with _engine().begin() as connection:
            exists = connection.execute(sa.select(table.c.child_id).where(
                table.c.parent_id == parent_id, table.c.child_id == child_id)).first()
            if exists is None:
                connection.execute(sa.insert(table).values(parent_id=parent_id, child_id=child_id))

    def db_remove_child(self, child: SQLObject) -> None:
        table, parent_id, child_id = self._link(child)
        with _engine().begin() as connection:
            connection.execute(sa.delete(table).where(table.c.parent_id == parent_id, table.c.child_id == child_id))

    def db_has_child(self, child: SQLObject) -> bool:
        table, parent_id, child_id = self._link(child)
        with _engine().connect() as connection:
            return connection.execute(sa.select(table.c.child_id).where(
                table.c.parent_id == parent_id, table.c.child_id == child_id)).first() is not None

    def db_child_ids(self, child_table: str) -> list[int]:
        """The ids of the rows of `child_table` related to this object, ascending."""
        if "id" not in self.__dict__:
            return []
        table = _link_table(_engine(), _checked_name("table", self._table), _checked_name("table", child_table))
        with _engine().connect() as connection:
            rows = connection.execute(sa.select(table.c.child_id).where(table.c.parent_id == self.id)
                                      .order_by(table.c.child_id)).all()
        return [int(row[0]) for row in rows]
