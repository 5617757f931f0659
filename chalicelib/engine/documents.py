"""Documents an interview assembles (`attachment` blocks), as values in the answers.

The engine renders an attachment's content (Mako, then Markdown → HTML) and
records a `DocumentValue`: names, the HTML, the formats, and a file id derived
from the content. It makes no files itself (no I/O here): the runtime renders the
PDF/DOCX bytes of the turn's new documents and stores them, sealed like the
session, before the turn commits. The value pickles small: no bytes inside.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Any

from chalicelib.language.blocks import CONTENT_TYPES, DEFAULT_FORMATS

_SAFE = re.compile(r"[^A-Za-z0-9_-]+")


def safe_filename(name: str) -> str:
    """A portable file name: ASCII letters, digits, `-` and `_` ("résumé 2024" → "resume_2024")."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    cleaned = _SAFE.sub("_", ascii_name.strip().replace(" ", "_")).strip("_.")
    return cleaned[:80] or "document"


class DocumentValue:
    """An assembled document: `name`, `filename`, `description`, `formats`, and its files' id."""

    def __init__(self, name: str, filename: str, description: str, content_html: str,
                 formats: tuple[str, ...], session_id: str) -> None:
        self.name = name
        self.filename = safe_filename(filename)
        self.description = description
        self.content_html = content_html
        self.formats = tuple(str(f) for f in formats if isinstance(f, str) and f in CONTENT_TYPES) or DEFAULT_FORMATS
        digest = hashlib.sha256("\x00".join((session_id, name, self.filename, content_html)).encode())
        self.file_id = digest.hexdigest()[:32]

    def file_name(self, fmt: str) -> str:
        return f"{self.filename}.{fmt}"

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"DocumentValue({self.name!r}, {self.formats})"

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, DocumentValue) and other.file_id == self.file_id

    def __hash__(self) -> int:
        return hash(self.file_id)
