"""What the engine knows of outbound e-mail and SMS: the messages a turn asked to send.

`send_email()` and `send_sms()` (library.messaging) put an `OutboundMessage` in the
evaluation's `messages`, as `background_action()` puts a NewTask in its outbox. The
runtime records each one in the turn's commit, under an idempotency key (the turn's
id and the message's place in the turn), and sends it only after that commit
(runtime.messaging), so a retried turn or a re-run task never sends it twice.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class MessageKind(enum.StrEnum):
    EMAIL = "email"
    SMS = "sms"


@dataclass(frozen=True)
class OutboundMessage:
    """One e-mail (`raw`: the whole MIME message) or SMS (`text`) to send after the turn commits."""

    kind: MessageKind
    recipients: tuple[str, ...]  # e-mail addresses (to, cc and bcc) or E.164 numbers
    sender: str = ""  # the envelope sender of an e-mail
    raw: bytes = b""  # e-mail: the MIME message, headers and all
    text: str = ""  # SMS: the text


@dataclass(frozen=True)
class MessagingDefaults:
    """What the settings give send_email/send_sms: DEFAULT_SENDER and DEFAULT_COUNTRY."""

    sender: str = "noreply@mail.localhost"
    country: str = "US"
