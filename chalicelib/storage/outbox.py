"""Records of outbound e-mail and SMS: one per message a turn sent, in its session's partition.

A send item (``sk = send#<key>``) is written by the commit of the turn that asked
for the message, with the condition that no item has its key yet. Its key is the
idempotency key: the turn's id and the message's place in the turn (a background
task's turn id is the task's id, so a re-run derives the same keys). Once SES or
SNS accepted the message, the item records ``sent`` (and the provider's message
id); a send that kept failing records ``failed`` and why. Only the kind, the
number of recipients and the state are stored: nothing the user typed.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

Item = dict[str, Any]
SEND_PREFIX = "send#"


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


def _pk(session_id: str) -> dict[str, str]:
    return {"S": "session#" + session_id}


def send_to_item(record: SendRecord) -> Item:
    item: Item = {
        "pk": _pk(record.session_id), "sk": {"S": SEND_PREFIX + record.key}, "send_kind": {"S": record.kind},
        "recipients": {"N": str(record.recipients)}, "status": {"S": record.status},
        "created": {"N": repr(record.created)}, "sent": {"N": repr(record.sent)},
    }
    for name, value in (("provider_id", record.provider_id), ("reason", record.reason)):
        if value:
            item[name] = {"S": value}
    if record.expires_at:
        item["expires_at"] = {"N": str(int(record.expires_at))}
    return item


def send_from_item(item: Item) -> SendRecord:
    def text(name: str) -> str:
        return str(item[name]["S"]) if name in item else ""

    return SendRecord(
        session_id=item["pk"]["S"].removeprefix("session#"), key=item["sk"]["S"].removeprefix(SEND_PREFIX),
        kind=text("send_kind"), recipients=int(item["recipients"]["N"]), status=text("status"),
        created=float(item["created"]["N"]), sent=float(item["sent"]["N"]), provider_id=text("provider_id"),
        reason=text("reason"), expires_at=float(item["expires_at"]["N"]) if "expires_at" in item else 0.0,
    )


def new_send_put(table: str, record: SendRecord) -> Item:
    """The transaction's Put of a new send record: only if no record has its key (exactly once)."""
    return {"Put": {"TableName": table, "Item": send_to_item(record),
                    "ConditionExpression": "attribute_not_exists(pk)"}}
