"""Records the storage layer reads and writes. Opaque to storage: the blob of a
step is already sealed by the caller (see sealing.py)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class BlobKind(enum.Enum):
    """How a stored blob is protected. The record that points to a blob says it;
    the blob's own prefix is never trusted to (see sealing.py)."""

    ENCRYPTED = "encrypted"  # AES-GCM under the session key
    SIGNED = "signed"  # HMAC-SHA256 under the server's `sign` sub-key

    @classmethod
    def of(cls, encrypted: bool) -> BlobKind:
        return cls.ENCRYPTED if encrypted else cls.SIGNED

    @classmethod
    def parse(cls, value: str | None) -> BlobKind | None:
        """The kind a stored attribute names; None when absent (written before kinds were stored)."""
        return cls(value) if value else None


@dataclass(frozen=True)
class Sealed:
    """A sealed or signed blob with its kind (None: stored by a version that did not record it)."""

    blob: bytes
    kind: BlobKind | None


@dataclass(frozen=True)
class SessionHead:
    """The one mutable item of a session; its `version` guards every write."""

    interview: str
    session_id: str
    version: int
    step: int
    encrypted: bool
    created: float
    modified: float
    key_check: str = ""  # hex HMAC of the session key; tells a wrong secret from tampering
    owner: str = ""  # user id of the owner, or "" for anonymous
    title: str = ""
    allow_cron: bool = False
    tags: tuple[str, ...] = field(default_factory=tuple)
    has_tasks: bool = False  # it started a background task: a check-in reads its tasks and notifications
    cron_runs: tuple[str, ...] = ()  # the latest scheduled runs saved in it (ids): a redelivered one is not run again
    expires_at: float = 0.0  # when the table's TTL may delete the head and the steps written with it (0: never)

    @property
    def cron_enabled(self) -> bool:
        """A scheduled pass may run in it: `allow_cron` is set and it is not encrypted (`multi_user`)."""
        return self.allow_cron and not self.encrypted


@dataclass(frozen=True)
class IdleSession:
    """A session not modified since `modified`, as the purge's index lists it."""

    interview: str
    session_id: str
    modified: float


@dataclass(frozen=True)
class CronTarget:
    """A session a scheduled pass runs in, as the pass's index lists it."""

    interview: str
    session_id: str


@dataclass(frozen=True)
class StepRecord:
    """One saved step: the sealed, compressed answers after that step."""

    step: int
    blob: bytes
    kind: BlobKind | None = None  # None: written before kinds were stored; the head's `encrypted` decides


@dataclass(frozen=True)
class User:
    id: str
    email: str
    privileges: tuple[str, ...] = ("user",)
    first_name: str = ""
    last_name: str = ""
    active: bool = True
    password_hash: str = field(default="", repr=False)
    wrapped_key: bytes = field(default=b"", repr=False)  # the user's own key, wrapped under a key from the password
    key_salt: bytes = field(default=b"", repr=False)  # the scrypt salt of that wrapping key
    key_check: str = ""  # crypto.key_check of the user's own key: tells the user's secret from another (API)
