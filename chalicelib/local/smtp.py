"""The local stack's SMTP server (aiosmtpd): inbound mail lands in the mail bucket as SES puts it there.

It accepts mail for `<short code>@INCOMING_MAIL_DOMAIN` addresses that exist, and refuses
at RCPT time any other domain or an unknown (or deleted) address. A mail over
MAIL_MAX_BYTES is refused by the server's size limit, one whose headers are over
MAIL_MAX_HEADER_BYTES at DATA time. Each accepted mail is stored once, as SES's S3
action does: the raw message with a `Return-Path` and a `Received` header added on
top, under a random key; and SES's notification, with the envelope's RCPT TO
recipients (Bcc included), is published to the mail topic (ses_receipt.py). The topic
brings it to the app's mail handler through the mail queue, the same path as on AWS.
"""

from __future__ import annotations

import logging
import socket
import threading
from email.utils import formatdate
from typing import Any

from chalicelib.local.moto_server import in_process_client
from chalicelib.local.resources import DEFAULT_REGION
from chalicelib.local.ses_receipt import SesReceipt
from chalicelib.runtime.mail_in import refused_reason
from chalicelib.runtime.mail_parse import header_section_size
from chalicelib.settings import Settings
from chalicelib.web import context

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
RECEIVED_BY = "smtp.localhost"


class MailHandler:
    """aiosmtpd's handler: checks each recipient, stores each accepted mail in the mail bucket."""

    def __init__(self, settings: Settings, wake: threading.Event | None = None) -> None:
        self.settings = settings
        self.wake = wake
        self._receipt: SesReceipt | None = None  # made on the first mail (the app's services exist by then)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        try:
            reason = refused_reason(context.mail_in(), address)
        except Exception:
            log.exception("checking recipient %s failed", address)
            return "451 4.3.0 cannot check this address now; try again later"
        if reason is not None:
            log.info("smtp: refused recipient %s: %s", address, reason)
            return f"550 5.1.1 <{address}>: {reason}"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        if header_section_size(raw) > self.settings.mail_max_header_bytes:
            log.warning("smtp: refused a mail whose headers are over MAIL_MAX_HEADER_BYTES=%d",
                        self.settings.mail_max_header_bytes)
            return f"552 5.3.4 headers over {self.settings.mail_max_header_bytes} bytes"
        bucket = context.services().mail
        if self._receipt is None or self._receipt.bucket is not bucket:
            self._receipt = SesReceipt(bucket, in_process_client("sns", DEFAULT_REGION))
        receipt = self._receipt
        peer = session.peer[0] if isinstance(session.peer, tuple) else str(session.peer)
        added = (f"Return-Path: <{envelope.mail_from}>\r\n"
                 f"Received: from {session.host_name or 'unknown'} ({peer}) by {RECEIVED_BY} with SMTP; "
                 f"{formatdate(usegmt=True)}\r\n")
        try:
            receipt.receive(added.encode("utf-8") + raw, list(envelope.rcpt_tos), str(envelope.mail_from or ""))
        except Exception:
            log.exception("smtp: storing a mail in the mail bucket failed")
            return "451 4.3.0 could not store the mail; try again later"
        if self.wake is not None:
            self.wake.set()
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


class Smtp:
    """The SMTP server on SMTP_PORT (0: any free port), in its own thread (aiosmtpd's Controller)."""

    listing_order = 30

    def __init__(self, settings: Settings, wake: threading.Event | None = None) -> None:
        self.settings = settings
        self.wake = wake
        self.port = settings.smtp_port
        self._controller: Any = None

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        from chalicelib.local.stack import bind_error

        self.port = self.settings.smtp_port or free_port()
        controller = Controller(MailHandler(self.settings, self.wake), hostname=HOST, port=self.port,
                                data_size_limit=self.settings.mail_max_bytes, ready_timeout=5.0)
        try:
            controller.start()
        except OSError as err:
            raise bind_error(err, self.port, "SMTP_PORT") from err
        self._controller = controller

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def describe(self) -> list[str]:
        if self._controller is None:
            return []
        return [f"smtp: {HOST}:{self.port} (mail to *@{self.settings.incoming_mail_domain})"]
