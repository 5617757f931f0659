"""Variable snapshots: sealed for the turn's commit, and read back for admins (GET /api/snapshots).

A snapshot is as protected as its session: the snapshot of an encrypted session is encrypted
under the session key (only a holder of the session's secret can read it, and the server
never keeps that secret), the snapshot of a `multi_user` session is signed. The admin listing
shows every snapshot's session, key and time, and the data of those it can open: the signed
ones, and the encrypted ones of the session whose secret the caller sent.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from chalicelib.engine.snapshots import MAX_TAG_CHARS, NewSnapshot
from chalicelib.runtime.services import Services
from chalicelib.storage import crypto
from chalicelib.storage.errors import TamperedDataError
from chalicelib.storage.records import BlobKind, SessionHead
from chalicelib.storage.sealing import Place
from chalicelib.storage.snapshots import SnapshotRecord

log = logging.getLogger(__name__)

MAX_PAGE = 100
MAX_TOKEN_CHARS = 512  # a page token: a session id and a key


def seal_all(services: Services, head: SessionHead, key: bytes | None, new: Sequence[NewSnapshot],
             now: float) -> list[SnapshotRecord]:
    """The turn's snapshots as the commit writes them, sealed as `head` (the head being saved) says."""
    key = key if head.encrypted else None
    return [SnapshotRecord(head.interview, head.session_id, snapshot.tag,
                           services.sealer.seal(snapshot.text, Place.snapshot(head.session_id, head.interview,
                                                                              snapshot.tag), key),
                           snapshot.persistent, now)
            for snapshot in new]


@dataclass(frozen=True)
class SnapshotQuery:
    """What an admin asked for; `secret` opens the encrypted snapshots of `session`."""

    interview: str
    session: str = ""
    tag: str | None = None
    secret: str = ""
    limit: int = 50
    start: str = ""

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= MAX_PAGE:
            raise ValueError(f"limit is a whole number from 1 to {MAX_PAGE}; found {self.limit}")
        if self.tag is not None and len(self.tag) > MAX_TAG_CHARS:
            raise ValueError(f"tag is text of at most {MAX_TAG_CHARS} characters; found {len(self.tag)}")
        if len(self.start) > MAX_TOKEN_CHARS:
            raise ValueError(f"next is a token from the previous page, at most {MAX_TOKEN_CHARS} characters; "
                             f"found {len(self.start)}")
        if self.secret and not self.session:
            raise ValueError("secret opens one session's snapshots: send session= with it")


def read(services: Services, query: SnapshotQuery) -> dict[str, Any]:
    """One page of snapshots as JSON-able data: `{"items": [...], "next": token or null}`."""
    page = services.store.list_snapshots(query.interview, query.session, query.tag, query.limit, query.start)
    key = crypto.session_key(query.secret, query.session) if query.secret else None
    return {"items": [_shown(services, record, key if record.session_id == query.session else None)
                      for record in page.snapshots],
            "next": page.next_token or None}


def _shown(services: Services, record: SnapshotRecord, key: bytes | None) -> dict[str, Any]:
    kind = record.sealed.kind or BlobKind.SIGNED
    shown: dict[str, Any] = {
        "session": record.session_id, "key": record.tag or None, "persistent": record.persistent,
        "encrypted": kind is BlobKind.ENCRYPTED,
        "modified": dt.datetime.fromtimestamp(record.modified, dt.UTC).isoformat(), "data": None,
    }
    if kind is BlobKind.ENCRYPTED and key is None:
        shown["note"] = "encrypted with its session's key: send session= and that session's secret= to read it"
        return shown
    try:
        text = services.sealer.open(record.sealed.blob, kind,
                                    Place.snapshot(record.session_id, record.interview, record.tag), key)
    except TamperedDataError:
        log.warning("snapshot %r of session %s could not be opened", record.tag, record.session_id)
        shown["note"] = ("the secret does not open this snapshot" if kind is BlobKind.ENCRYPTED
                         else "this snapshot fails its integrity check")
        return shown
    shown["data"] = json.loads(str(text))
    return shown
