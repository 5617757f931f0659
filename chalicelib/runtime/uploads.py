"""Uploaded files: checked and named when posted, stored sealed before the turn commits, read back.

A posted file (`Upload`) is refused with a field error when it is larger than
MAX_UPLOAD_BYTES, before anything is stored. Otherwise its type is sniffed from
its bytes, its name cleaned, and it becomes a `DAFile` in the answers; the turn's
save stores it under the session's files (`files/<session>/u<id>/<name>`),
sealed like the session (encrypted under the session key, or signed for a
`multi_user` session), before the commit that references it. The id comes from
the session and the bytes, so a retried turn stores nothing new.

`set_attributes(private=False)` adds a signed copy (`p<id>/<name>`), which the
signed link of `url_for()` serves to anyone; `persistent=True` puts the file (and
that copy) in the session's kept area, `files/<session>~kept/…`, which deleting
the session leaves alone. A kept private file stays encrypted under the session
key: whoever holds the session's secret can still read it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chalicelib.engine.files import (
    FILE_DATATYPES,
    PRIVATE_PREFIX,
    PUBLIC_PREFIX,
    DAFile,
    DAFileList,
    clean_filename,
    file_id,
    sniff,
)
from chalicelib.engine.request import Upload
from chalicelib.engine.screen import FieldError, ScreenView
from chalicelib.runtime.documents import load_document
from chalicelib.runtime.services import Services
from chalicelib.storage.records import BlobKind
from chalicelib.storage.sealing import Place

KEPT_SUFFIX = "~kept"
UPLOAD_PREFIX = PRIVATE_PREFIX  # an uploaded file's id in the session's files: `u<id>/<name>`


def kept_area(session_id: str) -> str:
    """The files of a session that outlive it (persistent=True) are kept under this name."""
    return f"{session_id}{KEPT_SUFFIX}"


def too_large(upload: Upload, limit: int) -> str | None:
    size = len(upload.data)
    if size <= limit:
        return None
    return (f"The file {upload.filename[:80]!r} is too large: {size:,} bytes, but at most {limit:,} bytes are "
            "accepted (MAX_UPLOAD_BYTES). Choose a smaller file; nothing was saved.")


def to_files(uploads: Sequence[Upload], session_id: str, interview: str) -> DAFileList:
    """The posted files as DAFiles of the session (their bytes kept until the turn stores them)."""
    files = []
    for upload in uploads:
        mimetype, extension = sniff(upload.data)
        files.append(DAFile(session_id, interview, file_id(session_id, upload.data),
                            clean_filename(upload.filename, mimetype, extension), mimetype, len(upload.data),
                            data=upload.data))
    return DAFileList(files)


@dataclass(frozen=True)
class Taken:
    values: dict[str, Any]
    files: tuple[DAFile, ...] = ()
    errors: tuple[FieldError, ...] = ()


def take_uploads(values: Mapping[str, Any], view: ScreenView, session_id: str, interview: str,
                 limit: int) -> Taken:
    """The posted values with each upload field's files made DAFileLists; a field error for each
    field with a file over `limit` (then nothing is to be stored)."""
    out = dict(values)
    files: list[DAFile] = []
    errors = []
    for shown in view.fields:
        if shown.variable is None or shown.datatype not in FILE_DATATYPES:
            continue
        uploads = [u for u in out.get(shown.variable) or [] if isinstance(u, Upload)]
        refused = next((m for m in (too_large(u, limit) for u in uploads) if m), None)
        if refused:
            errors.append(FieldError(shown.variable, refused))
            continue
        chosen = to_files(uploads, session_id, interview)
        files.extend(chosen)
        out[shown.variable] = chosen
    return Taken(out, tuple(files), tuple(errors) if errors else ())


class SessionFilePort:
    """A turn's FilePort: reads the session's stored files (and public copies of others'), and
    collects the files whose attributes the turn changed, applied when it is saved."""

    def __init__(self, services: Services, session_id: str, key: bytes | None) -> None:
        self.services, self.session_id, self.key = services, session_id, key
        self.pending: dict[str, bytes] = {}  # uploaded in this turn, not stored yet
        self.changed_files: list[DAFile] = []
        self.temporaries: list[str] = []

    def read(self, file: DAFile) -> bytes | None:
        if file.file_id in self.pending and file.session_id == self.session_id:
            return self.pending[file.file_id]
        if file.session_id == self.session_id:
            found = read_private(self.services, self.session_id, self.key, file.stored_name, kept_too=True)
            if found is not None:
                return found
        return None if file.private else read_public(self.services, file.session_id, file.public_name)

    def changed(self, file: DAFile) -> None:
        if file.session_id == self.session_id and all(f is not file for f in self.changed_files):
            self.changed_files.append(file)

    def temporary(self, path: str) -> None:
        self.temporaries.append(path)

    def clean_up(self) -> None:
        """Delete the temporary files `DAFile.path()` made in the turn."""
        for path in self.temporaries:
            with contextlib.suppress(OSError):
                os.remove(path)
        self.temporaries.clear()


def store_uploads(services: Services, session_id: str, key: bytes | None, uploaded: Sequence[DAFile],
                  changed: Sequence[DAFile]) -> None:
    """Store the turn's new files (sealed like the session: `key` None signs), then the copies their
    attributes ask for. Called before the commit, so committed answers never name a missing file."""
    store = services.store
    pending = {f.file_id: data for f in uploaded if (data := f.pending_data()) is not None}
    for file in uploaded:
        data = pending.get(file.file_id)
        if data is not None and store.get_file(session_id, file.stored_name) is None:
            _put(services, session_id, file.stored_name, data, key)
    for file in [*uploaded, *changed]:
        if file.session_id != session_id or (file.private and not file.persistent):
            continue
        data = pending.get(file.file_id) or read_private(services, session_id, key, file.stored_name)
        if data is None:
            continue
        area = kept_area(session_id) if file.persistent else session_id
        if file.persistent and file.private and store.get_file(area, file.stored_name) is None:
            _put(services, area, file.stored_name, data, key)
        if not file.private and store.get_file(area, file.public_name) is None:
            _put(services, area, file.public_name, data, None)  # signed: readable without the session key


def _put(services: Services, area: str, name: str, data: bytes, key: bytes | None) -> None:
    services.store.put_file(area, name, services.sealer.seal(data, Place.file(area, name), key))


def read_private(services: Services, session_id: str, key: bytes | None, name: str,
                 kept_too: bool = False) -> bytes | None:
    """A file sealed like the session (`u<id>/<name>`); with `kept_too`, its kept copy if the first is gone."""
    data = load_document(services, session_id, key, name)
    if data is None and kept_too:
        data = load_document(services, kept_area(session_id), key, name)
    return data


def read_kept(services: Services, session_id: str, key: bytes, name: str) -> bytes | None:
    """A kept private file of a deleted session, opened only as encrypted under its key."""
    area = kept_area(session_id)
    sealed = services.store.get_file(area, name)
    if sealed is None or sealed.kind is not BlobKind.ENCRYPTED:
        return None
    data = services.sealer.open(sealed.blob, BlobKind.ENCRYPTED, Place.file(area, name), key)
    return data if isinstance(data, bytes) else None


def read_public(services: Services, session_id: str, name: str) -> bytes | None:
    """The signed copy of a file set private=False, in the session's files or its kept area;
    opened only as signed (whatever the stored object says)."""
    if not name.startswith(PUBLIC_PREFIX):
        return None
    for area in (session_id, kept_area(session_id)):
        sealed = services.store.get_file(area, name)
        if sealed is not None:
            data = services.sealer.open(sealed.blob, BlobKind.SIGNED, Place.file(area, name), None)
            return data if isinstance(data, bytes) else None
    return None


def served_type(data: bytes) -> str:
    """The Content-Type a stored file is served with: what its bytes show (never HTML)."""
    mimetype = sniff(data)[0]
    return f"{mimetype}; charset=utf-8" if mimetype == "text/plain" else mimetype


def inline(mimetype: str) -> bool:
    """Images and PDFs open in the browser; every other file is a download."""
    return mimetype.startswith("image/") or mimetype == "application/pdf"
