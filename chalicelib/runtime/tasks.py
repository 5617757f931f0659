"""Background tasks: records for the outbox, the worker, the sweep, and notifications.

Life of a task (docs/architecture.md, "Background tasks"):

1. `background_action()` puts a NewTask in the turn's outbox. The turn's commit
   writes the task record (queued) in the same transaction as the step; only
   after the commit is the queue message sent, so the worker sees the answers
   that started it.
2. The worker claims the task (conditional queued → running, with a lease), runs
   the action on a copy of the latest answers as the user who started it, and
   finishes it (done/failed) with a conditional write. A `background_response_action`
   callback is a turn whose commit also finishes the task, so a redelivered
   message can never apply it twice. The write that finishes (or revokes) a task
   also drops its payload and wrapped session key, so a finished task holds no
   key; task and notification items expire (TTL) TASK_RECORD_DAYS later.
3. A failure is retried with backoff up to TASK_MAX_ATTEMPTS; the last one fails
   the task (running `background_error_action`'s callback) and leaves the message
   to SQS's redrive into the dead-letter queue. The DLQ handler fails any task
   that never finished (a worker that crashed every time).
4. Any read of a session's tasks sweeps it: a running task whose lease ran out,
   or a queued one whose message was lost, is sent again. No task hangs.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from chalicelib.engine.errors import EngineError, InterviewCodeError
from chalicelib.engine.evaluator import Evaluation, Request, UserInfo
from chalicelib.engine.screen import Outcome, OutcomeKind
from chalicelib.engine.tasks import NewTask, TaskSnapshot
from chalicelib.library import namespace
from chalicelib.runtime import links
from chalicelib.runtime.queue import TaskQueue
from chalicelib.storage.errors import SessionNotFoundError, StorageError, TaskStateError
from chalicelib.storage.records import BlobKind, SessionHead
from chalicelib.storage.sealing import Place
from chalicelib.storage.tasks import (
    DONE,
    FAILED,
    FINISHED,
    QUEUED,
    RUNNING,
    Notification,
    TaskRecord,
    TaskWrite,
)

if TYPE_CHECKING:
    from chalicelib.runtime.services import Services
    from chalicelib.runtime.sessions import SessionRef, Sessions

log = logging.getLogger(__name__)


class Disposition(enum.Enum):
    ACK = "ack"  # done with this message: delete it
    RETRY = "retry"  # try again after a delay (a batch item failure)
    GIVE_UP = "give_up"  # the task is failed; let the redrive move the message to the DLQ


@dataclasses.dataclass(frozen=True)
class Handled:
    disposition: Disposition
    delay: int = 0


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
    def _open(self, task: TaskRecord, blob: bytes, place: Place, key: bytes | None) -> Any:
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
                record = TaskRecord(head.session_id, new.task_id, head.interview, new.action, FAILED, now,
                                    ui=new.ui or "", revoked=True, finished=now, reason="revoked", kind=kind,
                                    expires_at=self.expires(now, finished=True))
                writes.append(TaskWrite(record))
                continue
            payload = sealer.seal({"arguments": new.arguments, "user": dataclasses.asdict(user)},
                                  Place.task_payload(head.session_id, new.task_id), sealed_key)
            wrap = sealer.wrap_key(sealed_key, head.session_id, new.task_id) if sealed_key else b""
            writes.append(TaskWrite(TaskRecord(
                head.session_id, new.task_id, head.interview, new.action, QUEUED, now, ui=new.ui or "",
                payload=payload.blob, key_wrap=wrap, kind=payload.kind, expires_at=self.expires(now, finished=False))))
        return writes

    def enqueue(self, records: Sequence[TaskRecord]) -> None:
        """Send the messages of committed tasks. A lost send is recovered by the sweep."""
        records = [r for r in records if r.status == QUEUED]
        if not records:
            return
        try:
            self.queue.send([{"i": r.interview, "session": r.session_id, "task": r.task_id} for r in records])
        except Exception:  # the task is stored; the next sweep sends it again
            log.exception("could not enqueue %d task(s) of %s; the sweep will retry", len(records),
                          records[0].session_id)

    # ------------------------------------------------------------------ reading
    def snapshot(self, task: TaskRecord, key: bytes | None) -> TaskSnapshot:
        result = self._open(task, task.result, Place.task_result(task.session_id, task.task_id), key) or {}
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
            expired = task.status == RUNNING and task.lease_until < now
            lost = task.status == QUEUED and max(task.created, task.lease_until) + stale_after < now
            if not (expired or lost):
                continue
            revived = dataclasses.replace(task, status=QUEUED, lease_until=now,
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

    def revoke(self, session_id: str, task_id: str) -> bool:
        task = self.services.store.load_task(session_id, task_id)
        if task is None or task.status in FINISHED:
            return False
        now = time.time()
        cancelled = dataclasses.replace(task, status=FAILED, revoked=True, finished=now, reason="revoked",
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
        command = {"action": task.action, "value": None if task.ui == "refresh" else value, "extra": task.ui}
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

    # ------------------------------------------------------------------ the worker
    def handle(self, body: str) -> Handled:
        """One queue message: claim the task, run it, finish it."""
        try:
            message = json.loads(body)
            session_id, task_id = str(message["session"]), str(message["task"])
        except (ValueError, KeyError, TypeError):
            log.error("dropped a task message that is not ours: %.200s", body)
            return Handled(Disposition.ACK)
        task = self.services.store.load_task(session_id, task_id)
        if task is None or task.revoked or task.status in FINISHED:
            return Handled(Disposition.ACK)  # gone, cancelled, or a duplicate of a finished task
        now = time.time()
        if task.status == RUNNING and task.lease_until > now:
            return Handled(Disposition.ACK)  # a duplicate while another worker holds it
        claimed = dataclasses.replace(task, status=RUNNING, attempts=task.attempts + 1,
                                      lease_until=now + self.settings.task_lease_seconds,
                                      expires_at=self.expires(now, finished=False))
        try:
            self.services.store.write_tasks([TaskWrite(claimed, task.status, task.attempts)])
        except TaskStateError:
            return Handled(Disposition.ACK)  # another worker claimed it first
        return _Run(self, claimed).run()

    def abandon(self, body: str) -> None:
        """A message reached the dead-letter queue: fail its task if it never finished."""
        try:
            message = json.loads(body)
            task = self.services.store.load_task(str(message["session"]), str(message["task"]))
        except (ValueError, KeyError, TypeError):
            return
        if task is None or task.status in FINISHED:
            return
        reason = f"gave up after {task.attempts} attempt(s): the worker never finished it"
        try:
            key = self.session_key(task)
        except StorageError:  # a key that cannot be unwrapped: the result (no answers in it) is signed
            key = None
        result: dict[str, Any] = {"value": None, "error_type": "TaskAbandoned", "error_message": reason,
                                  "error_trace": "", "variables": []}
        failed = self._finished(task, FAILED, result, key, reason)
        try:
            self.services.store.write_tasks([TaskWrite(failed, task.status, task.attempts)])
            log.error("task %s (%s) of %s %s", task.task_id, task.action, task.session_id, reason)
        except TaskStateError:
            pass

    def _finished(self, task: TaskRecord, status: str, result: dict[str, Any], key: bytes | None,
                  reason: str = "") -> TaskRecord:
        """The task as the write that finishes it leaves it: with its result, and without its
        payload and wrapped key (nothing may open the session through a finished task)."""
        now = time.time()
        sealed = self.services.sealer.seal(result, Place.task_result(task.session_id, task.task_id), key)
        return dataclasses.replace(task, status=status, finished=now, reason=reason, result=sealed.blob,
                                   kind=sealed.kind, payload=b"", key_wrap=b"",
                                   expires_at=self.expires(now, finished=True))


def _user(data: dict[str, Any]) -> UserInfo:
    known = {f.name for f in dataclasses.fields(UserInfo)}
    values: dict[str, Any] = {k: v for k, v in data.items() if k in known}
    if "privileges" in values:
        values["privileges"] = tuple(values["privileges"])
    return UserInfo(**values)


class _Run:
    """One attempt at one claimed task."""

    def __init__(self, service: TaskService, task: TaskRecord) -> None:
        self.service = service
        self.task = task
        self.key = service.session_key(task)
        payload = service._open(task, task.payload, Place.task_payload(task.session_id, task.task_id),
                                self.key) or {}
        self.arguments: dict[str, Any] = dict(payload.get("arguments") or {})
        self.user = _user(payload.get("user") or {})

    @property
    def sessions(self) -> Sessions:
        from chalicelib.runtime.sessions import Sessions

        return Sessions(self.service.services, self.service)

    @property
    def ref(self) -> SessionRef:
        from chalicelib.runtime.sessions import SessionRef

        return SessionRef(self.task.interview, self.task.session_id, None, key=self.key)

    def run(self) -> Handled:
        task = self.task
        try:
            _, answers = self.sessions.read(self.ref)
        except SessionNotFoundError:
            self._finish(FAILED, {"value": None, "error_type": "SessionGone", "error_message": "the session was "
                         "deleted before the task ran", "error_trace": "", "variables": []}, "session deleted")
            return Handled(Disposition.ACK)
        interview = self.service.services.loader.load(task.interview)
        request = Request(task.interview, task.session_id, action=task.action, arguments=self.arguments,
                          persistent_action=False, user=self.user, interface="background",
                          tasks=self.sessions.task_port(task.session_id, self.key),
                          sign_link=links.signer(self.service.services.keys.links))
        ev = Evaluation(interview, answers, request, namespace.build)
        try:
            outcome = ev.run()
        except (InterviewCodeError, EngineError) as err:
            return self._failed_attempt(ev, err)
        from chalicelib.runtime.documents import store_documents

        store_documents(self.service.services, task.session_id, self.key, ev.documents)
        return self._ended(outcome)

    def _ended(self, outcome: Outcome) -> Handled:
        task = self.task
        if outcome.kind is OutcomeKind.BACKGROUND:
            self._finish(DONE, {"value": outcome.value}, notify_value=outcome.value)
        elif outcome.kind is OutcomeKind.CALLBACK and outcome.action:
            self._callback(outcome.action, outcome.arguments, DONE, {})
        elif outcome.kind is OutcomeKind.COMMAND and outcome.command in ("exit", "restart", "exit_logout"):
            self._finish(DONE, {"value": None})
            self.sessions.delete(self.ref, verify=False)
        else:
            log.warning("background action %r of %s ended without background_response(); its value is None",
                        task.action, task.session_id)
            self._finish(DONE, {"value": None}, notify_value=None)
        return Handled(Disposition.ACK)

    def _finish(self, status: str, result: dict[str, Any], reason: str = "", notify_value: Any = None) -> None:
        task = self.task
        finished = self.service._finished(task, status, result, self.key, reason)
        notes = self.service.notify(task, notify_value, self.key) if status == DONE else []
        try:
            self.service.services.store.write_tasks([TaskWrite(finished, RUNNING, task.attempts)], notes)
        except TaskStateError:
            log.info("task %s was finished elsewhere; this attempt's result is dropped", task.task_id)

    def _callback(self, action: str, arguments: dict[str, Any], status: str, result: dict[str, Any]) -> None:
        """Run the callback as a turn whose commit also finishes the task."""
        task = self.task

        def finalize(outcome: Outcome | None) -> tuple[list[TaskWrite], list[Notification]]:
            if outcome is not None and outcome.kind is OutcomeKind.BACKGROUND:
                value = outcome.value
            elif status == DONE:
                value = {"action": action, "arguments": arguments}
            else:
                value = None  # a failed task has a value only if its error callback gave one
            finished = self.service._finished(task, status, {**result, "value": value}, self.key, result.get(
                "error_type") or "")
            notes = self.service.notify(task, value, self.key) if status == DONE else []
            return [TaskWrite(finished, RUNNING, task.attempts)], notes

        request = Request(task.interview, task.session_id, action=action, arguments=arguments,
                          persistent_action=False, user=self.user, interface="background")
        try:
            self.sessions.callback(self.ref, request, finalize)
        except TaskStateError:
            log.info("task %s was finished elsewhere; its callback %r was not applied again", task.task_id, action)

    def _failed_attempt(self, ev: Evaluation, err: Exception) -> Handled:
        task = self.task
        error = err.error if isinstance(err, InterviewCodeError) else err
        trace = err.trace if isinstance(err, InterviewCodeError) else ""
        variables = err.variables if isinstance(err, InterviewCodeError) else ev.sought
        summary = f"{type(error).__name__} in background action {task.action!r}"
        log.error("%s of %s (attempt %d of %d)\n%s", summary, task.session_id, task.attempts,
                  self.service.settings.task_max_attempts, trace)
        if task.attempts < self.service.settings.task_max_attempts:
            again = dataclasses.replace(task, status=QUEUED, reason=f"attempt {task.attempts}: {summary}")
            try:
                self.service.services.store.write_tasks([TaskWrite(again, RUNNING, task.attempts)])
            except TaskStateError:
                return Handled(Disposition.ACK)
            return Handled(Disposition.RETRY, self.service.settings.task_retry_seconds * 2 ** (task.attempts - 1))
        result = {"value": None, "error_type": type(error).__name__, "error_message": str(error),
                  "error_trace": trace, "variables": variables}
        if ev.error_action is not None:
            action, arguments = ev.error_action
            arguments = {**arguments, **{k: result[k] for k in ("error_type", "error_message", "error_trace",
                                                                  "variables")}}
            self._callback(action, arguments, FAILED, result)
        else:
            self._finish(FAILED, result, summary)
        return Handled(Disposition.GIVE_UP)


def handle_sqs_event(service: TaskService, event: dict[str, Any]) -> dict[str, Any]:
    """A Lambda SQS batch: run each message; report failures one by one (batchItemFailures)."""
    failures = []
    for record in event.get("Records", []):
        message_id = record.get("messageId", "")
        try:
            handled = service.handle(record.get("body", ""))
        except Exception:  # this message fails alone; SQS delivers it again
            log.exception("task message %s failed", message_id)
            handled = Handled(Disposition.RETRY, service.settings.task_retry_seconds)
        if handled.disposition is Disposition.ACK:
            continue
        failures.append({"itemIdentifier": message_id})
        if record.get("receiptHandle"):  # retry after the backoff; a give-up is redriven to the DLQ at once
            try:
                service.queue.delay(record["receiptHandle"], handled.delay)
            except Exception:  # the retry comes after the visibility timeout instead
                log.exception("could not delay the retry of message %s", message_id)
    return {"batchItemFailures": failures}


def handle_dead_letters(service: TaskService, event: dict[str, Any]) -> dict[str, Any]:
    for record in event.get("Records", []):
        service.abandon(record.get("body", ""))
    return {"batchItemFailures": []}
