"""Make and keep the files of documents a turn assembled (PDF and DOCX).

Files are stored before the turn commits (so committed answers never point to
a missing file), sealed like the session, under `files/<session>/<file id>/`.
The id depends on the content, so a retried turn or a re-shown screen stores
nothing new.
"""

from __future__ import annotations

from collections.abc import Sequence

from chalicelib.engine.documents import DocumentValue
from chalicelib.runtime.services import Services
from chalicelib.storage import crypto

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


def file_name(document_id: str, filename: str) -> str:
    return f"{document_id}/{filename}"


def _aad(session_id: str, name: str) -> bytes:
    return f"{session_id}:file:{name}".encode()


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
            data = made.formats[fmt]
            blob = crypto.seal(data, key, _aad(session_id, name)) if key is not None else \
                crypto.sign(data, services.settings.server_key, _aad(session_id, name))
            store.put_file(session_id, name, blob)


def load_document(services: Services, session_id: str, key: bytes | None, name: str) -> bytes | None:
    blob = services.store.get_file(session_id, name)
    if blob is None:
        return None
    data = crypto.unseal(blob, key=key, server_key=services.settings.server_key, aad=_aad(session_id, name))
    return data if isinstance(data, bytes) else None
