"""Make and keep the files of documents a turn assembled (PDF and DOCX).

Files are stored before the turn commits (so committed answers never point to
a missing file), sealed like the session (the object's metadata says how),
under `files/<session>/<file id>/`.
The id depends on the content, so a retried turn or a re-shown screen stores
nothing new.
"""

from __future__ import annotations

from collections.abc import Sequence

from chalicelib.engine.documents import DocumentValue, safe_filename
from chalicelib.runtime.services import Services
from chalicelib.storage.records import BlobKind
from chalicelib.storage.sealing import Place


def download_name(name: str, fmt: str) -> str:
    """The name a document is saved under by the browser: portable characters, its format's extension."""
    return f"{safe_filename(name)}.{fmt}"


def file_name(document_id: str, filename: str) -> str:
    return f"{document_id}/{filename}"


def store_documents(services: Services, session_id: str, key: bytes | None,
                    documents: Sequence[DocumentValue]) -> None:
    from chalicelib.library.documents import assemble

    store = services.store
    for document in documents:
        names = {fmt: file_name(document.file_id, document.file_name(fmt)) for fmt in document.formats}
        if all(store.get_file(session_id, n) is not None for n in names.values()):
            continue
        made = assemble(document.name, document.filename, document.description, document.content_html,
                        document.formats)
        for fmt, name in names.items():
            store.put_file(session_id, name, services.sealer.seal(made.formats[fmt], Place.file(session_id, name), key))


def load_document(services: Services, session_id: str, key: bytes | None, name: str) -> bytes | None:
    sealed = services.store.get_file(session_id, name)
    if sealed is None:
        return None
    # A file stored before its kind was recorded opens only if encrypted: a signed one was
    # signed with the raw server key, which now serves for nothing but deriving sub-keys.
    kind = sealed.kind or BlobKind.ENCRYPTED
    data = services.sealer.open(sealed.blob, kind, Place.file(session_id, name), key)
    return data if isinstance(data, bytes) else None
