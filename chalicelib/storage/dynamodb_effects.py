"""The DynamoDB side of the effect sweep (storage.effects): the sparse ``by_effect`` index and claims.

Only a pending effect item carries ``effect_shard`` and ``effect_due``, the keys of the
sparse index ``by_effect``, so the hourly sweep reads exactly the effects whose
holder's time ran out (``effect_due`` before now), in EFFECT_SHARDS queries, and never
a session or a finished effect.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from chalicelib.storage.effects import EFFECT_PREFIX, EFFECT_SHARDS, EffectRecord, EffectRef, EffectStatus

Item = dict[str, Any]
INDEX_BY_EFFECT = "by_effect"


def due_queries(now: float) -> Iterator[tuple[int, Item]]:
    """The by_effect query of each shard: its pending effects due before `now` (keys only)."""
    for shard in range(EFFECT_SHARDS):
        yield shard, {
            "IndexName": INDEX_BY_EFFECT,
            "KeyConditionExpression": "#s = :s AND #d < :now",
            "ExpressionAttributeNames": {"#s": "effect_shard", "#d": "effect_due"},
            "ExpressionAttributeValues": {":s": {"S": str(shard)}, ":now": {"N": repr(now)}},
        }


def ref_of(item: Item) -> EffectRef:
    return EffectRef(item["pk"]["S"].removeprefix("session#"), item["sk"]["S"].removeprefix(EFFECT_PREFIX))


def claim_update(table: str, ref: EffectRef, now: float, until: float) -> Item:
    """The UpdateItem that takes a due pending effect: one taker wins, and holds it until `until`.
    An effect written without a due time (before the sweep existed) is due at once."""
    return {
        "TableName": table,
        "Key": {"pk": {"S": "session#" + ref.session_id}, "sk": {"S": EFFECT_PREFIX + ref.key}},
        "UpdateExpression": "SET #d = :until, #a = if_not_exists(#a, :zero) + :one",
        "ConditionExpression": "#st = :pending AND (#d < :now OR attribute_not_exists(#d))",
        "ExpressionAttributeNames": {"#d": "effect_due", "#a": "attempts", "#st": "status"},
        "ExpressionAttributeValues": {":until": {"N": repr(until)}, ":one": {"N": "1"}, ":zero": {"N": "0"},
                                      ":now": {"N": repr(now)}, ":pending": {"S": EffectStatus.PENDING.value}},
        "ReturnValues": "ALL_NEW",
    }


def finish_condition(record: EffectRecord) -> Item:
    """The condition of the Put that records how an effect ended: still pending, and still held by
    the attempt that applied it (a sweep that took it over meanwhile has a higher attempt number)."""
    held = "#a = :attempts" if record.attempts else "(#a = :attempts OR attribute_not_exists(#a))"
    return {
        "ConditionExpression": f"#s = :pending AND {held}",
        "ExpressionAttributeNames": {"#s": "status", "#a": "attempts"},
        "ExpressionAttributeValues": {":pending": {"S": EffectStatus.PENDING.value},
                                      ":attempts": {"N": str(record.attempts)}},
    }
