"""The DynamoDB side of the send sweep (storage.outbox): the sparse ``by_send`` index and claims.

Only a pending send item carries ``send_shard`` and ``send_due``, the keys of the
sparse index ``by_send``, so the sweep reads exactly the sends whose holder's time
ran out (``send_due`` before now), in SEND_SHARDS queries, and never a session.
A payload over PAYLOAD_ITEM_LIMIT bytes (a mail with large attachments) is kept as
an S3 object under the session's ``steps/<id>/`` prefix, removed with the session,
and the item names it (``payload_s3``) instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from chalicelib.storage.outbox import SEND_PREFIX, SEND_SHARDS, SendRecord, SendRef, SendStatus

Item = dict[str, Any]
INDEX_BY_SEND = "by_send"
PAYLOAD_ITEM_LIMIT = 300_000


def payload_object_key(session_id: str, key: str, unique: str) -> str:
    return f"steps/{session_id}/send-{key}-{unique}"


def spills(record: SendRecord) -> bool:
    """Whether the record's payload goes to S3 rather than into its item."""
    return record.status == SendStatus.PENDING and len(record.payload) > PAYLOAD_ITEM_LIMIT


def due_queries(now: float) -> Iterator[tuple[int, Item]]:
    """The by_send query of each shard: its pending sends due before `now` (keys only)."""
    for shard in range(SEND_SHARDS):
        yield shard, {
            "IndexName": INDEX_BY_SEND,
            "KeyConditionExpression": "#s = :s AND #d < :now",
            "ExpressionAttributeNames": {"#s": "send_shard", "#d": "send_due"},
            "ExpressionAttributeValues": {":s": {"S": str(shard)}, ":now": {"N": repr(now)}},
        }


def ref_of(item: Item) -> SendRef:
    return SendRef(item["pk"]["S"].removeprefix("session#"), item["sk"]["S"].removeprefix(SEND_PREFIX))


def claim_update(table: str, ref: SendRef, now: float, until: float) -> Item:
    """The UpdateItem that takes a due pending send: one taker wins, and holds it until `until`."""
    return {
        "TableName": table,
        "Key": {"pk": {"S": "session#" + ref.session_id}, "sk": {"S": SEND_PREFIX + ref.key}},
        "UpdateExpression": "SET #d = :until, #a = #a + :one",
        "ConditionExpression": "#st = :pending AND #d < :now",
        "ExpressionAttributeNames": {"#d": "send_due", "#a": "attempts", "#st": "status"},
        "ExpressionAttributeValues": {":until": {"N": repr(until)}, ":one": {"N": "1"}, ":now": {"N": repr(now)},
                                      ":pending": {"S": SendStatus.PENDING.value}},
        "ReturnValues": "ALL_NEW",
    }


def finish_condition(record: SendRecord) -> Item:
    """The condition of the Put that records how a send ended: still pending, and still held by the
    attempt that sent it (a sweep that took it over meanwhile has a higher attempt number)."""
    return {
        "ConditionExpression": "#s = :pending AND #a = :attempts",
        "ExpressionAttributeNames": {"#s": "status", "#a": "attempts"},
        "ExpressionAttributeValues": {":pending": {"S": SendStatus.PENDING.value},
                                      ":attempts": {"N": str(record.attempts)}},
    }
