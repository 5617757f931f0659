"""Records of changes a turn asked for in other sessions (create_session, set_session_variables,
run_action_in_session): one per call, in the calling session's partition.

An effect item (``sk = effect#<key>``) is written by the commit of the calling turn, with
the condition that no item has its key yet. Its key is the idempotency key: the turn's id
and the call's place in the turn. What the change needs (the values, the action and its
arguments, the target session's key) is one blob sealed under the server's `effects`
sub-key (storage.sealing), kept only while the effect is ``pending``: the write that
records ``applied`` or ``failed`` drops it. So does it drop the two attributes a pending
effect carries for the sparse ``by_effect`` index (storage.dynamodb_effects): `effect_shard`
and `effect_due`, the time after which the hourly sweep may take it (runtime.effects). The
process that committed it holds it until then; a taker adds one to `attempts`, and an
effect is recorded only by the attempt that holds it.

The target session's turn that applies an effect commits a *mark*
(``sk = applied#<caller>:<key>`` in the target's partition) in the same transaction,
only if no mark has that name yet; a second apply of the same effect fails that
condition (AlreadyAppliedError) and changes nothing.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass, field
from typing import Any

Item = dict[str, Any]
EFFECT_PREFIX = "effect#"
MARK_PREFIX = "applied#"
EFFECT_SHARDS = 16  # partitions of by_effect: a sweep reads each


class EffectKind(enum.StrEnum):
    CREATE = "create"  # create_session
    SET = "set"  # set_session_variables
    ACTION = "action"  # run_action_in_session


class EffectStatus(enum.StrEnum):
    PENDING = "pending"  # committed with the calling turn; not yet applied
    APPLIED = "applied"
    FAILED = "failed"  # refused for good, or kept failing through every retry


@dataclass(frozen=True)
class EffectRecord:
    session_id: str  # the calling session
    key: str  # the idempotency key: "<turn id>-<index of the call in the turn>"
    kind: str  # an EffectKind
    target_interview: str
    target_session: str
    status: str  # an EffectStatus
    created: float
    payload: bytes = field(default=b"", repr=False)  # sealed under the `effects` sub-key while pending
    finished: float = 0.0
    reason: str = ""  # why it failed, without the values
    expires_at: float = 0.0
    due: float = 0.0  # while pending: when the sweep may take it (the holder's claim runs out)
    attempts: int = 0  # claims taken by a sweep; the committing process's own apply is attempt 0

    @property
    def mark(self) -> str:
        """The name of the mark the target's applying turn commits."""
        return f"{self.session_id}:{self.key}"


@dataclass(frozen=True)
class EffectRef:
    """A pending effect a sweep may take: where its item is."""

    session_id: str
    key: str


def effect_shard(session_id: str, key: str) -> str:
    digest = hashlib.blake2b(f"{session_id}/{key}".encode(), digest_size=4).digest()
    return str(int.from_bytes(digest, "big") % EFFECT_SHARDS)


def _pk(session_id: str) -> dict[str, str]:
    return {"S": "session#" + session_id}


def effect_to_item(record: EffectRecord) -> Item:
    item: Item = {
        "pk": _pk(record.session_id), "sk": {"S": EFFECT_PREFIX + record.key}, "effect_kind": {"S": record.kind},
        "target_interview": {"S": record.target_interview}, "target_session": {"S": record.target_session},
        "status": {"S": record.status}, "created": {"N": repr(record.created)},
        "finished": {"N": repr(record.finished)}, "attempts": {"N": str(record.attempts)},
    }
    if record.payload:
        item["payload"] = {"B": record.payload}
    if record.status == EffectStatus.PENDING and record.payload and record.due:
        item["effect_shard"] = {"S": effect_shard(record.session_id, record.key)}
        item["effect_due"] = {"N": repr(record.due)}
    if record.reason:
        item["reason"] = {"S": record.reason}
    if record.expires_at:
        item["expires_at"] = {"N": str(int(record.expires_at))}
    return item


def effect_from_item(item: Item) -> EffectRecord:
    def text(name: str) -> str:
        return str(item[name]["S"]) if name in item else ""

    payload = item.get("payload", {}).get("B", b"")
    return EffectRecord(
        session_id=item["pk"]["S"].removeprefix("session#"), key=item["sk"]["S"].removeprefix(EFFECT_PREFIX),
        kind=text("effect_kind"), target_interview=text("target_interview"),
        target_session=text("target_session"), status=text("status"), created=float(item["created"]["N"]),
        payload=bytes(payload),
        finished=float(item["finished"]["N"]), reason=text("reason"),
        expires_at=float(item["expires_at"]["N"]) if "expires_at" in item else 0.0,
        due=float(item["effect_due"]["N"]) if "effect_due" in item else 0.0,
        attempts=int(item["attempts"]["N"]) if "attempts" in item else 0,
    )


def new_effect_put(table: str, record: EffectRecord) -> Item:
    """The transaction's Put of a new effect: only if no effect has its key (recorded once)."""
    return {"Put": {"TableName": table, "Item": effect_to_item(record),
                    "ConditionExpression": "attribute_not_exists(pk)"}}


def mark_put(table: str, session_id: str, mark: str, expires_at: float) -> Item:
    """The transaction's Put of the mark of an applied effect in the target session: only if new."""
    item: Item = {"pk": _pk(session_id), "sk": {"S": MARK_PREFIX + mark}}
    if expires_at:
        item["expires_at"] = {"N": str(int(expires_at))}
    return {"Put": {"TableName": table, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}}
