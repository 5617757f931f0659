"""Shared records: lists of rows that every session and interview can read (docassemble's
`write_record(key, data)`, `read_records(key)`, `delete_record(key, id)`).

Rows are not encrypted (any interview may read any list: give keys a prefix of your
own), but they are signed with the server's key, so a row changed in the table is
refused rather than unpickled. A row's id comes from an atomic counter of its list,
so concurrent writers each get their own id and no row is lost.
"""

from __future__ import annotations

import logging
from typing import Any

from chalicelib.runtime.services import Services
from chalicelib.storage.errors import TamperedDataError
from chalicelib.storage.records import BlobKind
from chalicelib.storage.sealing import Place

log = logging.getLogger(__name__)

MAX_KEY_CHARS = 256


def _key(key: Any) -> str:
    text = str(key)
    if not text or len(text) > MAX_KEY_CHARS:
        raise ValueError(f"a record key is text of 1 to {MAX_KEY_CHARS} characters; found {len(text)} characters")
    return text


def _place(key: str) -> Place:
    return Place(f"record:{key}".encode())


class SharedRecords:
    """The `RecordsPort` of an evaluation."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def write(self, key: str, data: Any) -> int:
        key = _key(key)
        return self.services.store.append_record(key, self.services.sealer.seal(data, _place(key), None))

    def read(self, key: str) -> dict[int, Any]:
        key = _key(key)
        rows: dict[int, Any] = {}
        for record_id, sealed in self.services.store.records(key):
            try:
                rows[record_id] = self.services.sealer.open(sealed.blob, sealed.kind or BlobKind.SIGNED,
                                                            _place(key), None)
            except TamperedDataError:
                log.error("record %d of %r fails its integrity check; it is left out", record_id, key)
        return rows

    def delete(self, key: str, record_id: int) -> None:
        self.services.store.delete_record(_key(key), int(record_id))
