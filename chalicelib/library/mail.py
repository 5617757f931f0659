"""Inbound mail as interview code sees it: DAEmail and its parts, and what get_emails() returns.

Plain, picklable objects (they are saved in answers): the mail handler of the runtime
builds a DAEmail from a stored summary (`DAEmail.from_summary`), and so does
`get_emails()`. They hold text and file references, never a file's bytes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from email.utils import getaddresses
from typing import Any

__all__ = ["DAEmail", "DAEmailRecipient", "DAEmailRecipientList", "DAEmailText", "DAEmailAttachment"]


class DAEmailRecipient:
    """One address of a mail: `.address` and `.name` (either may be empty)."""

    def __init__(self, address: str = "", name: str = "") -> None:
        self.address = address
        self.name = name

    @classmethod
    def parse(cls, header: str) -> DAEmailRecipient:
        found = DAEmailRecipientList.parse([header])
        return found[0] if len(found) else cls()

    def email_address(self, include_name: bool | None = None) -> str:
        if (include_name or include_name is None) and self.name:
            return f"{self.name} <{self.address}>"
        return self.address

    def exists(self) -> bool:
        return bool(self.address)

    def __str__(self) -> str:
        return self.email_address()

    def __repr__(self) -> str:
        return f"DAEmailRecipient({self.address!r}, {self.name!r})"


class DAEmailRecipientList:
    """The addresses of a header (To, Cc), in order."""

    def __init__(self, items: Sequence[DAEmailRecipient] = ()) -> None:
        self.elements = list(items)

    @classmethod
    def parse(cls, headers: Sequence[str]) -> DAEmailRecipientList:
        return cls([DAEmailRecipient(address, name) for name, address in getaddresses(list(headers)) if address])

    def __len__(self) -> int:
        return len(self.elements)

    def __iter__(self) -> Any:
        return iter(self.elements)

    def __getitem__(self, index: int) -> DAEmailRecipient:
        return self.elements[index]

    def __str__(self) -> str:
        return ", ".join(str(item) for item in self.elements)


class DAEmailText:
    """A body of the mail (text or HTML): `slurp()` gives its text, as a DAFile's would."""

    def __init__(self, text: str, mimetype: str) -> None:
        self.text = text
        self.mimetype = mimetype

    def slurp(self) -> str:
        return self.text

    def __str__(self) -> str:
        return self.text


class DAEmailAttachment:
    """A file attached to the mail, stored sealed with the session: `filename`, `mimetype`, `size`,
    and `url`, the REST API's download of it (`GET /api/session/file`)."""

    def __init__(self, filename: str, mimetype: str, size: int, file: str, url: str) -> None:
        self.filename = filename
        self.mimetype = mimetype
        self.size = size
        self.file = file  # `<file id>/<filename>` in the session's files
        self.url = url

    @property
    def extension(self) -> str:
        return self.filename.rsplit(".", 1)[-1].lower() if "." in self.filename else ""

    def url_for(self) -> str:
        return self.url

    def __str__(self) -> str:
        return self.filename


class DAEmail:
    """A mail received on one of the session's addresses (docassemble's DAEmail): `to_address`,
    `cc_address` (DAEmailRecipientList), `from_address`, `reply_to`, `return_path` (DAEmailRecipient),
    `subject`, `datetime_message`, `datetime_received` (ISO text), `body_text`, `body_html`
    (DAEmailText or None), `attachment` (a list of DAEmailAttachment), `headers` (a list of
    [name, value] pairs), and `short`, `key`, `index`, `address_owner` of the address."""

    def __init__(self, **values: Any) -> None:
        for name, value in values.items():
            setattr(self, name, value)

    @classmethod
    def from_summary(cls, summary: Mapping[str, Any]) -> DAEmail:
        """Build it from the plain summary the mail handler stores (runtime.mail_in)."""
        text = summary.get("body_text")
        html = summary.get("body_html")
        return cls(
            short=summary.get("short", ""), key=summary.get("key"), index=summary.get("index"),
            address_owner=summary.get("address_owner"),
            to_address=DAEmailRecipientList.parse(summary.get("to") or []),
            cc_address=DAEmailRecipientList.parse(summary.get("cc") or []),
            from_address=DAEmailRecipient.parse(summary.get("from") or ""),
            reply_to=DAEmailRecipient.parse(summary.get("reply_to") or ""),
            return_path=DAEmailRecipient.parse(summary.get("return_path") or ""),
            subject=summary.get("subject") or "",
            datetime_message=summary.get("datetime_message"), datetime_received=summary.get("datetime_received"),
            body_text=DAEmailText(text, "text/plain") if text is not None else None,
            body_html=DAEmailText(html, "text/html") if html is not None else None,
            attachment=[DAEmailAttachment(a["filename"], a["mimetype"], int(a["size"]), a["file"], a["url"])
                        for a in summary.get("attachments") or []],
            headers=[list(pair) for pair in summary.get("headers") or []],
        )

    def headers_json(self) -> str:
        return json.dumps(getattr(self, "headers", []))

    def __str__(self) -> str:
        return str(getattr(self, "subject", ""))


class EmailAddressItem:
    """One entry of get_emails(): `address` (the short code, without @domain), `key`, `index`, `owner`,
    and `emails`, the DAEmails received on it in order."""

    def __init__(self, address: str, key: str | None, index: str | None, owner: str | None,
                 emails: list[DAEmail]) -> None:
        self.address = address
        self.key = key
        self.index = index
        self.owner = owner
        self.emails = emails

    def __str__(self) -> str:
        return self.address
