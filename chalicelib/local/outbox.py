"""`GET /local/outbox`: every e-mail and SMS the local stack sent, in CONTRACT §4's shape.

The local stack's messenger is the app's own (SES and SNS on the embedded moto),
wrapped in a `RecordingMessenger` that notes each message once moto accepted it.
The route is added to the app by the local stack only; while no stack runs it
answers 404, so the app deployed to Lambda has no such page.
"""

from __future__ import annotations

import datetime
import email
import threading
from collections.abc import Sequence
from email.message import Message
from email.policy import default as default_policy
from typing import Any

from chalice import Chalice, Response

from chalicelib.runtime.messenger import Messenger

OUTBOX_PATH = "/local/outbox"


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def _part(message: Message, subtype: str) -> str:
    for part in message.walk():
        if part.get_content_type() == f"text/{subtype}" and not part.get_filename():
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                return payload.decode(part.get_content_charset() or "utf-8", "replace")
    return ""


def email_entry(sender: str, recipients: Sequence[str], raw: bytes) -> dict[str, Any]:
    """One e-mail as /local/outbox lists it."""
    message = email.message_from_bytes(raw, policy=default_policy)
    attachments = []
    for part in message.walk():
        if part.get_filename():
            payload = part.get_payload(decode=True)
            attachments.append({"filename": part.get_filename(), "content_type": part.get_content_type(),
                                "size": len(payload) if isinstance(payload, bytes) else 0})
    return {"kind": "email", "to": list(recipients), "from": str(message.get("From", sender)),
            "subject": str(message.get("Subject", "")), "body_text": _part(message, "plain"),
            "body_html": _part(message, "html"), "attachments": attachments, "time": _now()}


class LocalOutbox:
    """The messages sent during this run of the local stack, oldest first."""

    def __init__(self) -> None:
        self._entries: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def add(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._entries)


class RecordingMessenger:
    """Sends through `inner`, then notes the message in `outbox`."""

    def __init__(self, inner: Messenger, outbox: LocalOutbox) -> None:
        self.inner, self.outbox = inner, outbox

    def send_email(self, sender: str, recipients: Sequence[str], raw: bytes) -> str:
        message_id = self.inner.send_email(sender, recipients, raw)
        self.outbox.add(email_entry(sender, recipients, raw))
        return message_id

    def send_sms(self, number: str, text: str) -> str:
        message_id = self.inner.send_sms(number, text)
        self.outbox.add({"kind": "sms", "to": [number], "from": None, "subject": None, "body_text": text,
                         "body_html": None, "attachments": [], "time": _now()})
        return message_id


_active: list[LocalOutbox] = []  # the running local stack's outbox, if any


def activate(outbox: LocalOutbox | None) -> None:
    _active[:] = [outbox] if outbox is not None else []


def install_route(app: Chalice) -> None:
    """Add GET /local/outbox to `app` (once): the running stack's outbox, or 404 without one."""
    if OUTBOX_PATH in app.routes:
        return

    @app.route(OUTBOX_PATH, methods=["GET"])
    def local_outbox() -> Response:
        if not _active:
            return Response({"error": "not found: /local/outbox exists only in the local stack (make run)"},
                            status_code=404)
        return Response(_active[0].entries(), headers={"Content-Type": "application/json",
                                                       "Cache-Control": "no-store"})
