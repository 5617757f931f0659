"""Records of outbound e-mail and SMS: one per message a turn sent, in its session's partition.

A send item (``sk = send#<key>``) is written by the commit of the turn that asked
for the message, with the condition that no item has its key yet. Its key is the
idempotency key: the turn's id and the message's place in the turn (a background
task's turn id is the task's id, so a re-run derives the same keys).

While it is ``pending`` the item also holds what is needed to send it again: the
message (MIME or SMS text, with its recipients) sealed under the server's `outbox`
sub-key (`payload`, with `payload_seal` naming that seal), and the two attributes of
the sparse ``by_send`` index: `send_shard` and `send_due`, the time after which the
sweep may take it (runtime.messaging). The process that committed it holds it until
then. Once SES or SNS accepted the message, the item records ``sent`` (and the
provider's message id); a send that kept failing records ``failed`` and why. Either
way the payload and the index attributes go: a finished send keeps only its kind,
number of recipients, state and attempts -- nothing the user typed.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass
from typing import Any

Item = dict[str, Any]
SEND_PREFIX = "send#"
SEND_SHARDS = 16  # partitions of by_send: a sweep reads each
PAYLOAD_SEAL = "outbox-aesgcm"  # the one seal a payload may have: AES-GCM under the `outbox` sub-key


class SendStatus(enum.StrEnum):
    PENDING = "pending"  # committed; not yet accepted by SES/SNS
    SENT = "sent"
    FAILED = "failed"  # SES/SNS refused it, or kept failing through every retry


@dataclass(frozen=True)
class SendRecord:
    session_id: str
    key: str  # the idempotency key: "<turn id>-<index of the message in the turn>"
    kind: str  # "email" or "sms"
    recipients: int
    status: str  # a SendStatus
    created: float
    sent: float = 0.0
    provider_id: str = ""  # SES MessageId / SNS MessageId
    reason: str = ""  # why it failed, without the message's content
    expires_at: float = 0.0
    payload: bytes = b""  # while pending: the message, sealed (PAYLOAD_SEAL); never stored once finished
    due: float = 0.0  # while pending: when the sweep may take it (the holder's claim runs out)
    attempts: int = 0  # claims taken by the sweep; the commit's own send is attempt 0


@dataclass(frozen=True)
class SendRef:
    """A pending send the sweep may take: where its item is."""

    session_id: str
    key: str


def send_shard(session_id: str, key: str) -> str:
    digest = hashlib.blake2b(f"{session_id}/{key}".encode(), digest_size=4).digest()
    return str(int.from_bytes(digest, "big") % SEND_SHARDS)


def _pk(session_id: str) -> dict[str, str]:
    return {"S": "session#" + session_id}


def send_to_item(record: SendRecord) -> Item:
    item: Item = {
        "pk": _pk(record.session_id), "sk": {"S": SEND_PREFIX + record.key}, "send_kind": {"S": record.kind},
        "recipients": {"N": str(record.recipients)}, "status": {"S": record.status},
        "created": {"N": repr(record.created)}, "sent": {"N": repr(record.sent)},
        "attempts": {"N": str(record.attempts)},
    }
    for name, value in (("provider_id", record.provider_id), ("reason", record.reason)):
        if value:
            item[name] = {"S": value}
    if record.expires_at:
        item["expires_at"] = {"N": str(int(record.expires_at))}
    if record.status == SendStatus.PENDING and record.payload:
        item.update({"payload": {"B": record.payload}, "payload_seal": {"S": PAYLOAD_SEAL},
                     "send_shard": {"S": send_shard(record.session_id, record.key)},
                     "send_due": {"N": repr(record.due)}})
    return item


def send_from_item(item: Item) -> SendRecord:
    def text(name: str) -> str:
        return str(item[name]["S"]) if name in item else ""

    def number(name: str) -> float:
        return float(item[name]["N"]) if name in item else 0.0

    sealed = "payload" in item and text("payload_seal") == PAYLOAD_SEAL  # a payload of another seal is not read
    return SendRecord(
        session_id=item["pk"]["S"].removeprefix("session#"), key=item["sk"]["S"].removeprefix(SEND_PREFIX),
        kind=text("send_kind"), recipients=int(item["recipients"]["N"]), status=text("status"),
        created=number("created"), sent=number("sent"), provider_id=text("provider_id"),
        reason=text("reason"), expires_at=number("expires_at"),
        payload=bytes(item["payload"]["B"]) if sealed else b"", due=number("send_due"),
        attempts=int(number("attempts")),
    )


def new_send_put(table: str, record: SendRecord) -> Item:
    """The transaction's Put of a new send record: only if no record has its key (exactly once)."""
    return {"Put": {"TableName": table, "Item": send_to_item(record),
                    "ConditionExpression": "attribute_not_exists(pk)"}}
