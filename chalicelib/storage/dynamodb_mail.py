"""DynamoDB items of inbound mail (storage.mail): addresses and received mails.

| item | `pk` | `sk` |
|---|---|---|
| address, by short code (the mail handler's one GetItem) | `mailaddr#<short>` | `mailaddr` |
| its copy in the session (get_emails; deleted with it) | `session#<id>` | `mailaddr#<created>#<short>` |
| a mail received | `session#<id>` | `mail#<mail id>` |
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from chalicelib.storage.mail import MailAddress, MailRecord
from chalicelib.storage.records import BlobKind

Item = dict[str, Any]

ADDRESS_SK = "mailaddr"
ADDRESS_COPY_PREFIX = "mailaddr#"  # in the session's partition
MAIL_PREFIX = "mail#"


def address_pk(short: str) -> str:
    return f"mailaddr#{short}"


def address_copy_sk(address: MailAddress) -> str:
    return f"{ADDRESS_COPY_PREFIX}{int(address.created * 1e6):020d}#{address.short}"


def short_of_copy(sk: str) -> str:
    return sk.rsplit("#", 1)[-1]


def _optional(name: str, value: str | None) -> Item:
    return {name: {"S": value}} if value is not None else {}


def address_fields(address: MailAddress) -> Item:
    return {
        "short": {"S": address.short}, "session_id": {"S": address.session_id},
        "interview_name": {"S": address.interview}, "created": {"N": str(Decimal(str(address.created)))},
        "user": {"S": address.user}, **_optional("mail_key", address.key), **_optional("mail_index", address.index),
    }


def address_puts(table: str, session_pk: str, address: MailAddress) -> list[Item]:
    """The two Puts of a new address: by short code (only if free), and its copy in the session."""
    fields = address_fields(address)
    wrapped: Item = {"key_wrap": {"B": address.key_wrap}} if address.key_wrap else {}
    return [
        {"Put": {"TableName": table, "Item": {"pk": {"S": address_pk(address.short)}, "sk": {"S": ADDRESS_SK},
                                               **fields, **wrapped},
                 "ConditionExpression": "attribute_not_exists(pk)"}},
        {"Put": {"TableName": table, "Item": {"pk": {"S": session_pk}, "sk": {"S": address_copy_sk(address)},
                                               **fields}}},
    ]


def address_from_item(item: Item) -> MailAddress:
    def text(name: str) -> str | None:
        return str(item[name]["S"]) if name in item else None

    return MailAddress(short=item["short"]["S"], session_id=item["session_id"]["S"],
                       interview=item["interview_name"]["S"], created=float(item["created"]["N"]),
                       key=text("mail_key"), index=text("mail_index"), user=text("user") or "",
                       key_wrap=bytes(item["key_wrap"]["B"]) if "key_wrap" in item else b"")


def mail_to_item(session_pk: str, mail: MailRecord) -> Item:
    item: Item = {"pk": {"S": session_pk}, "sk": {"S": MAIL_PREFIX + mail.mail_id}, "short": {"S": mail.short},
                  "received": {"N": str(Decimal(str(mail.received)))}, "blob": {"B": mail.blob}}
    if mail.kind:
        item["kind"] = {"S": mail.kind.value}
    return item


def mail_from_item(session_id: str, item: Item) -> MailRecord:
    return MailRecord(session_id, item["short"]["S"], item["sk"]["S"].removeprefix(MAIL_PREFIX),
                      float(item["received"]["N"]), bytes(item["blob"]["B"]),
                      BlobKind.parse(item.get("kind", {}).get("S")))
