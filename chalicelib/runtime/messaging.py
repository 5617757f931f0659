"""Outbound e-mail and SMS, exactly once: recorded with the turn's commit, sent after it.

1. `send_email()`/`send_sms()` put an `OutboundMessage` in the turn's messages
   (library.messaging). The turn's commit writes one send record per message
   (storage.outbox, ``pending``), keyed by the turn's id and the message's place
   in the turn, with the condition that the key is new. A turn's id is the
   session's version it read (a retried turn reads a new version; its failed
   attempts wrote nothing), or a background task's id (a re-run task derives the
   same keys, and its finishing write is conditional).
2. Only after the commit is each message sent (SES SendRawEmail, SNS Publish),
   and its record then says ``sent``; a record that is no longer pending is never
   sent again. A fault that may pass is retried (runtime.retry's SEND_BACKOFF, for
   SEND_ATTEMPTS tries); a message refused for good, or one that kept failing, is
   recorded ``failed`` with the reason, and logged.
"""

from __future__ import annotations

import dataclasses
import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from chalicelib.engine.messages import MessageKind, MessagingDefaults, OutboundMessage
from chalicelib.runtime.clock import Clock, SystemClock
from chalicelib.runtime.errors import SendError, SendRejectedError
from chalicelib.runtime.retry import SEND_ATTEMPTS, SEND_BACKOFF, Jitter
from chalicelib.storage.errors import StorageError
from chalicelib.storage.outbox import SendRecord, SendStatus

if TYPE_CHECKING:
    from chalicelib.runtime.services import Services
    from chalicelib.settings import Settings

log = logging.getLogger(__name__)

_DAY_SECONDS = 86400


def defaults(settings: Settings) -> MessagingDefaults:
    """What send_email()/send_sms() take from the settings."""
    return MessagingDefaults(sender=settings.default_sender, country=settings.default_country)


@dataclass(frozen=True)
class Outgoing:
    """A message of a committed turn and its send record."""

    record: SendRecord
    message: OutboundMessage


class MessageService:
    def __init__(self, services: Services, clock: Clock | None = None, jitter: Jitter | None = None) -> None:
        self.services = services
        self.clock: Clock = clock or SystemClock()
        self.jitter: Jitter = jitter or random.random

    def prepare(self, session_id: str, turn_id: str, messages: Sequence[OutboundMessage]) -> list[Outgoing]:
        """The send records of a turn's messages, to write with its commit; an SMS to several
        numbers is one send per number."""
        messages = [one for message in messages for one in (
            [dataclasses.replace(message, recipients=(n,)) for n in message.recipients]
            if message.kind is MessageKind.SMS else [message])]
        now = time.time()
        expires = now + self.services.settings.task_record_days * _DAY_SECONDS
        return [Outgoing(SendRecord(session_id, f"{turn_id}-{index}", message.kind.value, len(message.recipients),
                                    SendStatus.PENDING, now, expires_at=expires), message)
                for index, message in enumerate(messages)]

    def deliver(self, outgoing: Sequence[Outgoing]) -> list[SendRecord]:
        """Send the committed messages, each once, and record how it went; the records as they end."""
        return [self._deliver_one(item) for item in outgoing]

    def _deliver_one(self, item: Outgoing) -> SendRecord:
        record, message = item.record, item.message
        reason, provider_id = "", ""
        for attempt in range(SEND_ATTEMPTS):
            try:
                provider_id = self._send(message)
                break
            except SendRejectedError as err:
                reason = str(err)
                break
            except SendError as err:
                reason = f"{err} (after {attempt + 1} of {SEND_ATTEMPTS} tries)"
                if attempt + 1 < SEND_ATTEMPTS:
                    log.warning("sending %s %s of session %s failed (try %d of %d), retrying: %s", record.kind,
                                record.key, record.session_id, attempt + 1, SEND_ATTEMPTS, err)
                    self.clock.sleep(SEND_BACKOFF.pause(attempt, self.jitter))
        if provider_id:
            done = dataclasses.replace(record, status=SendStatus.SENT, sent=time.time(), provider_id=provider_id)
        else:
            done = dataclasses.replace(record, status=SendStatus.FAILED, reason=reason[:500])
            log.error("could not send %s %s of session %s: %s", record.kind, record.key, record.session_id, reason)
        try:
            if not self.services.store.update_send(done):
                log.warning("send %s of session %s was no longer pending when it was recorded", record.key,
                            record.session_id)
        except StorageError:
            log.exception("%s %s of session %s was %s, but that could not be recorded", record.kind, record.key,
                          record.session_id, done.status)
        return done

    def _send(self, message: OutboundMessage) -> str:
        messenger = self.services.messenger
        if message.kind is MessageKind.EMAIL:
            return messenger.send_email(message.sender, message.recipients, message.raw)
        ids = [messenger.send_sms(number, message.text) for number in message.recipients]
        return ",".join(ids)
