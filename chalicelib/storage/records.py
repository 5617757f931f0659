"""Records the storage layer reads and writes. Opaque to storage: the blob of a
step is already sealed by the caller (see crypto.py)."""

from __future__ import annotations

from dataclasses import dataclass, field


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


@dataclass(frozen=True)
class StepRecord:
    """One saved step: the sealed, compressed answers after that step."""

    step: int
    blob: bytes


@dataclass(frozen=True)
class User:
    id: str
    email: str
    privileges: tuple[str, ...] = ("user",)
    first_name: str = ""
    last_name: str = ""
    active: bool = True
    password_hash: str = field(default="", repr=False)
