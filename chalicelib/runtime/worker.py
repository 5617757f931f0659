"""The background worker: one queue message claims, runs and finishes one task.

1. The worker claims the task (a conditional write queued → running, with a
   lease), runs the action on the latest answers as the user who started it
   (`Sessions.run_background`, which saves nothing), and finishes the task
   (done/failed) with a conditional write, so a duplicate message does nothing.
2. A `background_response_action` callback is a turn (`Sessions.callback`) whose
   commit also finishes the task, so a redelivered message can never apply it twice.
3. A failure is retried with backoff up to TASK_MAX_ATTEMPTS; the last one fails
   the task (running `background_error_action`'s callback) and leaves the message
   to SQS's redrive into the dead-letter queue. The dead-letter handler fails any
   task that never finished (a worker that crashed every time).

A message of a scheduled pass (`{"cron": event, ...}`) is one session's run of
that pass: runtime.cron.

The worker reaches sessions only through `Sessions`' public use cases, and task
records only through `TaskService`.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from typing import Any

from chalicelib.engine.errors import InterviewCodeError
from chalicelib.engine.request import Interface, Request, UserInfo
from chalicelib.engine.screen import Outcome, OutcomeKind
from chalicelib.engine.signals import Command
from chalicelib.engine.tasks import FINISHED, TaskStatus
from chalicelib.runtime.cron import Cron, is_cron_message
from chalicelib.runtime.queue import Disposition, Handled
from chalicelib.runtime.sessions import BackgroundRun, SessionRef, Sessions
from chalicelib.storage.errors import SessionNotFoundError, StorageError, TaskStateError
from chalicelib.storage.sealing import Place
from chalicelib.storage.tasks import Notification, TaskRecord, TaskWrite

log = logging.getLogger(__name__)

# A background action that ends with one of these commands ends the session: it is deleted.
_ENDS_SESSION = (Command.EXIT, Command.RESTART, Command.EXIT_LOGOUT)


class Worker:
    """Runs the tasks that queue messages name."""

    def __init__(self, sessions: Sessions) -> None:
        self.sessions = sessions
        self.tasks = sessions.tasks
        self.store = sessions.services.store
        self.settings = sessions.services.settings

    def handle(self, body: str) -> Handled:
        """One queue message: claim the task, run it, finish it."""
        try:
            message = json.loads(body)
            if isinstance(message, dict) and is_cron_message(message):
                Cron(self.sessions).run(message)  # one session's run of a scheduled pass
                return Handled(Disposition.ACK)
            session_id, task_id = str(message["session"]), str(message["task"])
        except (ValueError, KeyError, TypeError):
            log.error("dropped a task message that is not ours: %.200s", body)
            return Handled(Disposition.ACK)
        task = self.store.load_task(session_id, task_id)
        if task is None or task.revoked or task.status in FINISHED:
            return Handled(Disposition.ACK)  # gone, cancelled, or a duplicate of a finished task
        now = time.time()
        if task.status == TaskStatus.RUNNING and task.lease_until > now:
            return Handled(Disposition.ACK)  # a duplicate while another worker holds it
        claimed = dataclasses.replace(task, status=TaskStatus.RUNNING, attempts=task.attempts + 1,
                                      lease_until=now + self.settings.task_lease_seconds,
                                      expires_at=self.tasks.expires(now, finished=False))
        try:
            self.store.write_tasks([TaskWrite(claimed, task.status, task.attempts)])
        except TaskStateError:
            return Handled(Disposition.ACK)  # another worker claimed it first
        return _Run(self, claimed).run()

    def abandon(self, body: str) -> None:
        """A message reached the dead-letter queue: fail its task if it never finished."""
        try:
            message = json.loads(body)
            task = self.store.load_task(str(message["session"]), str(message["task"]))
        except (ValueError, KeyError, TypeError):
            return
        if task is None or task.status in FINISHED:
            return
        reason = f"gave up after {task.attempts} attempt(s): the worker never finished it"
        try:
            key = self.tasks.session_key(task)
        except StorageError:  # a key that cannot be unwrapped: the result (no answers in it) is signed
            key = None
        result: dict[str, Any] = {"value": None, "error_type": "TaskAbandoned", "error_message": reason,
                                  "error_trace": "", "variables": []}
        failed = self.tasks.finished(task, TaskStatus.FAILED, result, key, reason)
        try:
            self.store.write_tasks([TaskWrite(failed, task.status, task.attempts)])
            log.error("task %s (%s) of %s %s", task.task_id, task.action, task.session_id, reason)
        except TaskStateError:
            pass


def _user(data: dict[str, Any]) -> UserInfo:
    known = {f.name for f in dataclasses.fields(UserInfo)}
    values: dict[str, Any] = {k: v for k, v in data.items() if k in known}
    if "privileges" in values:
        values["privileges"] = tuple(values["privileges"])
    return UserInfo(**values)


class _Run:
    """One attempt at one claimed task."""

    def __init__(self, worker: Worker, task: TaskRecord) -> None:
        self.worker = worker
        self.tasks = worker.tasks
        self.task = task
        self.key = self.tasks.session_key(task)
        payload = self.tasks.open_blob(task, task.payload, Place.task_payload(task.session_id, task.task_id),
                                       self.key) or {}
        self.arguments: dict[str, Any] = dict(payload.get("arguments") or {})
        self.user = _user(payload.get("user") or {})
        self.ref = SessionRef(task.interview, task.session_id, None, key=self.key)

    def run(self) -> Handled:
        task = self.task
        request = Request(task.interview, task.session_id, action=task.action, arguments=self.arguments,
                          persistent_action=False, user=self.user, interface=Interface.BACKGROUND)
        try:
            ran = self.worker.sessions.run_background(self.ref, request)
        except SessionNotFoundError:
            self._finish(TaskStatus.FAILED, {"value": None, "error_type": "SessionGone", "error_message": "the session "
                         "was deleted before the task ran", "error_trace": "", "variables": []}, "session deleted")
            return Handled(Disposition.ACK)
        if ran.error is not None:
            return self._failed_attempt(ran, ran.error)
        assert ran.outcome is not None
        return self._ended(ran.outcome)

    def _ended(self, outcome: Outcome) -> Handled:
        task = self.task
        if outcome.kind is OutcomeKind.BACKGROUND:
            self._finish(TaskStatus.DONE, {"value": outcome.value}, notify_value=outcome.value)
        elif outcome.kind is OutcomeKind.CALLBACK and outcome.action:
            self._callback(outcome.action, outcome.arguments, TaskStatus.DONE, {})
        elif outcome.kind is OutcomeKind.COMMAND and outcome.command in _ENDS_SESSION:
            self._finish(TaskStatus.DONE, {"value": None})
            self.worker.sessions.delete(self.ref, verify=False)
        else:
            log.warning("background action %r of %s ended without background_response(); its value is None",
                        task.action, task.session_id)
            self._finish(TaskStatus.DONE, {"value": None}, notify_value=None)
        return Handled(Disposition.ACK)

    def _finish(self, status: str, result: dict[str, Any], reason: str = "", notify_value: Any = None) -> None:
        task = self.task
        finished = self.tasks.finished(task, status, result, self.key, reason)
        notes = self.tasks.notify(task, notify_value, self.key) if status == TaskStatus.DONE else []
        try:
            self.worker.store.write_tasks([TaskWrite(finished, TaskStatus.RUNNING, task.attempts)], notes)
        except TaskStateError:
            log.info("task %s was finished elsewhere; this attempt's result is dropped", task.task_id)

    def _callback(self, action: str, arguments: dict[str, Any], status: str, result: dict[str, Any]) -> None:
        """Run the callback as a turn whose commit also finishes the task."""
        task = self.task

        def finalize(outcome: Outcome | None) -> tuple[list[TaskWrite], list[Notification]]:
            if outcome is not None and outcome.kind is OutcomeKind.BACKGROUND:
                value = outcome.value
            elif status == TaskStatus.DONE:
                value = {"action": action, "arguments": arguments}
            else:
                value = None  # a failed task has a value only if its error callback gave one
            finished = self.tasks.finished(task, status, {**result, "value": value}, self.key,
                                           result.get("error_type") or "")
            notes = self.tasks.notify(task, value, self.key) if status == TaskStatus.DONE else []
            return [TaskWrite(finished, TaskStatus.RUNNING, task.attempts)], notes

        request = Request(task.interview, task.session_id, action=action, arguments=arguments,
                          persistent_action=False, user=self.user, interface=Interface.BACKGROUND)
        try:
            self.worker.sessions.callback(self.ref, request, finalize)
        except TaskStateError:
            log.info("task %s was finished elsewhere; its callback %r was not applied again", task.task_id, action)

    def _failed_attempt(self, ran: BackgroundRun, err: Exception) -> Handled:
        task = self.task
        settings = self.worker.settings
        error = err.error if isinstance(err, InterviewCodeError) else err
        trace = err.trace if isinstance(err, InterviewCodeError) else ""
        variables = err.variables if isinstance(err, InterviewCodeError) else list(ran.sought)
        summary = f"{type(error).__name__} in background action {task.action!r}"
        log.error("%s of %s (attempt %d of %d)\n%s", summary, task.session_id, task.attempts,
                  settings.task_max_attempts, trace)
        if task.attempts < settings.task_max_attempts:
            again = dataclasses.replace(task, status=TaskStatus.QUEUED, reason=f"attempt {task.attempts}: {summary}")
            try:
                self.worker.store.write_tasks([TaskWrite(again, TaskStatus.RUNNING, task.attempts)])
            except TaskStateError:
                return Handled(Disposition.ACK)
            return Handled(Disposition.RETRY, settings.task_retry_seconds * 2 ** (task.attempts - 1))
        result = {"value": None, "error_type": type(error).__name__, "error_message": str(error),
                  "error_trace": trace, "variables": variables}
        if ran.error_action is not None:
            action, arguments = ran.error_action
            arguments = {**arguments, **{k: result[k] for k in ("error_type", "error_message", "error_trace",
                                                                  "variables")}}
            self._callback(action, arguments, TaskStatus.FAILED, result)
        else:
            self._finish(TaskStatus.FAILED, result, summary)
        return Handled(Disposition.GIVE_UP)


def handle_sqs_event(worker: Worker, event: dict[str, Any]) -> dict[str, Any]:
    """A Lambda SQS batch: run each message; report failures one by one (batchItemFailures)."""
    failures = []
    for record in event.get("Records", []):
        message_id = record.get("messageId", "")
        try:
            handled = worker.handle(record.get("body", ""))
        except Exception:  # this message fails alone; SQS delivers it again
            log.exception("task message %s failed", message_id)
            handled = Handled(Disposition.RETRY, worker.settings.task_retry_seconds)
        if handled.disposition is Disposition.ACK:
            continue
        failures.append({"itemIdentifier": message_id})
        if record.get("receiptHandle"):  # retry after the backoff; a give-up is redriven to the DLQ at once
            try:
                worker.tasks.queue.delay(record["receiptHandle"], handled.delay)
            except Exception:  # the retry comes after the visibility timeout instead
                log.exception("could not delay the retry of message %s", message_id)
    return {"batchItemFailures": failures}


def handle_dead_letters(worker: Worker, event: dict[str, Any]) -> dict[str, Any]:
    for record in event.get("Records", []):
        worker.abandon(record.get("body", ""))
    return {"batchItemFailures": []}
