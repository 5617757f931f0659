"""send_email() and send_sms(): the messages they make, checked and built here, with no I/O.

A call checks its recipients and builds the message (a MIME message with the
standard library's `email` package, or an SMS text with E.164 numbers from the
`phonenumbers` library), then puts an `OutboundMessage` in the evaluation's
`messages`. The runtime records it in the turn's commit and sends it after the
commit (runtime.messaging), exactly once. So True means "recorded for sending";
anything wrong with the call (no recipient, a bad address or number, an
attachment that is not an assembled document) gives False and a log line, and
nothing is sent.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formataddr, formatdate, make_msgid, parseaddr
from typing import TYPE_CHECKING, Any

from chalicelib.engine.documents import DocumentValue
from chalicelib.engine.files import DAFile
from chalicelib.engine.messages import MessageKind, OutboundMessage
from chalicelib.language.blocks import CONTENT_TYPES
from chalicelib.language.markup import escape_html
from chalicelib.library.errors import LibraryError

if TYPE_CHECKING:
    from chalicelib.engine.evaluator import Evaluation

log = logging.getLogger("chalicelib.interviews")

# What an address must look like: one @, a dot in the domain, no spaces or angle brackets.
_ADDRESS = re.compile(r"[^@\s<>()\[\],;:\"]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+")
_ATTACHMENT_FORMATS = ("pdf", "docx")  # an assembled document gives the first of these it has, as docassemble
MAX_SMS_CHARACTERS = 1600  # SNS refuses a longer SMS


class MessageError(LibraryError):
    """A send_email()/send_sms() call that cannot be sent as asked; it returns False with this reason."""


# ---------------------------------------------------------------------------- recipients
def _flatten(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (str, bytes)):
        return [value]
    if isinstance(value, Iterable):
        found: list[Any] = []
        for item in value:
            found.extend(_flatten(item))
        return found
    return [value]


def email_address(recipient: Any) -> str:
    """One recipient as a header address: a string, or an object with `.email` (an Individual,
    a DAEmail sender...) and maybe `.name`. Raises MessageError for anything else."""
    if isinstance(recipient, str):
        if any(c in recipient for c in "\r\n\x00"):
            raise MessageError(f"{recipient!r} is not an e-mail address: it has a line break")
        name, address = parseaddr(recipient)
    elif hasattr(recipient, "email") or hasattr(recipient, "address"):
        address = str(getattr(recipient, "email", None) or getattr(recipient, "address", "") or "")
        name = _display_name(recipient)
    else:
        raise MessageError(f"a recipient must be an e-mail address or have an .email, found {type(recipient).__name__}")
    address = address.strip()
    if not _ADDRESS.fullmatch(address) or "\n" in name or "\r" in name:
        raise MessageError(f"{address or recipient!r} is not an e-mail address (expected name@example.com)")
    return formataddr((name, address)) if name else address


def _display_name(recipient: Any) -> str:
    """The recipient's name for the header, if it has one now (a missing name is not asked for:
    the address alone will do)."""
    defined = getattr(recipient, "defined", None)
    if callable(defined):
        if not any(defined(path) for path in ("name.first", "name.text")):
            return ""
    elif getattr(recipient, "name", None) is None:
        return ""
    return " ".join(str(recipient.name).split())


def email_addresses(value: Any) -> list[str]:
    return [email_address(r) for r in _flatten(value)]


def sms_number(recipient: Any, default_country: str) -> str:
    """One SMS recipient as an E.164 number: a string, or a person's `.mobile_number` (else
    `.phone_number`), read in the person's `.country` or else `default_country`."""
    import phonenumbers

    country = default_country
    if isinstance(recipient, str):
        raw = recipient
    else:
        defined = getattr(recipient, "attribute_defined", None)

        def has(name: str) -> bool:  # without asking for it
            return bool(defined(name)) if callable(defined) else hasattr(recipient, name)

        number = next((getattr(recipient, n) for n in ("mobile_number", "phone_number") if has(n)), None)
        if number is None:  # not set yet: asked for, as docassemble does
            number = recipient.phone_number
        raw = str(number)
        if has("country") and getattr(recipient, "country", None):
            country = str(recipient.country)
    raw = raw.strip()
    if raw.startswith("whatsapp:"):
        raise MessageError("WhatsApp numbers are not supported; send to the plain number")
    try:
        parsed = phonenumbers.parse(raw, country.upper() if len(country) == 2 else default_country.upper())
    except phonenumbers.NumberParseException as err:
        raise MessageError(f"{raw!r} is not a phone number ({err})") from err
    if not phonenumbers.is_valid_number(parsed):
        raise MessageError(f"{raw!r} is not a valid phone number in {country} (give it with +country code)")
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


# ---------------------------------------------------------------------------- content
def _template_parts(template: Any) -> tuple[str, str, str]:
    """A template's subject, text and HTML (values escaped as on screens)."""
    subject = str(getattr(template, "subject", "") or "")
    text = str(getattr(template, "content", "") or "")
    html = str(getattr(template, "content_html", "") or "")
    return subject, text, html


def _document(html: str, title: str) -> str:
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + escape_html(title)
            + "</title></head>\n<body>\n" + html + "\n</body></html>\n")


def _attachments(value: Any) -> list[tuple[str, str, bytes]]:
    """(filename, content type, bytes) of each attachment: assembled documents and uploaded files."""
    from chalicelib.library.documents import assemble

    files: list[tuple[str, str, bytes]] = []
    for item in _flatten(value):
        if isinstance(item, DocumentValue):
            fmt = next((f for f in _ATTACHMENT_FORMATS if f in item.formats), item.formats[0])
            made = assemble(item.name, item.filename, item.description, item.content_html, (fmt,))
            files.append((item.file_name(fmt), CONTENT_TYPES[fmt], made.formats[fmt]))
        elif isinstance(item, DAFile):  # an upload: its bytes, read from where the session keeps it
            data = item.slurp(auto_decode=False)
            files.append((item.filename, item.mimetype, data if isinstance(data, bytes) else data.encode()))
        elif isinstance(item, str) and re.match(r"(?i)[a-z][a-z0-9+.-]*://", item.strip()):
            raise MessageError(f"an attachment cannot be a URL ({item.strip()[:60]!r}): attach an assembled "
                               "document instead")
        else:
            raise MessageError("an attachment must be an assembled document (an `attachment` block's variable) or "
                               f"an uploaded file, found {type(item).__name__}")
    return files


def build_email(*, to: Any, sender: Any, reply_to: Any, cc: Any, bcc: Any, body: Any, html: Any, subject: Any,
                template: Any, attachments: Any, default_sender: str) -> OutboundMessage:
    """The MIME message of one send_email() call; MessageError if it cannot be sent as asked."""
    recipients = email_addresses(to)
    if not recipients:
        raise MessageError("send_email() needs at least one recipient in `to`")
    copies, blind = email_addresses(cc), email_addresses(bcc)
    from_address = email_address(sender) if sender is not None else email_address(default_sender)
    subject_text, text, html_text = "", "", ""
    if template is not None:
        subject_text, text, html_text = _template_parts(template)
    if subject:
        subject_text = str(subject)
    if body is not None:
        text = str(body)
    if html is not None:
        html_text = str(html)
    subject_text = " ".join(subject_text.split())  # no line breaks in a header
    files = _attachments(attachments)
    message = EmailMessage(policy=SMTP)
    message["From"] = from_address
    message["To"] = ", ".join(recipients)
    if copies:
        message["Cc"] = ", ".join(copies)
    if reply_to is not None:
        replies = email_addresses(reply_to)
        if replies:
            message["Reply-To"] = ", ".join(replies)
    message["Subject"] = subject_text
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=Address(addr_spec=parseaddr(from_address)[1]).domain)
    message.set_content(text or " ")
    if html_text:
        message.add_alternative(_document(html_text, subject_text), subtype="html")
    for filename, content_type, data in files:
        maintype, subtype = content_type.split("/", 1)
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    envelope = tuple(parseaddr(a)[1] for a in [*recipients, *copies, *blind])
    return OutboundMessage(MessageKind.EMAIL, envelope, sender=parseaddr(from_address)[1], raw=message.as_bytes())


def build_sms(*, to: Any, body: Any, template: Any, default_country: str) -> OutboundMessage:
    """The text and E.164 numbers of one send_sms() call; MessageError if it cannot be sent."""
    numbers = [sms_number(r, default_country) for r in _flatten(to)]
    if not numbers:
        raise MessageError("send_sms() needs at least one recipient in `to`")
    text = ""
    if template is not None:
        subject, content, _ = _template_parts(template)
        text = "\n".join(part for part in (subject.strip(), content.strip()) if part)
    if body is not None:
        text = str(body)
    if not text.strip():
        raise MessageError("send_sms() needs a `body` or a `template` with content")
    if len(text) > MAX_SMS_CHARACTERS:
        raise MessageError(f"an SMS holds at most {MAX_SMS_CHARACTERS} characters, found {len(text)}")
    return OutboundMessage(MessageKind.SMS, tuple(dict.fromkeys(numbers)), text=text)


# ---------------------------------------------------------------------------- the calls
def record(ev: Evaluation, build: Any, task: Any, task_persistent: Any, dry_run: Any, what: str) -> bool:
    """Build the message (`build()`), put it in the turn's messages and mark `task` as performed;
    False, with a log line, when it cannot be sent or `dry_run` is set."""
    try:
        message: OutboundMessage = build()
    except MessageError as err:
        log.warning("%s() in %s sent nothing: %s", what, ev.request.interview, err)
        return False
    if dry_run:
        return False
    # A block run again in the same turn (after a name it needed was asked) repeats its call:
    # the turn sends the message once.
    if message.kind is MessageKind.SMS and message in ev.messages:
        return True
    if message.kind is MessageKind.EMAIL and any(_same_email(message, m) for m in ev.messages):
        return True
    ev.messages.append(message)
    if task:
        from chalicelib.library.functions import AuthorFunctions

        AuthorFunctions(ev).mark_task_as_performed(str(task), task_persistent)
    return True


_VOLATILE_HEADER = re.compile(rb"^(Date|Message-ID): .*\r?\n", re.MULTILINE | re.IGNORECASE)
_BOUNDARY = re.compile(rb"={15}\d+==")


def _same_email(one: OutboundMessage, other: OutboundMessage) -> bool:
    """The same e-mail, but for its date, message id and MIME boundaries."""
    def norm(raw: bytes) -> bytes:
        return _BOUNDARY.sub(b"", _VOLATILE_HEADER.sub(b"", raw))
    return other.kind is MessageKind.EMAIL and (one.recipients, one.sender) == (other.recipients, other.sender) \
        and norm(one.raw) == norm(other.raw)
