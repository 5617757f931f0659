"""Inbound mail as a turn sees it: the addresses it hands out and the port that lists the session's.

`interview_email()` adds a NewAddress to the turn's mail outbox (`Evaluation.new_addresses`);
the runtime writes it with the turn's commit. `get_emails()` reads the stored ones through
the request's MailPort, which the runtime fills in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class NewAddress:
    short: str
    key: str | None = None
    index: str | None = None


@dataclass(frozen=True)
class StoredAddress:
    """One of the session's addresses with the mails received on it (plain summaries, oldest first)."""

    short: str
    key: str | None = None
    index: str | None = None
    owner: str | None = None  # the e-mail of the user who obtained it, if known
    mails: Sequence[Mapping[str, Any]] = field(default_factory=tuple)


class MailPort(Protocol):
    domain: str

    def addresses(self) -> Sequence[StoredAddress]:
        """The session's stored addresses, oldest first."""
        ...
