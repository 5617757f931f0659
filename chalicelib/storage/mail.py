"""Records of inbound mail: the addresses sessions handed out, and the mails received on them.

An address (`interview_email()`) is written with the turn that made it, as two items:
one keyed by its short code, so the mail handler finds the session with one GetItem,
and a copy in the session's partition, so listing and deleting the session reach it.
A mail is one item in the session's partition holding its sealed summary (the
attachments are sealed files of the session); its id comes from the stored raw
message, so a redelivered notification writes the same item again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from chalicelib.storage.records import BlobKind


@dataclass(frozen=True)
class MailAddress:
    short: str  # the part before the @
    session_id: str
    interview: str
    created: float
    key: str | None = None
    index: str | None = None
    user: str = ""  # JSON of the user who obtained the address (the incoming_email event runs as them)
    # An encrypted session's key wrapped under the server's `mail` sub-key (MAIL_ENCRYPTED_SESSIONS);
    # only the item by short code holds it, and it goes with the session.
    key_wrap: bytes = field(default=b"", repr=False)


@dataclass(frozen=True)
class MailRecord:
    session_id: str
    short: str  # the address it came to
    mail_id: str  # from the raw message's location: the same mail always has the same id
    received: float
    blob: bytes  # the sealed summary (Place.mail)
    kind: BlobKind | None = None
