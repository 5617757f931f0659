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
   recorded ``failed`` with the reason, and logged. Either way the record's sealed
   copy of the message is removed.
3. Nothing is lost silently. The record keeps the message, sealed under the
   server's `outbox` sub-key, while it is pending, and the committing process holds
   it for SEND_SWEEP_AFTER_SECONDS (its `due` time). If that process died before
   the send was recorded, the sweep (`sweep`, run with the hourly scheduled pass)
   finds the record through the sparse ``by_send`` index, takes it with a
   conditional update (one taker wins; it holds it for the same time again) and
   sends it. A send the sweep could not make is tried again by later sweeps, and
   after SWEEP_ATTEMPTS it is ``failed``, logged, and told in its task's reason
   when a background task sent it. The one case that sends twice: a process that
   died after SES/SNS accepted the message but before it recorded that (no
   provider takes an idempotency key).
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
from chalicelib.storage.errors import StorageError, TamperedDataError
from chalicelib.storage.outbox import SendRecord, SendStatus
from chalicelib.storage.tasks import TaskWrite

if TYPE_CHECKING:
    from chalicelib.runtime.services import Services
    from chalicelib.settings import Settings

log = logging.getLogger(__name__)

_DAY_SECONDS = 86400
SWEEP_ATTEMPTS = 5  # sweeps that try a send before it is recorded failed
TASK_SEND_PREFIX = "task-"  # the turn id of a background task's messages: "task-<task id>"


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
        due = now + self.services.settings.send_sweep_after_seconds
        outgoing = []
        for index, message in enumerate(messages):
            key = f"{turn_id}-{index}"
            payload = self.services.sealer.seal_send(_payload(message), session_id, key)
            outgoing.append(Outgoing(SendRecord(session_id, key, message.kind.value, len(message.recipients),
                                                SendStatus.PENDING, now, expires_at=expires, payload=payload,
                                                due=due), message))
        return outgoing

    def deliver(self, outgoing: Sequence[Outgoing]) -> list[SendRecord]:
        """Send the committed messages, each once, and record how it went; the records as they end."""
        return [self._deliver_one(item) for item in outgoing]

    def _deliver_one(self, item: Outgoing) -> SendRecord:
        reason, provider_id, _ = self._try(item)
        return self._record(item.record, reason, provider_id)

    def _try(self, item: Outgoing) -> tuple[str, str, bool]:
        """Send, retrying a fault that may pass: (why it failed, the provider's id, refused for good)."""
        record, message = item.record, item.message
        reason, provider_id = "", ""
        for attempt in range(SEND_ATTEMPTS):
            try:
                provider_id = self._send(message)
                break
            except SendRejectedError as err:
                return str(err), "", True
            except SendError as err:
                reason = f"{err} (after {attempt + 1} of {SEND_ATTEMPTS} tries)"
                if attempt + 1 < SEND_ATTEMPTS:
                    log.warning("sending %s %s of session %s failed (try %d of %d), retrying: %s", record.kind,
                                record.key, record.session_id, attempt + 1, SEND_ATTEMPTS, err)
                    self.clock.sleep(SEND_BACKOFF.pause(attempt, self.jitter))
        return reason, provider_id, False

    def _record(self, record: SendRecord, reason: str, provider_id: str) -> SendRecord:
        """Record a send as sent or failed (its payload goes), if its attempt still holds it."""
        if provider_id:
            done = dataclasses.replace(record, status=SendStatus.SENT, sent=time.time(), provider_id=provider_id)
        else:
            done = dataclasses.replace(record, status=SendStatus.FAILED, reason=reason[:500])
            log.error("could not send %s %s of session %s: %s", record.kind, record.key, record.session_id, reason)
        try:
            if not self.services.store.update_send(done):
                log.warning("send %s of session %s was no longer pending, or was taken by the sweep, when it "
                            "was recorded", record.key, record.session_id)
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

    # ------------------------------------------------------------------ the sweep
    def sweep(self, now: float | None = None) -> int:
        """Send the pending messages whose process died before it recorded them (those past their
        `due` time), each once; how many were sent. Run with the hourly scheduled pass."""
        now = time.time() if now is None else now
        until = now + self.services.settings.send_sweep_after_seconds
        sent = 0
        for ref in list(self.services.store.due_sends(now)):
            try:
                record = self.services.store.claim_send(ref, now, until)
            except StorageError:
                log.exception("send sweep: could not take send %s of session %s", ref.key, ref.session_id)
                continue
            if record is not None and self._sweep_one(record) == SendStatus.SENT:
                sent += 1
        log.info("send sweep: %d pending message(s) sent", sent)
        return sent

    def _sweep_one(self, record: SendRecord) -> str:
        """One taken send: its message opened and sent; after SWEEP_ATTEMPTS failed sweeps, or when
        refused for good, it is recorded failed. The status it is left in."""
        log.warning("send sweep: %s %s of session %s was still pending (sweep attempt %d of %d); sending it",
                    record.kind, record.key, record.session_id, record.attempts, SWEEP_ATTEMPTS)
        try:
            message = _message(record, self.services.sealer.open_send(record.payload, record.session_id,
                                                                      record.key))
        except (TamperedDataError, KeyError, TypeError, ValueError) as err:
            done = self._record(record, f"its stored copy could not be opened: {err}", "")
            self._tell_task(done)
            return done.status
        reason, provider_id, final = self._try(Outgoing(record, message))
        if not provider_id and not final and record.attempts < SWEEP_ATTEMPTS:
            log.warning("send sweep: %s %s of session %s not sent, the next sweep tries again: %s", record.kind,
                        record.key, record.session_id, reason)
            return SendStatus.PENDING  # it stays taken until `due`: a later sweep takes it again
        done = self._record(record, reason + (f" (sweep attempt {record.attempts})" if reason else ""), provider_id)
        self._tell_task(done)
        return done.status

    def _tell_task(self, done: SendRecord) -> None:
        """A failed send of a background task is told in the task's reason, where its status shows."""
        if done.status != SendStatus.FAILED or not done.key.startswith(TASK_SEND_PREFIX):
            return
        task_id = done.key.removeprefix(TASK_SEND_PREFIX).rsplit("-", 1)[0]
        try:
            task = self.services.store.load_task(done.session_id, task_id)
            if task is None:
                return
            note = f"{done.kind} {done.key} not sent: {done.reason}"
            told = dataclasses.replace(task, reason=(f"{task.reason}; {note}" if task.reason else note)[:1000])
            self.services.store.write_tasks([TaskWrite(told, task.status, task.attempts)])
        except StorageError:
            log.exception("could not record on task %s that its message %s was not sent", task_id, done.key)


def _payload(message: OutboundMessage) -> dict[str, object]:
    """What the sweep needs to send a message again, as plain data (sealed by the caller)."""
    return {"kind": message.kind.value, "recipients": list(message.recipients), "sender": message.sender,
            "raw": message.raw, "text": message.text}


def _message(record: SendRecord, payload: dict[str, object]) -> OutboundMessage:
    recipients = payload["recipients"]
    raw, text, sender = payload["raw"], payload["text"], payload["sender"]
    if not isinstance(recipients, list) or not isinstance(raw, bytes) or not isinstance(text, str) \
            or not isinstance(sender, str):
        raise ValueError("the payload's fields are not of their types")
    return OutboundMessage(MessageKind(str(payload["kind"])), tuple(str(r) for r in recipients), sender, raw, text)
