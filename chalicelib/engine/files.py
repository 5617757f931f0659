"""Uploaded files as values in the answers: `DAFile`, `DAFileList`, and a posted `Upload`.

A browser form or an API call posts an `Upload` (engine.request: the client's file name and the
bytes; the client's content type is never read). The runtime checks its size,
sniffs its type from the bytes (`sniff`), gives it a safe name, and puts a
`DAFileList` of `DAFile`s in the answers; it stores the bytes, sealed like the
session, before the turn commits (runtime.uploads). A DAFile pickles small: it
holds the file's names, never its bytes. Its methods reach the stored bytes and
the links through the running evaluation's request (engine.active): `files`,
the turn's FilePort, and `sign_link`.

Stored names (the session's files, see docs/architecture.md):
`u<id>/<filename>` is the file sealed like the session, `p<id>/<filename>` its
signed copy served to anyone with the signed link (`private=False`).
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from html import escape
from typing import Any, Protocol
from urllib.parse import quote

from chalicelib.engine import active
from chalicelib.engine.documents import safe_filename
from chalicelib.engine.errors import EngineError
from chalicelib.language.blocks import Datatype

FILE_DATATYPES = frozenset({Datatype.FILE, Datatype.FILES, Datatype.CAMERA, Datatype.USER, Datatype.ENVIRONMENT})
PRIVATE_PREFIX = "u"  # the file sealed like the session
PUBLIC_PREFIX = "p"  # its signed copy, for private=False
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
OCTET_STREAM = "application/octet-stream"
_TEXT_EXTENSIONS = frozenset({"txt", "csv", "md", "log", "json", "xml", "yml", "yaml", "rtf"})
_ZIP_KINDS = (("word/", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
              ("xl/", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
              ("ppt/", "application/vnd.openxmlformats-officedocument.presentationml.presentation", "pptx"))
_MAX_ZIP_NAMES = 2000  # a zip's directory read to tell DOCX from XLSX: bounded


def sniff(data: bytes) -> tuple[str, str]:
    """The content type and extension the bytes show (magic numbers), never the client's word.
    Text is plain text (HTML too: it is never served as HTML); unknown bytes are octet-stream."""
    if data.startswith(b"%PDF-"):
        return "application/pdf", "pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png", "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg", "jpg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif", "gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp", "webp"
    if data.startswith(b"PK\x03\x04"):
        return _zip_kind(data)
    if b"\x00" not in data:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return OCTET_STREAM, "bin"
        return "text/plain", "txt"
    return OCTET_STREAM, "bin"


def _zip_kind(data: bytes) -> tuple[str, str]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = [info.filename for info in archive.infolist()[:_MAX_ZIP_NAMES]]
    except (zipfile.BadZipFile, ValueError, OSError):
        return OCTET_STREAM, "bin"
    for prefix, mimetype, extension in _ZIP_KINDS:
        if any(name.startswith(prefix) for name in names):
            return mimetype, extension
    return "application/zip", "zip"


def clean_filename(client_name: str, mimetype: str, extension: str) -> str:
    """A portable name for the file: the client's name reduced to ASCII letters, digits, `-` and `_`,
    with the extension the bytes showed (a text file may keep a plain-text extension it had)."""
    base = client_name.replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, given = base.rpartition(".")
    if not dot:
        stem, given = base, ""
    given = given.lower()
    if mimetype == "text/plain" and given in _TEXT_EXTENSIONS:
        extension = given
    name = safe_filename(stem)
    return f"{name if name != 'document' or stem else 'file'}.{extension}"


def file_id(session_id: str, data: bytes) -> str:
    """The stored file's id: from the session and the content, so a retried turn stores nothing new."""
    return hashlib.sha256(session_id.encode() + b"\x00" + data).hexdigest()[:32]


class FilePort(Protocol):
    """The turn's way to stored files: read one, and note one whose attributes changed."""

    def read(self, file: DAFile) -> bytes | None: ...

    def changed(self, file: DAFile) -> None: ...

    def temporary(self, path: str) -> None:
        """A temporary file `path()` made, to delete when the turn ends."""
        ...


class DAFile:
    """An uploaded file: `filename`, `mimetype`, `size`, `extension`, `number`, `private` (default
    True), `persistent` (default False); `url_for()`, `path()`, `slurp()`, `set_attributes()`.
    Shown in a template as the image itself (an image) or a link to it (any other file)."""

    def __init__(self, session_id: str, interview: str, file_id: str, filename: str, mimetype: str,
                 size: int, data: bytes | None = None) -> None:
        self.session_id = session_id
        self.interview = interview
        self.file_id = file_id
        self.filename = filename
        self.mimetype = mimetype
        self.size = size
        self.number = int(file_id[:12], 16)
        self.private = True
        self.persistent = False
        self.ok = True
        self._data = data  # the bytes of a file uploaded in this turn, until stored; never pickled
        self._temp: str | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k not in ("_data", "_temp")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._data = None
        self._temp = None

    @property
    def extension(self) -> str:
        return self.filename.rsplit(".", 1)[-1].lower() if "." in self.filename else ""

    @property
    def stored_name(self) -> str:
        """Its name among the session's files, sealed like the session."""
        return f"{PRIVATE_PREFIX}{self.file_id}/{self.filename}"

    @property
    def public_name(self) -> str:
        """Its signed copy's name (made once the file is set `private=False`)."""
        return f"{PUBLIC_PREFIX}{self.file_id}/{self.filename}"

    def pending_data(self) -> bytes | None:
        """The bytes of a file uploaded in this very turn (the runtime stores them before the commit)."""
        return self._data

    def url_for(self, **kwargs: Any) -> str:
        """The file's address: for the session's users (a private file), or, for `private=False`,
        a signed link anyone can open."""
        running = active.running()
        base = running.request.base_url if running else ""
        if not self.private:
            signer = running.request.sign_link if running else None
            signature = signer(f"file:{self.session_id}", self.public_name, {}) if signer else ""
            return f"{base}/file/{self.session_id}/{self.public_name_quoted()}?sig={signature}"
        return (f"{base}/interview/upload/{PRIVATE_PREFIX}{self.file_id}/{quote(self.filename)}"
                f"?i={quote(self.interview)}&session={self.session_id}")

    def public_name_quoted(self) -> str:
        return f"{PUBLIC_PREFIX}{self.file_id}/{quote(self.filename)}"

    def _bytes(self) -> bytes:
        if self._data is not None:
            return self._data
        port = active.current().request.files
        data = port.read(self) if port is not None else None
        if data is None:
            raise EngineError(f"the file {self.filename!r} cannot be read here: it is not (or no longer) stored, "
                              "or it is a private file of another session")
        return data

    def path(self) -> str:
        """A temporary file with the file's bytes, read when first asked for (deleted when the turn ends)."""
        if self._temp is None or not os.path.exists(self._temp):
            handle, name = tempfile.mkstemp(prefix="upload-", suffix=f".{self.extension or 'bin'}")
            with os.fdopen(handle, "wb") as out:
                out.write(self._bytes())
            self._temp = name
            running = active.running()
            if running is not None and running.request.files is not None:
                running.request.files.temporary(name)
        return self._temp

    def slurp(self, auto_decode: bool = True) -> str | bytes:
        data = self._bytes()
        return data.decode("utf-8", errors="replace") if auto_decode else data

    def set_attributes(self, private: bool | None = None, persistent: bool | None = None, **_: Any) -> None:
        """`private=False` makes the file readable by anyone with its link; `persistent=True` keeps it
        when the session is deleted. Takes effect when the turn is saved."""
        if private is not None:
            self.private = bool(private)
        if persistent is not None:
            self.persistent = bool(persistent)
        running = active.running()
        if running is not None and running.request.files is not None:
            running.request.files.changed(self)

    def is_image(self) -> bool:
        return self.mimetype in IMAGE_TYPES

    def show(self, width: str | None = None) -> str:
        """The file as HTML: the image itself, or a link to the file."""
        url = escape(self.url_for(), quote=True)
        if self.is_image():
            size = f' width="{escape(str(width), quote=True)}"' if width else ""
            return f'<img src="{url}" alt="{escape(self.filename, quote=True)}"{size}>'
        return f'<a href="{url}">{escape(self.filename)}</a>'

    def __html__(self) -> str:
        return self.show()

    def __str__(self) -> str:
        return self.show()

    def __repr__(self) -> str:
        return f"DAFile({self.filename!r}, {self.mimetype!r}, {self.size})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DAFile) and (other.session_id, other.file_id, other.filename) == (
            self.session_id, self.file_id, self.filename)

    def __hash__(self) -> int:
        return hash((self.session_id, self.file_id))


class DAFileList:
    """The files of one upload field (docassemble sets a DAFileList for every file datatype). Its
    attributes and methods are those of its first file; `set_attributes` changes them all."""

    def __init__(self, elements: Sequence[DAFile] = ()) -> None:
        self.elements = list(elements)
        self.gathered = True

    def __iter__(self) -> Iterator[DAFile]:
        return iter(self.elements)

    def __len__(self) -> int:
        return len(self.elements)

    def __getitem__(self, index: int) -> DAFile:
        return self.elements[index]

    def __bool__(self) -> bool:
        return bool(self.elements)

    def number_of(self) -> int:
        return len(self.elements)

    def _first(self) -> DAFile:
        if not self.elements:
            raise EngineError("this file list is empty")
        return self.elements[0]

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name == "elements":
            raise AttributeError(name)
        return getattr(self._first(), name)

    def set_attributes(self, private: bool | None = None, persistent: bool | None = None, **_: Any) -> None:
        for item in self.elements:
            item.set_attributes(private=private, persistent=persistent)

    def show(self, width: str | None = None) -> str:
        return " ".join(item.show(width) for item in self.elements)

    def __html__(self) -> str:
        return self.show()

    def __str__(self) -> str:
        return self.show()

    def __repr__(self) -> str:
        return f"DAFileList({self.elements!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DAFileList) and other.elements == self.elements

    __hash__ = None  # type: ignore[assignment]  # a list of files changes: not hashable, like a list
