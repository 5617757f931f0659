"""Two costs of moto's DynamoDB that grow with the whole table, made to grow with one partition.

moto 5.2 answers a table `Query` by sorting every item of the table and comparing
each one's hash key, and a `TransactWriteItems` by deep-copying every table it
touches, once per item in the transaction, to roll back on failure. Both are
fine for a test's handful of items and ruinous for a local stack that has kept
a thousand sessions: a turn then takes ~300 ms instead of ~15 ms (measured on a
2-core machine with 1,000 sessions of four items each).

`partition_scoped()` swaps in, for as long as it is entered:

- **Query** on a table that only looks at the partition asked for, and on an
  index that only looks at the items whose index hash key is the one asked for
  (found in one pass without moto's sort of the whole table); moto's own code
  still does the key conditions, order, limit, filter and projection, so the
  answer is the same.
- **TransactWriteItems** that saves, before moto runs it, a deep copy of each
  partition the transaction names, and on failure puts those partitions back;
  moto's whole-table copies become no-ops for that call. Partitions not named
  cannot change in a transaction, so the rollback restores the same state.

Both rely on moto serving one request at a time (moto_server.MOTO_LOCK), which
the local stack guarantees. They are used only by the local stack and the bench
(`make run`, `make bench`), never by the tests of the app, which run on moto
unchanged. If moto's internals change shape, nothing is patched and a warning
says so: the stack is then slower, not wrong.
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import logging
from collections.abc import Callable, Iterator
from typing import Any

log = logging.getLogger(__name__)

# The parameters of moto's Table.query, in order, up to the index name (moto 5.2).
_QUERY_PARAMETERS = ("self", "hash_key", "range_comparison", "range_objs", "limit", "exclusive_start_key",
                     "scan_index_forward", "projection_expressions", "index_name")
_INDEX_NAME = _QUERY_PARAMETERS.index("index_name") - 2  # its place in *args, after self and hash_key


def _query_in_partition(original: Callable[..., Any]) -> Callable[..., Any]:
    def query(table: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = args[_INDEX_NAME] if len(args) > _INDEX_NAME else kwargs.get("index_name")
        if not table.range_key_attr:
            return original(table, hash_key, *args, **kwargs)
        if index_name is None and hash_key is not None:
            candidates = list(table.items.get(hash_key, {}).values())
        elif index_name is not None and kwargs.get("hash_key_conditions"):
            candidates = _index_partition(table, kwargs["hash_key_conditions"])
        else:
            return original(table, hash_key, *args, **kwargs)
        table.all_items = lambda: candidates  # what moto's query reads its candidates from
        try:
            return original(table, hash_key, *args, **kwargs)
        finally:
            del table.all_items

    return query


def _index_partition(table: Any, conditions: list[tuple[str, Any]]) -> list[Any]:
    """The items whose index hash attributes equal the query's: one pass with cheap comparisons
    (moto compares every item, and sorts them all first); moto still checks each condition."""
    wanted = [(name, value.type, value.value) for name, value in conditions]
    found = []
    for partition in table.items.values():
        for item in partition.values():
            attrs = item.attrs
            if all((a := attrs.get(name)) is not None and a.type == kind and a.value == value
                   for name, kind, value in wanted):
                found.append(item)
    return found


def _partitions_named(backend: Any, transact_items: Any) -> list[tuple[Any, Any]]:
    """(table, hash key) of every partition a transaction names; what cannot be read is left to moto."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    named: list[tuple[Any, Any]] = []
    for entry in transact_items if isinstance(transact_items, list) else ():
        operation = next(iter(entry.values()), None) if isinstance(entry, dict) and entry else None
        if not isinstance(operation, dict):
            continue
        table = backend.tables.get(operation.get("TableName"))
        key = operation.get("Key") or operation.get("Item")
        if table is None or not isinstance(key, dict) or table.hash_key_attr not in key:
            continue
        hash_key = DynamoType(key[table.hash_key_attr])
        if all(hash_key != seen or table is not seen_table for seen_table, seen in named):
            named.append((table, hash_key))
    return named


def _transaction_of_partitions(original: Callable[..., Any]) -> Callable[..., Any]:
    def transact_write_items(backend: Any, transact_items: Any) -> Any:
        named = _partitions_named(backend, transact_items)
        saved = [(table, hash_key, hash_key in table.items, copy.deepcopy(table.items.get(hash_key)))
                 for table, hash_key in named]
        tables = {id(table): table for table in backend.tables.values()}.values()
        for table in tables:
            table.__deepcopy__ = lambda memo, table=table: table  # moto's whole-table backup: the table itself
        try:
            return original(backend, transact_items)
        except BaseException:
            for table, hash_key, existed, partition in saved:
                if existed:
                    table.items[hash_key] = partition
                else:
                    table.items.pop(hash_key, None)
            raise
        finally:
            for table in tables:
                del table.__deepcopy__

    return transact_write_items


def _shapes_known() -> bool:
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    query = tuple(inspect.signature(Table.query).parameters)[:len(_QUERY_PARAMETERS)]
    transact = tuple(inspect.signature(DynamoDBBackend.transact_write_items).parameters)
    return query == _QUERY_PARAMETERS and transact == ("self", "transact_items") and hasattr(Table, "all_items")


@contextlib.contextmanager
def partition_scoped() -> Iterator[bool]:
    """moto's DynamoDB with the two speedups while entered; yields whether they are in place."""
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    if not _shapes_known():
        log.warning("moto's DynamoDB internals are not the ones chalicelib.local.moto_speedups knows "
                    "(moto 5.2): the local stack runs without its speedups, and slows as its table grows")
        yield False
        return
    query, transact = Table.query, DynamoDBBackend.transact_write_items
    Table.query = _query_in_partition(query)  # type: ignore[method-assign]
    DynamoDBBackend.transact_write_items = _transaction_of_partitions(transact)  # type: ignore[method-assign]
    try:
        yield True
    finally:
        Table.query = query  # type: ignore[method-assign]
        DynamoDBBackend.transact_write_items = transact  # type: ignore[method-assign]
