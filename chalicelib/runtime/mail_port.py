"""The session's inbound mail for a turn (engine.mail.MailPort): its addresses and the mails on each.

Read once per turn, on first use; mails that cannot be opened are left out, with a log line.
A mail of an encrypted session (MAIL_ENCRYPTED_SESSIONS) is opened with the session's key.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from chalicelib.engine.mail import NewAddress, StoredAddress
from chalicelib.storage.base import SessionStore
from chalicelib.storage.errors import StorageError
from chalicelib.storage.mail import MailAddress
from chalicelib.storage.records import BlobKind
from chalicelib.storage.sealing import Place, Sealer

log = logging.getLogger(__name__)


def owner_email(address: MailAddress) -> str | None:
    try:
        user = json.loads(address.user or "{}")
    except ValueError:
        return None
    return (user.get("email") or None) if isinstance(user, dict) else None


class SessionMailPort:
    def __init__(self, store: SessionStore, sealer: Sealer, session_id: str, domain: str,
                 key: bytes | None = None) -> None:
        self.store = store
        self.key = key
        self.sealer = sealer
        self.session_id = session_id
        self.domain = domain
        self._read: list[StoredAddress] | None = None

    def addresses(self) -> Sequence[StoredAddress]:
        if self._read is None:
            self._read = self._load()
        return self._read

    def _load(self) -> list[StoredAddress]:
        addresses = self.store.list_addresses(self.session_id)
        if not addresses:
            return []
        mails: dict[str, list[dict[str, Any]]] = {}
        for mail in self.store.list_mail(self.session_id):
            try:
                summary = self.sealer.open(mail.blob, mail.kind or BlobKind.SIGNED,
                                           Place.mail(self.session_id, mail.mail_id), self.key)
            except StorageError as err:
                log.warning("a mail of session %s could not be opened and is left out: %s", self.session_id, err)
                continue
            if isinstance(summary, dict):
                mails.setdefault(mail.short, []).append(summary)
        return [StoredAddress(a.short, a.key, a.index, owner_email(a), tuple(mails.get(a.short, ())))
                for a in addresses]


def new_records(new: Sequence[NewAddress], session_id: str, interview: str, user: dict[str, Any],
                now: float, sealer: Sealer, wrap_key: bytes | None = None) -> list[MailAddress]:
    """The address records of a turn's new addresses, as its commit writes them; with `wrap_key`
    (an encrypted session's key, MAIL_ENCRYPTED_SESSIONS), each holds it wrapped for the mail handler."""
    return [MailAddress(a.short, session_id, interview, now + n * 1e-6, a.key, a.index, json.dumps(user),
                        key_wrap=sealer.wrap_mail_key(wrap_key, session_id, a.short) if wrap_key else b"")
            for n, a in enumerate(new)]
