"""Background tasks: their records, the outbox, the sweep, and notifications.

Life of a task (docs/architecture.md, "Background tasks"; the worker's part is in runtime.worker):

1. `background_action()` puts a NewTask in the turn's outbox. The turn's commit
   writes the task record (queued) in the same transaction as the step; only
   after the commit is the queue message sent, so the worker sees the answers
   that started it.
2. The worker claims the task (conditional queued → running, with a lease), runs
   the action on the latest answers as the user who started it, and finishes it
   (done/failed) with a conditional write. The write that finishes (or revokes) a
   task also drops its payload and wrapped session key, so a finished task holds
   no key; task and notification items expire (TTL) TASK_RECORD_DAYS later.
3. Any read of a session's tasks sweeps it: a running task whose lease ran out,
   or a queued one whose message was lost, is sent again. No task hangs.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from chalicelib.engine.request import UserInfo
from chalicelib.engine.signals import UiNotification
from chalicelib.engine.tasks import FINISHED, NewTask, TaskSnapshot, TaskStatus
from chalicelib.runtime.queue import TaskQueue
from chalicelib.storage.errors import StorageError, TaskStateError
from chalicelib.storage.records import BlobKind, SessionHead
from chalicelib.storage.sealing import Place
from chalicelib.storage.tasks import Notification, TaskRecord, TaskWrite

if TYPE_CHECKING:
    from chalicelib.runtime.services import Services

log = logging.getLogger(__name__)

_DAY_SECONDS = 86400
# An unfinished task expires this long after its last write: far past any lease,
# retry or the dead-letter queue's 14 days, so a task nobody finishes does not stay forever.
_UNFINISHED_TASK_DAYS = 30


def _kind(task: TaskRecord) -> BlobKind:
    """How the task's payload and result are sealed; a task stored before kinds were had
    a wrapped key exactly when they were encrypted."""
    return task.kind or BlobKind.of(bool(task.key_wrap))


class TaskService:
    def __init__(self, services: Services, queue: TaskQueue) -> None:
        self.services = services
        self.queue = queue
        self.settings = services.settings

    # ------------------------------------------------------------------ sealing
    def open_blob(self, task: TaskRecord, blob: bytes, place: Place, key: bytes | None) -> Any:
        return self.services.sealer.open(blob, _kind(task), place, key) if blob else None

    def session_key(self, task: TaskRecord) -> bytes | None:
        """The session key, unwrapped (None for unencrypted sessions and finished tasks)."""
        if not task.key_wrap:
            return None
        return self.services.sealer.unwrap_key(task.key_wrap, task.session_id, task.task_id)

    def expires(self, now: float, finished: bool) -> float:
        """When a task or notification item written at `now` may be deleted by the table's TTL."""
        days = self.settings.task_record_days if finished else max(_UNFINISHED_TASK_DAYS,
                                                                    self.settings.task_record_days)
        return now + days * _DAY_SECONDS

    # ------------------------------------------------------------------ outbox
    def new_records(self, head: SessionHead, key: bytes | None, user: UserInfo,
                    outbox: Sequence[NewTask]) -> list[TaskWrite]:
        """Task records for the tasks a turn asked for; written with the turn's commit."""
        now = time.time()
        sealed_key = key if head.encrypted else None
        sealer = self.services.sealer
        writes = []
        for new in outbox:
            kind = BlobKind.of(sealed_key is not None)
            if new.revoked:  # revoked in the turn that made it: it never runs, so it gets no payload or key
                record = TaskRecord(head.session_id, new.task_id, head.interview, new.action, TaskStatus.FAILED, now,
                                    ui=new.ui or "", revoked=True, finished=now, reason="revoked", kind=kind,
                                    expires_at=self.expires(now, finished=True))
                writes.append(TaskWrite(record))
                continue
            payload = sealer.seal({"arguments": new.arguments, "user": dataclasses.asdict(user)},
                                  Place.task_payload(head.session_id, new.task_id), sealed_key)
            wrap = sealer.wrap_key(sealed_key, head.session_id, new.task_id) if sealed_key else b""
            writes.append(TaskWrite(TaskRecord(
                head.session_id, new.task_id, head.interview, new.action, TaskStatus.QUEUED, now, ui=new.ui or "",
                payload=payload.blob, key_wrap=wrap, kind=payload.kind, expires_at=self.expires(now, finished=False))))
        return writes

    def enqueue(self, records: Sequence[TaskRecord]) -> None:
        """Send the messages of committed tasks. A lost send is recovered by the sweep."""
        records = [r for r in records if r.status == TaskStatus.QUEUED]
        if not records:
            return
        try:
            self.queue.send([{"i": r.interview, "session": r.session_id, "task": r.task_id} for r in records])
        except Exception:  # the task is stored; the next sweep sends it again
            log.exception("could not enqueue %d task(s) of %s; the sweep will retry", len(records),
                          records[0].session_id)

    # ------------------------------------------------------------------ reading
    def snapshot(self, task: TaskRecord, key: bytes | None) -> TaskSnapshot:
        result = self.open_blob(task, task.result, Place.task_result(task.session_id, task.task_id), key) or {}
        return TaskSnapshot(task.task_id, task.action, task.status, result.get("value"), result.get("error_type"),
                            result.get("error_message"), result.get("error_trace"), result.get("variables") or [])

    def records(self, session_id: str, sweep: bool = True) -> list[TaskRecord]:
        """The session's tasks. One past its `expires_at` is gone, even while DynamoDB's TTL,
        which may take days, has not deleted it yet."""
        now = time.time()
        tasks = [t for t in self.services.store.list_tasks(session_id) if not t.expires_at or t.expires_at > now]
        if not sweep:
            return tasks
        revived = {t.task_id: t for t in self.sweep(tasks)}
        return [revived.get(t.task_id, t) for t in tasks]

    def sweep(self, tasks: Sequence[TaskRecord]) -> list[TaskRecord]:
        """Send again a running task whose lease ran out, or a queued one long unclaimed;
        returns the tasks it sent again, as they are now."""
        sent: list[TaskRecord] = []
        now = time.time()
        stale_after = 2 * self.settings.task_lease_seconds
        for task in tasks:
            if task.revoked or task.status in FINISHED:
                continue
            expired = task.status == TaskStatus.RUNNING and task.lease_until < now
            lost = task.status == TaskStatus.QUEUED and max(task.created, task.lease_until) + stale_after < now
            if not (expired or lost):
                continue
            revived = dataclasses.replace(task, status=TaskStatus.QUEUED, lease_until=now,
                                          expires_at=self.expires(now, finished=False))
            try:
                self.services.store.write_tasks([TaskWrite(revived, task.status, task.attempts)])
            except TaskStateError:
                continue
            log.warning("task %s (%s) of %s was %s; sending it again", task.task_id, task.action, task.session_id,
                        "past its lease" if expired else "never picked up")
            self.enqueue([revived])
            sent.append(revived)
        return sent

    def revoke(self, session_id: str, task_id: str, terminate: bool = True) -> bool:
        """Cancel a task that has not finished: it ends failed, with reason "revoked". A queued task
        then never runs. A running one (only with `terminate`) cannot be stopped in the middle of
        its code, but the worker checks before each step it controls (the callback, the error
        callback, the finishing write, which is conditional), so nothing it would still save is
        saved. True if the task was cancelled."""
        task = self.services.store.load_task(session_id, task_id)
        if task is None or task.status in FINISHED or (task.status == TaskStatus.RUNNING and not terminate):
            return False
        now = time.time()
        cancelled = dataclasses.replace(task, status=TaskStatus.FAILED, revoked=True, finished=now, reason="revoked",
                                        payload=b"", key_wrap=b"", expires_at=self.expires(now, finished=True))
        try:
            self.services.store.write_tasks([TaskWrite(cancelled, task.status, task.attempts)])
        except TaskStateError:
            return False
        return True

    # ------------------------------------------------------------------ check-in
    def notify(self, task: TaskRecord, value: Any, key: bytes | None) -> list[Notification]:
        if not task.ui:
            return []
        command = {"action": task.action, "value": None if task.ui == UiNotification.REFRESH else value,
                   "extra": task.ui}
        now = time.time_ns()
        note_id = f"{now:020d}-{task.task_id}"
        sealed = self.services.sealer.seal(command, Place.note(task.session_id, note_id), key)
        return [Notification(task.session_id, note_id, sealed.blob, sealed.kind,
                             self.expires(now / 1e9, finished=True))]

    def take_commands(self, head: SessionHead, key: bytes | None) -> list[dict[str, Any]]:
        """The waiting notifications, each delivered to exactly one check-in."""
        commands: list[dict[str, Any]] = []
        session_id = head.session_id
        for note in self.services.store.take_notifications(session_id):
            try:
                kind = note.kind or BlobKind.of(head.encrypted)
                command: Any = self.services.sealer.open(note.blob, kind, Place.note(session_id, note.note_id), key)
            except StorageError as err:
                log.warning("dropped a notification of %s that could not be opened: %s", session_id, err)
                continue
            commands.append(command)
        return commands

    def finished(self, task: TaskRecord, status: str, result: dict[str, Any], key: bytes | None,
                  reason: str = "") -> TaskRecord:
        """The task as the write that finishes it leaves it: with its result, and without its
        payload and wrapped key (nothing may open the session through a finished task)."""
        now = time.time()
        sealed = self.services.sealer.seal(result, Place.task_result(task.session_id, task.task_id), key)
        return dataclasses.replace(task, status=status, finished=now, reason=reason, result=sealed.blob,
                                   kind=sealed.kind, payload=b"", key_wrap=b"",
                                   expires_at=self.expires(now, finished=True))


