"""Read one raw inbound mail (RFC 5322 bytes) into plain parts, within the size limits.

The standard library's parser (policy default) reads it. A mail over MAIL_MAX_BYTES or
with a header section over MAIL_MAX_HEADER_BYTES is refused (MailRejected), and so is
one the parser cannot read at all. Attachments past MAIL_MAX_ATTACHMENTS and body text
past `BODY_MAX_CHARS` are dropped, and `truncated` says what was dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage, MIMEPart
from email.parser import BytesParser
from email.utils import getaddresses

from chalicelib.runtime.errors import RuntimeLayerError

BODY_MAX_CHARS = 30_000  # each of the text and HTML bodies: the summary is one DynamoDB item (400 KB at most)
FILENAME_MAX_CHARS = 100
_RECEIVED_FOR = re.compile(r"\bfor\s+<?([^\s<>;]+@[^\s<>;]+)>?", re.IGNORECASE)


class MailRejected(RuntimeLayerError):
    """An inbound mail that is refused as a whole (too large, unreadable)."""


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_header_bytes: int
    max_attachments: int


@dataclass(frozen=True)
class Attachment:
    filename: str
    mimetype: str
    data: bytes


@dataclass(frozen=True)
class ParsedMail:
    headers: list[tuple[str, str]]
    to: list[str]
    cc: list[str]
    sender: str
    reply_to: str
    return_path: str
    subject: str
    date: str
    envelope_to: list[str]  # who the receiving server delivered it for (its Received: ... for <x>)
    body_text: str | None = None
    body_html: str | None = None
    attachments: list[Attachment] = field(default_factory=list)
    truncated: list[str] = field(default_factory=list)

    def recipients(self) -> list[str]:
        """Addresses it may be for, the envelope's first, lowercased, without repeats."""
        found: list[str] = []
        for _, address in getaddresses([*self.envelope_to, *self.to, *self.cc]):
            address = address.strip().lower()
            if address and address not in found:
                found.append(address)
        return found


def header_section_size(raw: bytes) -> int:
    ends = [i for i in (raw.find(b"\r\n\r\n"), raw.find(b"\n\n")) if i >= 0]
    return min(ends) if ends else len(raw)


def parse_mail(raw: bytes, limits: Limits) -> ParsedMail:
    if len(raw) > limits.max_bytes:
        raise MailRejected(f"the mail has {len(raw)} bytes, more than MAIL_MAX_BYTES={limits.max_bytes}")
    header_bytes = header_section_size(raw)
    if header_bytes > limits.max_header_bytes:
        raise MailRejected(f"the mail's headers have {header_bytes} bytes, more than "
                           f"MAIL_MAX_HEADER_BYTES={limits.max_header_bytes}")
    try:
        message = BytesParser(policy=policy.default).parsebytes(raw)
        assert isinstance(message, EmailMessage)
        return _read(message, limits)
    except MailRejected:
        raise
    except (RecursionError, MemoryError) as err:
        raise MailRejected(f"the mail is nested too deeply to read ({type(err).__name__})") from err
    except Exception as err:  # the parser met something it cannot read: refuse the mail, nothing else
        raise MailRejected(f"the mail could not be read: {type(err).__name__}: {str(err)[:200]}") from err


def _header(message: EmailMessage, name: str) -> str:
    try:
        values = message.get_all(name) or []
        return ", ".join(str(v) for v in values)
    except Exception:  # a malformed header: its raw text
        raw = [v for k, v in message.raw_items() if k.lower() == name.lower()]
        return ", ".join(str(v) for v in raw)


def _headers(message: EmailMessage) -> list[tuple[str, str]]:
    pairs = []
    for name, _ in message.raw_items():
        pairs.append((name, _header(message, name)))
    seen: set[str] = set()
    unique = []
    for name, value in pairs:  # _header joined repeated ones: keep the first
        if name.lower() not in seen:
            seen.add(name.lower())
            unique.append((name, value))
    return unique


def _text(part: MIMEPart | None, truncated: list[str], what: str) -> str | None:
    if part is None:
        return None
    try:
        content = part.get_content()
    except Exception:
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    text = content if isinstance(content, str) else bytes(content).decode("utf-8", "replace")
    if len(text) > BODY_MAX_CHARS:
        truncated.append(f"the {what} body was cut to {BODY_MAX_CHARS} characters (it had {len(text)})")
        text = text[:BODY_MAX_CHARS]
    return text


def _read(message: EmailMessage, limits: Limits) -> ParsedMail:
    truncated: list[str] = []
    text_part = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    bodies = {id(p) for p in (text_part, html_part) if p is not None}
    attachments: list[Attachment] = []
    skipped = 0
    for part in message.walk():
        if part.is_multipart() or id(part) in bodies:
            continue
        if part.get_content_disposition() != "attachment" and not part.get_filename() \
                and part.get_content_maintype() in ("text", "multipart"):
            continue
        if len(attachments) >= limits.max_attachments:
            skipped += 1
            continue
        data = part.get_payload(decode=True)
        name = str(part.get_filename() or f"attachment{len(attachments) + 1}")[:FILENAME_MAX_CHARS]
        attachments.append(Attachment(name, part.get_content_type(), data if isinstance(data, bytes) else b""))
    if skipped:
        truncated.append(f"{skipped} attachment(s) past MAIL_MAX_ATTACHMENTS={limits.max_attachments} were dropped")
    received = message.get_all("Received") or []
    envelope = [m.group(1) for m in [_RECEIVED_FOR.search(str(received[0]))] if m] if received else []
    return ParsedMail(
        headers=_headers(message), to=[_header(message, "To")] if message.get("To") else [],
        cc=[_header(message, "Cc")] if message.get("Cc") else [], sender=_header(message, "From"),
        reply_to=_header(message, "Reply-To"), return_path=_header(message, "Return-Path"),
        subject=_header(message, "Subject").replace("\r", " ").replace("\n", " "), date=_header(message, "Date"),
        envelope_to=envelope, body_text=_text(text_part, truncated, "text"),
        body_html=_text(html_part, truncated, "HTML"), attachments=attachments, truncated=truncated)
