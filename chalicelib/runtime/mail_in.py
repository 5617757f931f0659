"""Inbound mail: a raw mail in the mail bucket becomes a mail of the session its address names.

The path (docs/architecture.md, "Inbound mail"): SES's receipt rule (or, locally, the
SMTP server of `make run`) stores the raw mail in the mail bucket, once however many
recipients it has, and its S3 action publishes a notification to the mail topic, which
the mail queue subscribes to. `MailIn.handle` gets each notification; it names the
object and the envelope's recipients (`receipt.recipients`, Bcc included):

1. It reads the raw mail (at most MAIL_MAX_BYTES; a larger one is refused) and parses
   it (runtime.mail_parse: header section at most MAIL_MAX_HEADER_BYTES, attachments
   past MAIL_MAX_ATTACHMENTS dropped). A mail that cannot be read is dropped, logged.
2. The notification's recipients on INCOMING_MAIL_DOMAIN are looked up by short code,
   one GetItem each (the mail's own To and Cc say nothing of who it was delivered for).
   An encrypted session is reached only through an address that holds its key wrapped
   under the server's `mail` sub-key (made with MAIL_ENCRYPTED_SESSIONS on); then the
   mail, its attachments and its task are sealed with that key. An unknown
   or deleted address, or the address of an encrypted session (not `multi_user`),
   without a wrapped key (or with the setting off), gets nothing; the drop is logged.
3. For each session reached: the attachments are stored as sealed files of the session,
   the mail's summary as a mail item (at most MAIL_MAX_PER_SESSION per session), and,
   if the interview defines `incoming_email`, a background task runs that event with
   the mail as a DAEmail in `action_argument('email')`, as the user who obtained the
   address (runtime.worker runs it; only `background_response_action` saves).
4. The raw mail is then deleted from the bucket.

Exactly once: the mail's id, the task's id and the files' names come from the
object's key and the address, and the task record is written only if it is new, so
a redelivered notification stores the same items again and starts no second task.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from chalicelib.engine.documents import safe_filename
from chalicelib.engine.tasks import TaskStatus
from chalicelib.language.errors import InterviewError
from chalicelib.library.mail import DAEmail
from chalicelib.runtime.mail_parse import Limits, MailRejected, ParsedMail, parse_mail
from chalicelib.runtime.mail_port import owner_email
from chalicelib.storage import crypto
from chalicelib.storage.errors import SessionNotFoundError, StorageError, TaskStateError
from chalicelib.storage.mail import MailAddress, MailRecord
from chalicelib.storage.records import SessionHead
from chalicelib.storage.sealing import Place
from chalicelib.storage.tasks import TaskRecord, TaskWrite

if TYPE_CHECKING:
    from chalicelib.runtime.sessions import Sessions

log = logging.getLogger(__name__)

INCOMING_EMAIL_EVENT = "incoming_email"
_SHORT_CODE_MAX = 64
_MAX_RECIPIENTS = 100  # SES takes at most 100 recipients per message
# Mail attachments are files `m<id>a<n>/<filename>` of the session (document ids are hex: no "m")
MAIL_FILE_PREFIX = "m"


@dataclass(frozen=True)
class Delivered:
    """What became of one raw mail: the sessions it reached, and why it reached no other."""

    sessions: tuple[str, ...] = ()
    dropped: tuple[str, ...] = ()


class MailIn:
    def __init__(self, sessions: Sessions) -> None:
        self.sessions = sessions
        self.services = sessions.services
        self.settings = sessions.services.settings
        self.store = sessions.services.store
        self.bucket = sessions.services.mail

    def limits(self) -> Limits:
        s = self.settings
        return Limits(s.mail_max_bytes, s.mail_max_header_bytes, s.mail_max_attachments)

    # ------------------------------------------------------------------ the notification
    def handle(self, body: str) -> None:
        """One queue message: SES's notification of one stored mail (its S3 action's, through the mail
        topic; raw delivery or in SNS's envelope). A fault of storage raises (the message is tried
        again); anything wrong with the message or the mail itself is logged and dropped."""
        notice = receipt_notice(body)
        if isinstance(notice, str):
            log.error("dropped a mail-queue message: %s: %.200s", notice, body)
            return
        bucket, key, recipients = notice
        if bucket != self.bucket.name:
            log.error("dropped a mail notification for bucket %r; the mail bucket is %r", bucket, self.bucket.name)
            return
        self.deliver(key, recipients)

    # ------------------------------------------------------------------ one raw mail
    def deliver(self, object_key: str, recipients: Sequence[str]) -> Delivered:
        """The raw mail under `object_key`, to each of the envelope's `recipients` on our domain (SES's
        `receipt.recipients`: every address it was delivered for, Bcc included, and no other)."""
        raw = self.bucket.read(object_key, self.settings.mail_max_bytes + 1)
        if raw is None:
            log.info("mail %s is gone from the bucket (already delivered); nothing to do", object_key)
            return Delivered()
        try:
            parsed = parse_mail(raw, self.limits())
        except MailRejected as err:
            log.warning("mail %s refused: %s", object_key, err)
            self.bucket.delete(object_key)
            return Delivered(dropped=(str(err),))
        for note in parsed.truncated:
            log.warning("mail %s: %s", object_key, note)
        reached: list[str] = []
        dropped: list[str] = []
        for short in self._shorts(recipients):
            reason = self._deliver_to(object_key, parsed, short)
            if reason is None:
                reached.append(short)
            else:
                dropped.append(reason)
                log.warning("mail %s to %s@%s dropped: %s", object_key, short, self.settings.incoming_mail_domain,
                            reason)
        if not reached and not dropped:
            dropped.append(f"no recipient on {self.settings.incoming_mail_domain}")
            log.warning("mail %s dropped: it names no address on %s", object_key, self.settings.incoming_mail_domain)
        self.bucket.delete(object_key)
        return Delivered(tuple(reached), tuple(dropped))

    def _shorts(self, recipients: Sequence[str]) -> list[str]:
        domain = self.settings.incoming_mail_domain.lower()
        shorts: list[str] = []
        for address in recipients:
            local, _, at = address.strip().lower().rpartition("@")
            if at == domain and local and len(local) <= _SHORT_CODE_MAX and local not in shorts:
                shorts.append(local)
        return shorts

    def _deliver_to(self, object_key: str, parsed: ParsedMail, short: str) -> str | None:
        """Record the mail in the session of `short` and start its event; the reason if it was not."""
        address = self.store.find_address(short)
        if address is None:
            return "no such address"
        try:
            head, _ = self.store.load(address.interview, address.session_id)
        except SessionNotFoundError:
            return f"the session {address.session_id} of the address is gone"
        key = None
        if head.encrypted:
            key, refused = self._session_key(address, head)
            if key is None:
                return refused
        session_id = head.session_id
        mail_id = hashlib.sha256(f"{self.bucket.name}/{object_key}\0{short}".encode()).hexdigest()[:32]
        known = self.store.list_mail(session_id)
        if all(m.mail_id != mail_id for m in known) and len(known) >= self.settings.mail_max_per_session:
            return f"session {session_id} has {len(known)} mails, MAIL_MAX_PER_SESSION"
        summary = self._summary(parsed, address, mail_id, key)
        sealed = self.services.sealer.seal(summary, Place.mail(session_id, mail_id), key)
        self.store.put_mail(MailRecord(session_id, short, mail_id, time.time(), sealed.blob, sealed.kind))
        if self._defines_event(address.interview):
            self._start_event(address, mail_id, summary, key)
        log.info("mail %s delivered to session %s (%d attachment(s))", object_key, session_id,
                 len(parsed.attachments))
        return None

    def _session_key(self, address: MailAddress, head: SessionHead) -> tuple[bytes | None, str]:
        """The key of an encrypted session, unwrapped from its address's record (MAIL_ENCRYPTED_SESSIONS);
        else None and why the mail cannot be delivered."""
        session_id = address.session_id
        if not self.settings.mail_encrypted_sessions or not address.key_wrap:
            return None, (f"session {session_id} is encrypted: incoming mail needs multi_user = True in the "
                          f"interview, or MAIL_ENCRYPTED_SESSIONS=1 on the server when the address is made")
        try:
            key = self.services.sealer.unwrap_mail_key(address.key_wrap, session_id, address.short)
        except StorageError as err:
            return None, f"the session key held by the address of session {session_id} does not open: {err}"
        if head.key_check and not crypto.key_check_matches(key, head.key_check):
            return None, f"the session key held by the address no longer opens session {session_id}"
        return key, ""

    def _summary(self, parsed: ParsedMail, address: MailAddress, mail_id: str,
                 key: bytes | None) -> dict[str, Any]:
        session_id = address.session_id
        attachments = []
        for n, attachment in enumerate(parsed.attachments):
            stem, dot, ext = attachment.filename.rpartition(".")
            filename = safe_filename(stem or ext) + (f".{safe_filename(ext)[:10]}" if dot and stem else "")
            name = f"{MAIL_FILE_PREFIX}{mail_id[:20]}a{n}/{filename}"
            self.store.put_file(session_id, name, self.services.sealer.seal(attachment.data,
                                                                            Place.file(session_id, name), key))
            url = (f"/api/session/file?i={quote(address.interview)}&session={session_id}"
                   f"&file={quote(name)}")
            attachments.append({"filename": filename, "mimetype": attachment.mimetype, "size": len(attachment.data),
                                "file": name, "url": url})
        return {
            "short": address.short, "key": address.key, "index": address.index,
            "address_owner": owner_email(address), "to": parsed.to, "cc": parsed.cc, "from": parsed.sender,
            "reply_to": parsed.reply_to, "return_path": parsed.return_path, "subject": parsed.subject,
            "datetime_message": parsed.date,
            "datetime_received": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "body_text": parsed.body_text, "body_html": parsed.body_html, "attachments": attachments,
            "headers": [list(pair) for pair in parsed.headers],
        }

    def _defines_event(self, interview: str) -> bool:
        try:
            return INCOMING_EMAIL_EVENT in self.services.loader.load(interview).definers
        except InterviewError as err:
            log.warning("incoming mail: the interview %s cannot be loaded: %s", interview, err)
            return False

    def _start_event(self, address: MailAddress, mail_id: str, summary: dict[str, Any], key: bytes | None) -> None:
        """Queue the session's incoming_email event as a background task, once per mail."""
        tasks = self.sessions.tasks
        session_id = address.session_id
        task_id = f"mail{mail_id[:28]}"
        try:
            user = json.loads(address.user or "{}")
        except ValueError:
            user = {}
        sealer = self.services.sealer
        payload = sealer.seal({"arguments": {"email": DAEmail.from_summary(summary)}, "user": user},
                              Place.task_payload(session_id, task_id), key)
        wrap = sealer.wrap_key(key, session_id, task_id) if key is not None else b""
        now = time.time()
        record = TaskRecord(session_id, task_id, address.interview, INCOMING_EMAIL_EVENT, TaskStatus.QUEUED, now,
                            payload=payload.blob, key_wrap=wrap, kind=payload.kind,
                            expires_at=tasks.expires(now, finished=False))
        try:
            self.store.write_tasks([TaskWrite(record)])
        except TaskStateError:
            log.info("the incoming_email task of mail %s in session %s exists already; not started again", mail_id,
                     session_id)
            return
        tasks.enqueue([record])


def receipt_notice(body: str) -> tuple[str, str, list[str]] | str:
    """(bucket, object key, recipients) of SES's receipt notification for an S3 action, from a queue
    message's body: the notification itself (the topic's raw delivery) or SNS's envelope around it.
    Anything else: why it is not one."""
    try:
        message = json.loads(body)
        if isinstance(message, dict) and message.get("Type") == "Notification" and "Message" in message:
            message = json.loads(str(message["Message"]))
    except ValueError:
        return "not JSON"
    if not isinstance(message, dict) or message.get("notificationType") != "Received":
        return "not an SES receipt notification"
    receipt = message.get("receipt")
    if not isinstance(receipt, dict) or not isinstance(receipt.get("action"), dict) \
            or receipt["action"].get("type") != "S3":
        return "not the notification of an S3 action"
    action = receipt["action"]
    bucket, key, recipients = action.get("bucketName"), action.get("objectKey"), receipt.get("recipients")
    if not isinstance(bucket, str) or not isinstance(key, str) or not key or not isinstance(recipients, list):
        return "the notification names no stored mail or no recipients"
    return bucket, key, [str(r) for r in recipients if isinstance(r, str)][:_MAX_RECIPIENTS]


def handle_sqs_event(mail_in: MailIn, event: dict[str, Any]) -> dict[str, Any]:
    """A Lambda SQS batch of mail notifications; a message whose storage failed is reported, to come back."""
    failures: list[dict[str, str]] = []
    for record in event.get("Records", []):
        try:
            mail_in.handle(record.get("body", ""))
        except Exception:
            log.exception("mail notification %s failed; it comes back after the visibility timeout",
                          record.get("messageId", ""))
            failures.append({"itemIdentifier": record.get("messageId", "")})
    return {"batchItemFailures": failures}


def refused_reason(mail_in: MailIn, recipient: str) -> str | None:
    """Why the local SMTP server refuses a recipient (None: accepted): another domain, or no such address."""
    local, _, domain = recipient.strip().lower().rpartition("@")
    if domain != mail_in.settings.incoming_mail_domain.lower():
        return f"this server takes mail for @{mail_in.settings.incoming_mail_domain} only"
    address = mail_in.store.find_address(local) if local and len(local) <= _SHORT_CODE_MAX else None
    if address is None:
        return "no such address"
    return None


