"""DynamoDB items of variable snapshots (storage.snapshots).

- a snapshot (its sealed JSON, kind, `persistent`, `modified`): pk `snapshot#<interview>`,
  sk `<session>#<tag>`;
- the pointer of a snapshot that is not persistent (the snapshot is deleted through it):
  pk `session#<id>`, sk `snapref#["<interview>","<tag>"]`.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from chalicelib.storage.records import BlobKind, Sealed
from chalicelib.storage.snapshots import (
    SnapshotPage,
    SnapshotRecord,
    pointer_sk,
    snapshot_pk,
    snapshot_sk,
)

Item = dict[str, Any]


def snapshot_actions(table: str, session_pk: str, record: SnapshotRecord) -> list[Item]:
    """The transaction's actions that store `record`: the snapshot, and its pointer in the session
    (written when it is not persistent, removed when it now is)."""
    item: Item = {
        "pk": {"S": snapshot_pk(record.interview)},
        "sk": {"S": snapshot_sk(record.session_id, record.tag)},
        "session": {"S": record.session_id},
        "tag": {"S": record.tag},
        "blob": {"B": record.sealed.blob},
        "persistent": {"BOOL": record.persistent},
        "modified": {"N": str(Decimal(str(record.modified)))},
    }
    if record.sealed.kind is not None:
        item["kind"] = {"S": record.sealed.kind.value}
    pointer = {"pk": {"S": session_pk}, "sk": {"S": pointer_sk(record.interview, record.tag)}}
    if record.persistent:
        return [{"Put": {"TableName": table, "Item": item}}, {"Delete": {"TableName": table, "Key": pointer}}]
    return [{"Put": {"TableName": table, "Item": item}}, {"Put": {"TableName": table, "Item": pointer}}]


def snapshot_from_item(interview: str, item: Item) -> SnapshotRecord:
    kind = BlobKind.parse(item["kind"]["S"]) if "kind" in item else None
    return SnapshotRecord(interview, item["session"]["S"], item["tag"]["S"], Sealed(bytes(item["blob"]["B"]), kind),
                          bool(item["persistent"]["BOOL"]), float(item["modified"]["N"]))


def snapshot_query(interview: str, session_id: str, tag: str | None, start: str) -> Item:
    """The Query parameters of `list_snapshots` (without its limit)."""
    values: Item = {":pk": {"S": snapshot_pk(interview)}}
    condition = "pk = :pk"
    params: Item = {"ConsistentRead": True}
    if session_id and tag is not None:
        condition += " AND sk = :sk"
        values[":sk"] = {"S": snapshot_sk(session_id, tag)}
    elif session_id:
        condition += " AND begins_with(sk, :prefix)"
        values[":prefix"] = {"S": snapshot_sk(session_id, "")}
    elif tag is not None:
        params["FilterExpression"] = "#tag = :tag"
        params["ExpressionAttributeNames"] = {"#tag": "tag"}
        values[":tag"] = {"S": tag}
    if start:
        params["ExclusiveStartKey"] = {"pk": values[":pk"], "sk": {"S": start}}
    return {**params, "KeyConditionExpression": condition, "ExpressionAttributeValues": values}


def page_of(interview: str, items: Iterator[Item], limit: int) -> SnapshotPage:
    """The first `limit` items as snapshots, with the token of the next page if there may be one."""
    found: list[SnapshotRecord] = []
    last = ""
    for item in items:
        if len(found) == limit:
            return SnapshotPage(found, last)
        found.append(snapshot_from_item(interview, item))
        last = item["sk"]["S"]
    return SnapshotPage(found)
