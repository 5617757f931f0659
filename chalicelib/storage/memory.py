"""In-memory session and account stores: the fakes unit tests run against.

They keep the semantics of the DynamoDB stores (a conditional commit that
writes nothing on a version conflict, unique session ids and e-mails), and one
lock makes each call atomic, as a DynamoDB transaction is.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace

from chalicelib.storage.accounts import AccountStore, ApiKeyRecord
from chalicelib.storage.base import SessionStore, check_commit
from chalicelib.storage.effects import EffectRecord, EffectRef, EffectStatus
from chalicelib.storage.errors import (
    AccountError,
    AlreadyAppliedError,
    SessionExistsError,
    SessionNotFoundError,
    TaskStateError,
    VersionConflictError,
)
from chalicelib.storage.mail import MailAddress, MailRecord
from chalicelib.storage.outbox import SendRecord, SendRef, SendStatus
from chalicelib.storage.records import CronTarget, IdleSession, Sealed, SessionHead, StepRecord, User
from chalicelib.storage.session_values import owned_by
from chalicelib.storage.snapshots import SnapshotPage, SnapshotRecord, snapshot_sk
from chalicelib.storage.tasks import Notification, TaskRecord, TaskWrite


@dataclass
class _Session:
    head: SessionHead
    steps: dict[int, StepRecord] = field(default_factory=dict)
    extras: dict[str, Sealed] = field(default_factory=dict)


class MemorySessionStore(SessionStore):
    def __init__(self) -> None:
        self._sessions: dict[str, _Session] = {}
        self._tasks: dict[tuple[str, str], TaskRecord] = {}
        self._notes: dict[str, dict[str, Notification]] = {}
        self._files: dict[tuple[str, str], Sealed] = {}
        self._addresses: dict[str, MailAddress] = {}
        self._mail: dict[tuple[str, str], MailRecord] = {}
        self._stash: dict[str, tuple[Sealed, float]] = {}
        self._records: dict[str, tuple[int, dict[int, Sealed]]] = {}
        self._values: dict[str, tuple[bytes, float]] = {}
        self._sends: dict[tuple[str, str], SendRecord] = {}
        self._snapshots: dict[tuple[str, str], SnapshotRecord] = {}  # (interview, session#tag)
        self._effects: dict[tuple[str, str], EffectRecord] = {}
        self._marks: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def _session(self, interview: str, session_id: str) -> _Session:
        """The stored session; call with the lock held."""
        session = self._sessions.get(session_id)
        if session is None or session.head.interview != interview:
            raise SessionNotFoundError(f"no session {session_id!r} in interview {interview!r}")
        return session

    def create(self, head: SessionHead, first: StepRecord) -> None:
        with self._lock:
            if head.session_id in self._sessions:
                raise SessionExistsError(f"session id {head.session_id!r} is taken; pick another id")
            self._sessions[head.session_id] = _Session(head, {first.step: first})

    def load(self, interview: str, session_id: str) -> tuple[SessionHead, StepRecord]:
        with self._lock:
            session = self._session(interview, session_id)
            head = session.head
            return head, self._step(session, head.step)

    def load_step(self, interview: str, session_id: str, step: int) -> StepRecord:
        with self._lock:
            return self._step(self._session(interview, session_id), step)

    @staticmethod
    def _step(session: _Session, step: int) -> StepRecord:
        try:
            return session.steps[step]
        except KeyError:
            raise SessionNotFoundError(
                f"session {session.head.session_id!r} has no step {step}; it holds {sorted(session.steps)}"
            ) from None

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
        check_commit(before, after, put, delete_steps, extras,
                     len(tasks) + len(notes) + len(sends) + 2 * len(addresses) + 2 * len(snapshots)
                     + len(effects) + len(marks))
        with self._lock:
            session = self._session(before.interview, before.session_id)
            if session.head.version != before.version or self._sends_taken(sends) or any(
                    (r.session_id, r.key) in self._effects for r in effects):
                raise VersionConflictError(
                    f"session {before.session_id!r} is at version {session.head.version}, not"
                    f" {before.version}; reload it and apply the change again"
                )
            self._check_tasks(tasks)
            if any((before.session_id, mark) in self._marks for mark in marks):
                raise AlreadyAppliedError(f"session {before.session_id!r} has applied this effect already")
            if any(address.short in self._addresses for address in addresses):
                raise VersionConflictError("a new mail address's short code is taken; evaluate again to draw another")
            self._apply_tasks(tasks, notes)
            self._addresses.update({address.short: address for address in addresses})
            self._sends.update({(r.session_id, r.key): r for r in sends})
            self._effects.update({(r.session_id, r.key): r for r in effects})
            self._marks.update((before.session_id, mark) for mark in marks)
            if put is not None:
                session.steps[put.step] = put
            for step in delete_steps:
                session.steps.pop(step, None)
            session.extras.update(extras or {})
            self._snapshots.update({(r.interview, snapshot_sk(r.session_id, r.tag)): r for r in snapshots})
            session.head = after

    def list_snapshots(self, interview: str, session_id: str = "", tag: str | None = None, limit: int = 50,
                       start: str = "") -> SnapshotPage:
        with self._lock:
            found = sorted((sk, r) for (i, sk), r in self._snapshots.items() if i == interview and sk > start
                           and (not session_id or r.session_id == session_id) and (tag is None or r.tag == tag))
        if len(found) > limit:
            return SnapshotPage([r for _, r in found[:limit]], found[limit - 1][0])
        return SnapshotPage([r for _, r in found])

    def _check_tasks(self, tasks: Sequence[TaskWrite]) -> None:
        """Raise TaskStateError unless every task is in its expected state; call with the lock held."""
        for write in tasks:
            stored = self._tasks.get((write.record.session_id, write.record.task_id))
            if write.expect_status is None:
                if stored is not None:
                    raise TaskStateError(f"task {write.record.task_id!r} exists already")
            elif stored is None or stored.status != write.expect_status or (
                    write.expect_attempts is not None and stored.attempts != write.expect_attempts):
                raise TaskStateError(f"task {write.record.task_id!r} is no longer {write.expect_status}")

    def _apply_tasks(self, tasks: Sequence[TaskWrite], notes: Sequence[Notification]) -> None:
        for write in tasks:
            self._tasks[(write.record.session_id, write.record.task_id)] = write.record
        for note in notes:
            self._notes.setdefault(note.session_id, {})[note.note_id] = note

    def write_tasks(self, tasks: Sequence[TaskWrite], notes: Sequence[Notification] = (),
                    sends: Sequence[SendRecord] = ()) -> None:
        with self._lock:
            self._check_tasks(tasks)
            if self._sends_taken(sends):
                raise TaskStateError("a send of this write is recorded already; nothing was written")
            self._apply_tasks(tasks, notes)
            self._sends.update({(r.session_id, r.key): r for r in sends})

    def _sends_taken(self, sends: Sequence[SendRecord]) -> bool:
        return any((r.session_id, r.key) in self._sends for r in sends)

    def update_send(self, record: SendRecord) -> bool:
        with self._lock:
            stored = self._sends.get((record.session_id, record.key))
            if stored is None or stored.status != SendStatus.PENDING or stored.attempts != record.attempts:
                return False
            finished = record.status != SendStatus.PENDING
            self._sends[(record.session_id, record.key)] = replace(record, payload=b"", due=0.0) \
                if finished else record
            return True

    def due_sends(self, now: float) -> Iterator[SendRef]:
        with self._lock:
            due = [SendRef(r.session_id, r.key) for r in self._sends.values()
                   if r.status == SendStatus.PENDING and r.payload and r.due < now]
        yield from due

    def claim_send(self, ref: SendRef, now: float, until: float) -> SendRecord | None:
        with self._lock:
            stored = self._sends.get((ref.session_id, ref.key))
            if stored is None or stored.status != SendStatus.PENDING or not stored.due < now:
                return None
            claimed = replace(stored, due=until, attempts=stored.attempts + 1)
            self._sends[(ref.session_id, ref.key)] = claimed
            return claimed

    def list_sends(self, session_id: str) -> list[SendRecord]:
        with self._lock:
            found = [r for (sid, _), r in self._sends.items() if sid == session_id]
        return sorted(found, key=lambda r: (r.created, r.key))

    def update_effect(self, record: EffectRecord) -> bool:
        with self._lock:
            stored = self._effects.get((record.session_id, record.key))
            if stored is None or stored.status != EffectStatus.PENDING or stored.attempts != record.attempts:
                return False
            finished = record.status != EffectStatus.PENDING
            self._effects[(record.session_id, record.key)] = replace(record, payload=b"", due=0.0) \
                if finished else record
            return True

    def due_effects(self, now: float) -> Iterator[EffectRef]:
        with self._lock:
            due = [EffectRef(r.session_id, r.key) for r in self._effects.values()
                   if r.status == EffectStatus.PENDING and r.payload and r.due and r.due < now]
        yield from due

    def claim_effect(self, ref: EffectRef, now: float, until: float) -> EffectRecord | None:
        with self._lock:
            stored = self._effects.get((ref.session_id, ref.key))
            if stored is None or stored.status != EffectStatus.PENDING or not stored.due < now:
                return None
            claimed = replace(stored, due=until, attempts=stored.attempts + 1)
            self._effects[(ref.session_id, ref.key)] = claimed
            return claimed

    def list_effects(self, session_id: str) -> list[EffectRecord]:
        with self._lock:
            found = [r for (sid, _), r in self._effects.items() if sid == session_id]
        return sorted(found, key=lambda r: (r.created, r.key))

    def load_task(self, session_id: str, task_id: str) -> TaskRecord | None:
        with self._lock:
            return self._tasks.get((session_id, task_id))

    def list_tasks(self, session_id: str) -> list[TaskRecord]:
        with self._lock:
            found = [t for (sid, _), t in self._tasks.items() if sid == session_id]
        return sorted(found, key=lambda t: (t.created, t.task_id))

    def take_notifications(self, session_id: str) -> list[Notification]:
        with self._lock:
            taken = self._notes.pop(session_id, {})
        return [taken[k] for k in sorted(taken)]

    def find_address(self, short: str) -> MailAddress | None:
        with self._lock:
            return self._addresses.get(short)

    def list_addresses(self, session_id: str) -> list[MailAddress]:
        with self._lock:
            found = [a for a in self._addresses.values() if a.session_id == session_id]
        return sorted(found, key=lambda a: (a.created, a.short))

    def put_mail(self, mail: MailRecord) -> None:
        with self._lock:
            self._mail[(mail.session_id, mail.mail_id)] = mail

    def list_mail(self, session_id: str) -> list[MailRecord]:
        with self._lock:
            found = [m for (owner, _), m in self._mail.items() if owner == session_id]
        return sorted(found, key=lambda m: (m.received, m.mail_id))

    def put_file(self, session_id: str, name: str, sealed: Sealed) -> None:
        with self._lock:
            self._files[(session_id, name)] = sealed

    def get_file(self, session_id: str, name: str) -> Sealed | None:
        with self._lock:
            return self._files.get((session_id, name))

    def load_extra(self, interview: str, session_id: str, name: str) -> Sealed | None:
        with self._lock:
            return self._session(interview, session_id).extras.get(name)

    def delete(self, interview: str, session_id: str) -> None:
        with self._lock:
            session = self._sessions.get(session_id)
            if session is not None and session.head.interview == interview:
                self._drop(session_id)

    def _drop(self, session_id: str) -> None:
        """Remove the session and everything it owns; the caller holds the lock."""
        del self._sessions[session_id]
        self._notes.pop(session_id, None)
        for key in [k for k in self._files if k[0] == session_id]:
            del self._files[key]
        for key in [k for k in self._tasks if k[0] == session_id]:
            del self._tasks[key]
        for short in [s for s, a in self._addresses.items() if a.session_id == session_id]:
            del self._addresses[short]
        for key in [k for k, r in self._snapshots.items() if r.session_id == session_id and not r.persistent]:
            del self._snapshots[key]
        for mail in [k for k in self._mail if k[0] == session_id]:
            del self._mail[mail]
        for key in [k for k in self._sends if k[0] == session_id]:
            del self._sends[key]
        for key in [k for k in self._effects if k[0] == session_id]:
            del self._effects[key]
        self._marks = {m for m in self._marks if m[0] != session_id}
        for name in [k for k in self._values if owned_by(k, session_id)]:
            del self._values[name]

    def list_heads(self, interview: str | None = None, owner: str | None = None) -> Iterator[SessionHead]:
        if owner == "":
            raise ValueError("owner must be a user id; anonymous sessions are not listed by owner")
        with self._lock:
            heads = [s.head for s in self._sessions.values()]
        if interview is not None:
            heads = [h for h in heads if h.interview == interview]
        if owner is not None:
            heads = [h for h in heads if h.owner == owner]
        return iter(sorted(heads, key=lambda h: h.modified))

    def put_stash(self, key: str, sealed: Sealed, expires_at: float) -> None:
        with self._lock:
            self._stash[key] = (sealed, expires_at)

    def get_stash(self, key: str) -> tuple[Sealed, float] | None:
        with self._lock:
            return self._stash.get(key)

    def delete_stash(self, key: str) -> None:
        with self._lock:
            self._stash.pop(key, None)

    def append_record(self, key: str, sealed: Sealed) -> int:
        with self._lock:
            last, rows = self._records.get(key, (0, {}))
            rows[last + 1] = sealed
            self._records[key] = (last + 1, rows)
            return last + 1

    def records(self, key: str) -> list[tuple[int, Sealed]]:
        with self._lock:
            return sorted(self._records.get(key, (0, {}))[1].items())

    def delete_record(self, key: str, record_id: int) -> None:
        with self._lock:
            self._records.get(key, (0, {}))[1].pop(record_id, None)

    def put_value(self, key: str, value: bytes, expires_at: float) -> None:
        with self._lock:
            self._values[key] = (value, expires_at)

    def get_value(self, key: str) -> tuple[bytes, float] | None:
        with self._lock:
            return self._values.get(key)

    def add_to_value(self, key: str, amount: int) -> int:
        with self._lock:
            value, expires_at = self._values.get(key, (b"0", 0.0))
            number = int(value) + amount
            self._values[key] = (str(number).encode(), expires_at)
            return number

    def delete_value(self, key: str) -> bool:
        with self._lock:
            return self._values.pop(key, None) is not None

    def value_keys(self) -> list[str]:
        with self._lock:
            return sorted(self._values)

    def cron_targets(self) -> Iterator[CronTarget]:
        with self._lock:
            heads = [s.head for s in self._sessions.values()]
        return iter([CronTarget(h.interview, h.session_id) for h in heads if h.cron_enabled])

    def idle_sessions(self, before: float) -> Iterator[IdleSession]:
        with self._lock:
            heads = [s.head for s in self._sessions.values()]
        return iter([IdleSession(h.interview, h.session_id, h.modified) for h in heads if h.modified < before])

    def delete_idle(self, interview: str, session_id: str, before: float) -> bool:
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None or session.head.interview != interview or session.head.modified >= before:
                return False
            self._drop(session_id)
        return True

    def step_numbers(self, interview: str, session_id: str) -> list[int]:
        with self._lock:
            session = self._sessions.get(session_id)
            return sorted(session.steps) if session is not None else []


class MemoryAccountStore(AccountStore):
    def __init__(self) -> None:
        self._users: dict[str, User] = {}
        self._api_keys: dict[str, ApiKeyRecord] = {}
        self._counts: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    def _put_user(self, user: User) -> None:
        with self._lock:
            if user.email in self._users:
                raise AccountError(f"a user with e-mail {user.email!r} exists; log in or use another e-mail")
            self._users[user.email] = user

    def _get_user(self, email: str) -> User | None:
        with self._lock:
            return self._users.get(email)

    def _replace_user(self, user: User, expected_hash: str) -> None:
        with self._lock:
            stored = self._users.get(user.email)
            if stored is None or stored.password_hash != expected_hash:
                raise AccountError("the password was changed meanwhile; sign in again")
            self._users[user.email] = user

    def _count(self, pk: str, sk: str, expires_at: int) -> int:
        with self._lock:
            count = self._counts.get((pk, sk), 0) + 1
            self._counts[(pk, sk)] = count
            return count

    def _put_api_key(self, record: ApiKeyRecord) -> None:
        with self._lock:
            if record.key_hash in self._api_keys:
                raise AccountError("this API key is already registered; generate a new key")
            self._api_keys[record.key_hash] = record

    def _get_api_key(self, key_hash: str) -> ApiKeyRecord | None:
        with self._lock:
            return self._api_keys.get(key_hash)
