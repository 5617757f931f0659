"""Test doubles at the ports' interfaces, to steer a test without patching private methods.

`WrappedStore` is a SessionStore that hands every call to the store it wraps; a test
subclasses it and overrides the one call it intercepts (a commit to hold, a claim
that crashes, ...), then installs it with `dataclasses.replace(services, store=...)`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence

from chalicelib.engine.tasks import FINISHED, TaskStatus
from chalicelib.storage.base import SessionStore
from chalicelib.storage.effects import EffectRecord, EffectRef
from chalicelib.storage.mail import MailAddress, MailRecord
from chalicelib.storage.outbox import SendRecord, SendRef
from chalicelib.storage.records import CronTarget, IdleSession, Sealed, SessionHead, StepRecord
from chalicelib.storage.snapshots import SnapshotPage, SnapshotRecord
from chalicelib.storage.tasks import Notification, TaskRecord, TaskWrite


class WrappedStore(SessionStore):
    def __init__(self, inner: SessionStore) -> None:
        self.inner = inner

    def create(self, head: SessionHead, first: StepRecord) -> None:
        self.inner.create(head, first)

    def load(self, interview: str, session_id: str) -> tuple[SessionHead, StepRecord]:
        return self.inner.load(interview, session_id)

    def load_step(self, interview: str, session_id: str, step: int) -> StepRecord:
        return self.inner.load_step(interview, session_id, step)

    def commit(self, before: SessionHead, after: SessionHead, put: StepRecord | None,
               delete_steps: Sequence[int] = (), extras: Mapping[str, Sealed] | None = None,
               tasks: Sequence[TaskWrite] = (), notes: Sequence[Notification] = (),
               sends: Sequence[SendRecord] = (), addresses: Sequence[MailAddress] = (),
               snapshots: Sequence[SnapshotRecord] = (), effects: Sequence[EffectRecord] = (),
               marks: Sequence[str] = ()) -> None:
        self.inner.commit(before, after, put, delete_steps, extras, tasks, notes, sends=sends, addresses=addresses,
                          snapshots=snapshots, effects=effects, marks=marks)

    def list_snapshots(self, interview: str, session_id: str = "", tag: str | None = None, limit: int = 50,
                       start: str = "") -> SnapshotPage:
        return self.inner.list_snapshots(interview, session_id, tag, limit, start)

    def recorded_commit(self, outcomes: list[str], before: SessionHead, after: SessionHead,
                        put: StepRecord | None, delete_steps: Sequence[int] = (),
                        extras: Mapping[str, Sealed] | None = None, tasks: Sequence[TaskWrite] = (),
                        notes: Sequence[Notification] = ()) -> None:
        """Commit through the wrapped store, noting in `outcomes` how it went: "committed", or the
        class name of the error it raised (which is raised on)."""
        try:
            self.inner.commit(before, after, put, delete_steps, extras, tasks, notes)
        except Exception as err:
            outcomes.append(type(err).__name__)
            raise
        outcomes.append("committed")

    def write_tasks(self, tasks: Sequence[TaskWrite], notes: Sequence[Notification] = (),
                    sends: Sequence[SendRecord] = ()) -> None:
        self.inner.write_tasks(tasks, notes, sends)

    def update_send(self, record: SendRecord) -> bool:
        return self.inner.update_send(record)

    def list_sends(self, session_id: str) -> list[SendRecord]:
        return self.inner.list_sends(session_id)

    def due_sends(self, now: float) -> Iterator[SendRef]:
        return self.inner.due_sends(now)

    def claim_send(self, ref: SendRef, now: float, until: float) -> SendRecord | None:
        return self.inner.claim_send(ref, now, until)
    def update_effect(self, record: EffectRecord) -> bool:
        return self.inner.update_effect(record)

    def list_effects(self, session_id: str) -> list[EffectRecord]:
        return self.inner.list_effects(session_id)

    def due_effects(self, now: float) -> Iterator[EffectRef]:
        return self.inner.due_effects(now)

    def claim_effect(self, ref: EffectRef, now: float, until: float) -> EffectRecord | None:
        return self.inner.claim_effect(ref, now, until)

    def load_task(self, session_id: str, task_id: str) -> TaskRecord | None:
        return self.inner.load_task(session_id, task_id)

    def list_tasks(self, session_id: str) -> list[TaskRecord]:
        return self.inner.list_tasks(session_id)

    def take_notifications(self, session_id: str) -> list[Notification]:
        return self.inner.take_notifications(session_id)

    def find_address(self, short: str) -> MailAddress | None:
        return self.inner.find_address(short)

    def list_addresses(self, session_id: str) -> list[MailAddress]:
        return self.inner.list_addresses(session_id)

    def put_mail(self, mail: MailRecord) -> None:
        self.inner.put_mail(mail)

    def list_mail(self, session_id: str) -> list[MailRecord]:
        return self.inner.list_mail(session_id)

    def put_file(self, session_id: str, name: str, sealed: Sealed) -> None:
        self.inner.put_file(session_id, name, sealed)

    def get_file(self, session_id: str, name: str) -> Sealed | None:
        return self.inner.get_file(session_id, name)

    def load_extra(self, interview: str, session_id: str, name: str) -> Sealed | None:
        return self.inner.load_extra(interview, session_id, name)

    def delete(self, interview: str, session_id: str) -> None:
        self.inner.delete(interview, session_id)

    def list_heads(self, interview: str | None = None, owner: str | None = None) -> Iterator[SessionHead]:
        return self.inner.list_heads(interview, owner)

    def put_stash(self, key: str, sealed: Sealed, expires_at: float) -> None:
        self.inner.put_stash(key, sealed, expires_at)

    def get_stash(self, key: str) -> tuple[Sealed, float] | None:
        return self.inner.get_stash(key)

    def delete_stash(self, key: str) -> None:
        self.inner.delete_stash(key)

    def append_record(self, key: str, sealed: Sealed) -> int:
        return self.inner.append_record(key, sealed)

    def records(self, key: str) -> list[tuple[int, Sealed]]:
        return self.inner.records(key)

    def delete_record(self, key: str, record_id: int) -> None:
        self.inner.delete_record(key, record_id)

    def put_value(self, key: str, value: bytes, expires_at: float) -> None:
        self.inner.put_value(key, value, expires_at)

    def get_value(self, key: str) -> tuple[bytes, float] | None:
        return self.inner.get_value(key)

    def add_to_value(self, key: str, amount: int) -> int:
        return self.inner.add_to_value(key, amount)

    def delete_value(self, key: str) -> bool:
        return self.inner.delete_value(key)

    def value_keys(self) -> list[str]:
        return self.inner.value_keys()

    def cron_targets(self) -> Iterator[CronTarget]:
        return self.inner.cron_targets()

    def idle_sessions(self, before: float) -> Iterator[IdleSession]:
        return self.inner.idle_sessions(before)

    def delete_idle(self, interview: str, session_id: str, before: float) -> bool:
        return self.inner.delete_idle(interview, session_id, before)

    def step_numbers(self, interview: str, session_id: str) -> list[int]:
        return self.inner.step_numbers(interview, session_id)


def finishes_a_task(tasks: Sequence[TaskWrite]) -> bool:
    """True for the writes of a worker finishing a task it holds (a callback's commit carries one)."""
    return any(w.expect_status == TaskStatus.RUNNING and w.record.status in FINISHED for w in tasks)


def claims_a_task(tasks: Sequence[TaskWrite]) -> bool:
    """True for the write of a worker claiming a task: running, as one more attempt."""
    return any(w.record.status == TaskStatus.RUNNING and w.expect_status is not None
               and w.record.attempts == (w.expect_attempts or 0) + 1 for w in tasks)


class FakeClock:
    """A runtime Clock that takes no real time: `sleep` moves its time on (after running
    `on_sleep`, if given, as whatever happens meanwhile) and notes each pause in `sleeps`."""

    def __init__(self, on_sleep: Callable[[], None] | None = None) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []
        self.on_sleep = on_sleep

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if self.on_sleep is not None:
            self.on_sleep()
        self.now += seconds
