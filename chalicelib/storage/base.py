"""The session store port: what the runtime needs from persistent storage.

`memory.MemorySessionStore` (unit tests) and `dynamodb.DynamoSessionStore`
(Lambda, local stack) implement it. Every write that changes a session goes
through `commit`, which is conditioned on the head's version: a concurrent
writer makes it raise VersionConflictError and nothing is written.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence

from chalicelib.storage.effects import EffectRecord, EffectRef
from chalicelib.storage.mail import MailAddress, MailRecord
from chalicelib.storage.outbox import SendRecord, SendRef
from chalicelib.storage.records import CronTarget, IdleSession, Sealed, SessionHead, StepRecord
from chalicelib.storage.snapshots import SnapshotPage, SnapshotRecord
from chalicelib.storage.tasks import Notification, TaskRecord, TaskWrite

# One DynamoDB transaction holds at most 100 actions: the head, the new step and
# the deletions. Callers trimming more old steps do it over several commits.
MAX_DELETES_PER_COMMIT = 98


def check_commit(
    before: SessionHead, after: SessionHead, put: StepRecord | None, delete_steps: Sequence[int],
    extras: Mapping[str, Sealed] | None = None, writes: int = 0,
) -> None:
    """Reject a `commit` call that no store could carry out; raises ValueError.

    Shared by every SessionStore so that they refuse the same programming errors."""
    if (after.interview, after.session_id) != (before.interview, before.session_id):
        raise ValueError(
            f"commit must keep the session: before is {before.interview}/{before.session_id},"
            f" after is {after.interview}/{after.session_id}"
        )
    if after.version != before.version + 1:
        raise ValueError(
            f"after.version must be before.version + 1 = {before.version + 1}, found {after.version}"
        )
    if after.step in delete_steps or (put is not None and put.step in delete_steps):
        raise ValueError(
            f"delete_steps {sorted(delete_steps)} must not hold the head's step {after.step}"
            f" or the step being written {None if put is None else put.step}"
        )
    if len(delete_steps) + len(extras or {}) + writes > MAX_DELETES_PER_COMMIT:
        raise ValueError(
            f"a commit deletes and writes at most {MAX_DELETES_PER_COMMIT} extra items, found"
            f" {len(delete_steps)} deletes and {len(extras or {})} extras; spread them over several commits"
        )


class SessionStore(ABC):
    @abstractmethod
    def create(self, head: SessionHead, first: StepRecord) -> None:
        """Write a new session (head at version 1 plus its first step).

        Raises SessionExistsError if the id is taken."""

    @abstractmethod
    def load(self, interview: str, session_id: str) -> tuple[SessionHead, StepRecord]:
        """Consistent read of the head and its current step.

        Raises SessionNotFoundError."""

    @abstractmethod
    def load_step(self, interview: str, session_id: str, step: int) -> StepRecord:
        """Read one past step (for the back button). Raises SessionNotFoundError."""

    @abstractmethod
    def commit(
        self,
        before: SessionHead,
        after: SessionHead,
        put: StepRecord | None,
        delete_steps: Sequence[int] = (),
        extras: Mapping[str, Sealed] | None = None,
        tasks: Sequence[TaskWrite] = (),
        notes: Sequence[Notification] = (),
        sends: Sequence[SendRecord] = (),
        addresses: Sequence[MailAddress] = (),
        snapshots: Sequence[SnapshotRecord] = (),
        effects: Sequence[EffectRecord] = (),
        marks: Sequence[str] = (),
    ) -> None:
        """Atomically: write `put` (if any), delete `delete_steps`, write the named
        `extras` (values that outlive the back button, e.g. persistent task counters),
        the `tasks` (each only if in its expected state), the `notes`, the new
        `sends` (each only if no send has its key yet) and the new mail `addresses`
        (each only if its short code is free: a taken one is a VersionConflictError,
        so the turn runs again and draws another), the `snapshots` (each replacing the one
        of its session and tag; storage/snapshots.py), and replace the head with
        `after` -- only if the stored head still has `before.version`. With it go the new
        `effects` on other sessions (each only if its key is new, as sends) and the `marks` of
        effects this turn applies (storage.effects: a mark that exists raises AlreadyAppliedError,
        nothing written).

        A task in another state than expected raises TaskStateError (nothing written);
        a send whose key exists already raises VersionConflictError (its turn committed).

        `after.version` must be `before.version + 1`. Raises VersionConflictError
        (nothing written) when the version moved, SessionNotFoundError when gone."""

    @abstractmethod
    def list_snapshots(self, interview: str, session_id: str = "", tag: str | None = None, limit: int = 50,
                       start: str = "") -> SnapshotPage:
        """At most `limit` snapshots of `interview` (of one session, of one tag, if given), by session
        and tag, starting after the page token `start`."""

    @abstractmethod
    def write_tasks(self, tasks: Sequence[TaskWrite], notes: Sequence[Notification] = (),
                    sends: Sequence[SendRecord] = ()) -> None:
        """Atomically write tasks (each only if in its expected state), notifications and new
        sends (each only if its key is new), without touching the session head. Raises
        TaskStateError (nothing written)."""

    @abstractmethod
    def update_send(self, record: SendRecord) -> bool:
        """Record how a committed send went (sent or failed), only while it is still pending and
        held by the record's attempt (`attempts` unchanged); False if it is not (already recorded,
        taken over by the sweep, or its session was deleted). A finished record keeps no payload."""

    @abstractmethod
    def due_sends(self, now: float) -> Iterator[SendRef]:
        """The pending sends whose `due` time is before `now` (the sparse index; no session is read)."""

    @abstractmethod
    def claim_send(self, ref: SendRef, now: float, until: float) -> SendRecord | None:
        """Take a due pending send for one attempt: only if it is still pending and due before `now`,
        set `due` to `until` and add one to `attempts`; the record as it is now, payload and all.
        None when it is no longer due (sent, failed, or taken by someone else first)."""

    @abstractmethod
    def list_sends(self, session_id: str) -> list[SendRecord]:
        """Every send record of a session, oldest first (consistent read)."""

    @abstractmethod
    def update_effect(self, record: EffectRecord) -> bool:
        """Record how a committed effect went (applied or failed; its payload dropped), only while it
        is still pending and held by the record's attempt (`attempts` unchanged); False if it is not."""

    @abstractmethod
    def due_effects(self, now: float) -> Iterator[EffectRef]:
        """The pending effects whose `due` time is before `now` (the sparse index; no session is read)."""

    @abstractmethod
    def claim_effect(self, ref: EffectRef, now: float, until: float) -> EffectRecord | None:
        """Take a due pending effect for one attempt: only if it is still pending and due before `now`,
        set `due` to `until` and add one to `attempts`; the record as it is now, payload and all.
        None when it is no longer due (applied, failed, or taken by someone else first)."""

    @abstractmethod
    def list_effects(self, session_id: str) -> list[EffectRecord]:
        """Every effect a session asked for in others, oldest first (consistent read)."""

    @abstractmethod
    def load_task(self, session_id: str, task_id: str) -> TaskRecord | None:
        """One task (consistent read), or None."""

    @abstractmethod
    def list_tasks(self, session_id: str) -> list[TaskRecord]:
        """Every task of a session, oldest first (consistent read)."""

    @abstractmethod
    def take_notifications(self, session_id: str) -> list[Notification]:
        """Remove and return the session's waiting notifications, oldest first. Each one
        is returned to exactly one caller, however many take at the same time."""

    @abstractmethod
    def find_address(self, short: str) -> MailAddress | None:
        """The address with this short code (one consistent read), or None."""

    @abstractmethod
    def list_addresses(self, session_id: str) -> list[MailAddress]:
        """The session's mail addresses, oldest first."""

    @abstractmethod
    def put_mail(self, mail: MailRecord) -> None:
        """Store (or store again: the same id replaces) a mail received on one of the session's addresses."""

    @abstractmethod
    def list_mail(self, session_id: str) -> list[MailRecord]:
        """The session's mails, in the order received."""

    @abstractmethod
    def put_file(self, session_id: str, name: str, sealed: Sealed) -> None:
        """Store a sealed file of the session, e.g. an assembled document, with its kind;
        deleted with the session."""

    @abstractmethod
    def get_file(self, session_id: str, name: str) -> Sealed | None:
        """A file stored by put_file, or None."""

    @abstractmethod
    def load_extra(self, interview: str, session_id: str, name: str) -> Sealed | None:
        """An extra written by `commit`, or None if there is none (consistent read)."""

    @abstractmethod
    def delete(self, interview: str, session_id: str) -> None:
        """Remove the session and every item that belongs to it; no error if missing."""

    @abstractmethod
    def list_heads(self, interview: str | None = None, owner: str | None = None) -> Iterator[SessionHead]:
        """Every session head, optionally only one interview's or one owner's."""

    @abstractmethod
    def put_stash(self, key: str, sealed: Sealed, expires_at: float) -> None:
        """Keep a stashed blob until `expires_at` (epoch seconds)."""

    @abstractmethod
    def get_stash(self, key: str) -> tuple[Sealed, float] | None:
        """A stashed blob and when it expires, or None (never stored, or deleted)."""

    @abstractmethod
    def delete_stash(self, key: str) -> None:
        """Forget a stashed blob; no error if there is none."""

    @abstractmethod
    def append_record(self, key: str, sealed: Sealed) -> int:
        """Add a row to the list `key`; its id, one more than any id the list ever gave (atomic: two
        writers never get the same id, and neither row is lost)."""

    @abstractmethod
    def records(self, key: str) -> list[tuple[int, Sealed]]:
        """The rows of the list `key`, by id."""

    @abstractmethod
    def delete_record(self, key: str, record_id: int) -> None:
        """Remove one row; no error if there is none."""

    @abstractmethod
    def put_value(self, key: str, value: bytes, expires_at: float) -> None:
        """Keep `value` under `key` (shared by every session) until `expires_at` (0: no expiry)."""

    @abstractmethod
    def get_value(self, key: str) -> tuple[bytes, float] | None:
        """A value kept by put_value and when it expires (0: never), or None."""

    @abstractmethod
    def add_to_value(self, key: str, amount: int) -> int:
        """Add `amount` to the whole number under `key` (0 if there is none), atomically; the new number."""

    @abstractmethod
    def delete_value(self, key: str) -> bool:
        """Forget the value under `key`; whether there was one."""

    @abstractmethod
    def value_keys(self) -> list[str]:
        """The keys of every value kept (expired ones included until they are removed)."""

    @abstractmethod
    def cron_targets(self) -> Iterator[CronTarget]:
        """Every session whose head is cron-enabled (SessionHead.cron_enabled), and no other:
        the cost grows with those sessions, not with all of them."""

    @abstractmethod
    def idle_sessions(self, before: float) -> Iterator[IdleSession]:
        """Every session last modified before `before` (a time stamp), and no other."""

    @abstractmethod
    def delete_idle(self, interview: str, session_id: str, before: float) -> bool:
        """Delete the session as `delete` does, but only if it is still not modified since `before`
        (checked in the same write that removes its head); False if it was, or is gone."""

    @abstractmethod
    def step_numbers(self, interview: str, session_id: str) -> list[int]:
        """The step numbers stored for a session, ascending."""
