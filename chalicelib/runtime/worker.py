"""The background worker: one queue message claims, runs and finishes one task.

1. The worker claims the task (a conditional write queued → running, with a
   lease), runs the action on the latest answers as the user who started it
   (`Sessions.run_background`, which saves nothing), and finishes the task
   (done/failed) with a conditional write, so a duplicate message does nothing.
2. A `background_response_action` callback is a turn (`Sessions.callback`) whose
   commit also finishes the task, so a redelivered message can never apply it twice.
   Before it, the worker reads the task again: a task revoked while its code ran
   runs no callback, and the conditional commit covers a revoke that comes later.
3. An error of the interview (its code raised, it reached a question, a name no
   block defines) fails the task at once and runs `background_error_action`'s
   callback; it is never retried. A fault of storage or queue is retried with the
   runtime's backoff (runtime.retry) up to TASK_MAX_ATTEMPTS; the last one fails
   the task and leaves the message to SQS's redrive into the dead-letter queue. A
   worker that dies is retried when its lease runs out, and the dead-letter
   handler fails any task that never finished (a worker that crashed every time).

A message of a scheduled pass (`{"cron": event, ...}`) is one session's run of
that pass: runtime.cron.

The worker reaches sessions only through `Sessions`' public use cases, and task
records only through `TaskService`.
"""

from __future__ import annotations

import dataclasses
import html
import json
import logging
import math
import re
import time
from collections.abc import Sequence
from typing import Any

from chalicelib.engine.errors import EngineError, InterviewCodeError, UndefinedVariableError
from chalicelib.engine.request import Interface, Request, UserInfo
from chalicelib.engine.screen import Outcome, OutcomeKind
from chalicelib.engine.signals import Command
from chalicelib.engine.tasks import FINISHED, TaskStatus
from chalicelib.runtime.cron import Cron, is_cron_message
from chalicelib.runtime.messaging import Outgoing
from chalicelib.runtime.queue import Disposition, Handled
from chalicelib.runtime.retry import task_backoff
from chalicelib.runtime.sessions import SessionRef, Sessions
from chalicelib.storage.errors import SessionNotFoundError, StorageError, TaskStateError
from chalicelib.storage.outbox import SendRecord, SendStatus
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
                                  "error_trace": "", "variables": [task.action]}
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
        # The e-mails and SMS the action asked for: recorded by the write that finishes the task (their
        # keys derive from the task's id, so a re-run derives the same ones), sent after it.
        self.outgoing: list[Outgoing] = []

    def run(self) -> Handled:
        """Run the action and finish the task. An error in the interview's code fails it at once;
        a fault of storage or queue (anything else) is retried (`_retry_later`)."""
        try:
            return self._attempt()
        except SessionNotFoundError:
            self._finish(TaskStatus.FAILED, {"value": None, "error_type": "SessionGone", "error_message": "the session "
                         "was deleted before the task ran", "error_trace": "", "variables": [self.task.action]},
                         "session deleted")
            return Handled(Disposition.ACK)
        except Exception as err:  # not the interview's code: storage, the queue, a conflict that kept coming back
            return self._retry_later(err)

    def _attempt(self) -> Handled:
        task = self.task
        request = Request(task.interview, task.session_id, action=task.action, arguments=self.arguments,
                          persistent_action=False, user=self.user, interface=Interface.BACKGROUND)
        ran = self.worker.sessions.run_background(self.ref, request)
        self.outgoing = self.worker.sessions.messages.prepare(task.session_id, f"task-{task.task_id}", ran.messages)
        if ran.error is not None:
            return self._failed(ran.error, _variables(ran.error, ran.sought, task.action), ran.error_action)
        assert ran.outcome is not None
        outcome = ran.outcome
        if outcome.kind is OutcomeKind.BACKGROUND:
            self._finish(TaskStatus.DONE, {"value": outcome.value}, notify_value=outcome.value)
        elif outcome.kind is OutcomeKind.CALLBACK and outcome.action:
            self._callback(outcome.action, outcome.arguments, TaskStatus.DONE, {}, ran.error_action)
        elif outcome.kind is OutcomeKind.COMMAND and outcome.command in _ENDS_SESSION:
            if self._finish(TaskStatus.DONE, {"value": None}):
                self.worker.sessions.delete(self.ref, verify=False)
        elif outcome.kind is OutcomeKind.SCREEN and outcome.screen is not None:
            # As docassemble's QuestionError: background code cannot ask; its message is the question's text.
            error = QuestionError(_text(outcome.screen.question) or outcome.screen.block)
            return self._failed(error, _variables(error, ran.sought, task.action), ran.error_action)
        else:
            log.warning("background action %r of %s ended without background_response(); its value is None",
                        task.action, task.session_id)
            self._finish(TaskStatus.DONE, {"value": None}, notify_value=None)
        return Handled(Disposition.ACK)

    def _failed(self, error: BaseException, variables: list[str],
                error_action: tuple[str, dict[str, Any]] | None) -> Handled:
        """An error of the interview: the task fails now (it is not retried) and its error callback runs."""
        task = self.task
        cause = error.error if isinstance(error, InterviewCodeError) else error
        trace = error.trace if isinstance(error, InterviewCodeError) else ""
        summary = f"{type(cause).__name__} in background action {task.action!r}"
        log.error("%s of %s (attempt %d): the task failed; an error of the interview is not retried "
                  "(sought: %s)\n%s", summary, task.session_id, task.attempts, ", ".join(variables), trace)
        result = {"value": None, "error_type": type(cause).__name__, "error_message": str(cause),
                  "error_trace": trace, "variables": variables}
        if error_action is not None:
            action, arguments = error_action
            arguments = {**arguments, **{k: result[k] for k in ("error_type", "error_message", "error_trace",
                                                                  "variables")}}
            self._callback(action, arguments, TaskStatus.FAILED, result)
        else:
            self._finish(TaskStatus.FAILED, result, summary)
        return Handled(Disposition.ACK)

    def _retry_later(self, err: Exception) -> Handled:
        """A fault outside the interview: the task goes back to the queue, to run again after the
        runtime's backoff (runtime.retry); the last of TASK_MAX_ATTEMPTS attempts fails it."""
        task = self.task
        settings = self.worker.settings
        fault = type(err).__name__
        if task.attempts >= settings.task_max_attempts:
            reason = f"gave up after {task.attempts} attempt(s): {fault}"
            log.error("task %s (%s) of %s %s", task.task_id, task.action, task.session_id, reason, exc_info=err)
            try:
                self._finish(TaskStatus.FAILED, {"value": None, "error_type": fault, "error_message": f"{reason}: "
                             f"{err}", "error_trace": "", "variables": [task.action]}, reason)
            except Exception:  # the dead-letter queue's handler fails it instead
                log.exception("could not record that task %s failed", task.task_id)
            return Handled(Disposition.GIVE_UP)
        now = time.time()
        delay = task_backoff(settings).seconds(task.attempts - 1, self.worker.sessions.jitter)
        log.warning("attempt %d of %d at task %s (%s) of %s met %s; retrying in %d s", task.attempts,
                    settings.task_max_attempts, task.task_id, task.action, task.session_id, fault, delay,
                    exc_info=err)
        again = dataclasses.replace(task, status=TaskStatus.QUEUED, lease_until=now + delay,
                                    reason=f"attempt {task.attempts}: {fault}; retrying")
        try:
            self.worker.store.write_tasks([TaskWrite(again, TaskStatus.RUNNING, task.attempts)])
        except TaskStateError:
            return Handled(Disposition.ACK)  # revoked or finished meanwhile: nothing to retry
        except Exception:  # still ours, running: the next delivery must come after the lease ran out
            log.exception("could not put task %s back on the queue; it is retried when its lease runs out",
                          task.task_id)
            delay = max(delay, math.ceil(task.lease_until - now) + 1)
        return Handled(Disposition.RETRY, delay)

    def _still_ours(self) -> bool:
        """False, logged, when this attempt may no longer save anything for the task: it was revoked
        (or finished, or taken over by another worker) while its code ran."""
        task = self.task
        current = self.worker.store.load_task(task.session_id, task.task_id)
        if current is not None and not current.revoked and current.status == TaskStatus.RUNNING \
                and current.attempts == task.attempts:
            return True
        log.info("task %s (%s) of %s was %s while it ran; its callback is not run", task.task_id, task.action,
                 task.session_id, "revoked" if current is None or current.revoked else "finished elsewhere")
        return False

    def _finish(self, status: str, result: dict[str, Any], reason: str = "", notify_value: Any = None) -> bool:
        """Finish the task, if it is still this attempt's (not revoked, not taken over); True if it was."""
        task = self.task
        finished = self.tasks.finished(task, status, result, self.key, reason)
        notes = self.tasks.notify(task, notify_value, self.key) if status == TaskStatus.DONE else []
        try:
            writes = [TaskWrite(finished, TaskStatus.RUNNING, task.attempts)]
            if self.outgoing:
                self.worker.store.write_tasks(writes, notes, [o.record for o in self.outgoing])
            else:
                self.worker.store.write_tasks(writes, notes)
        except TaskStateError:
            log.info("task %s was revoked or finished elsewhere; this attempt's result is dropped", task.task_id)
            return False
        self._send(finished)
        return True

    def _send(self, finished: TaskRecord) -> None:
        """Send the task's committed messages; one that could not be sent is told in the task's reason."""
        outgoing, self.outgoing = self.outgoing, []
        failed = [r for r in self.worker.sessions.messages.deliver(outgoing) if r.status == SendStatus.FAILED]
        if failed:
            self._report_unsent(finished, failed)

    def _report_unsent(self, finished: TaskRecord, failed: Sequence[SendRecord]) -> None:
        reason = "; ".join(f"{r.kind} {r.key} not sent: {r.reason}" for r in failed)
        reason = f"{finished.reason}; {reason}" if finished.reason else reason
        told = dataclasses.replace(finished, reason=reason[:1000])
        try:
            self.worker.store.write_tasks([TaskWrite(told, finished.status, finished.attempts)])
        except StorageError:
            log.exception("could not record on task %s that its messages were not sent", finished.task_id)

    def _callback(self, action: str, arguments: dict[str, Any], status: str, result: dict[str, Any],
                  error_action: tuple[str, dict[str, Any]] | None = None) -> None:
        """Run the callback as a turn whose commit also finishes the task (only if the task is still
        this attempt's, checked before the turn and, atomically, by its commit)."""
        task = self.task
        if not self._still_ours():
            return

        written: list[TaskRecord] = []

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
            written[:] = [finished]
            return [TaskWrite(finished, TaskStatus.RUNNING, task.attempts)], notes

        request = Request(task.interview, task.session_id, action=action, arguments=arguments,
                          persistent_action=False, user=self.user, interface=Interface.BACKGROUND)
        try:
            self.worker.sessions.callback(self.ref, request, finalize, self.outgoing)
            keys = {o.record.key for o in self.outgoing}
            self.outgoing = []
            if written and keys:  # the turn sent them; one that failed shows in the task's reason
                unsent = [r for r in self.worker.store.list_sends(task.session_id)
                          if r.key in keys and r.status == SendStatus.FAILED]
                if unsent:
                    self._report_unsent(written[0], unsent)
        except TaskStateError:
            log.info("task %s was revoked or finished elsewhere; its callback %r was not applied", task.task_id,
                     action)
        except EngineError as err:  # the callback's own code failed: that fails the task, at once
            variables = _variables(err, [], action)
            if status == TaskStatus.DONE:
                self._failed(err, variables, error_action)
                return
            log.error("the error callback %r of task %s failed too: %s", action, task.task_id, err)
            self._finish(TaskStatus.FAILED, result, result.get("error_type") or "")


class QuestionError(Exception):
    """Background code reached a question: it cannot ask one (the message is the question's text)."""


def _variables(error: BaseException, sought: Sequence[str], action: str) -> list[str]:
    """The names being sought when a task failed, newest first, ending with its action (the event sought
    first), as docassemble reports them to `background_error_action`."""
    names = list(error.variables) if isinstance(error, InterviewCodeError) and error.variables else list(sought)
    if isinstance(error, UndefinedVariableError) and error.name not in names:
        names.insert(0, error.name)
    return names if action in names else [*names, action]


def _text(markup: str) -> str:
    """Inline HTML as plain text."""
    return html.unescape(re.sub(r"<[^>]*>", "", markup)).strip()


def handle_sqs_event(worker: Worker, event: dict[str, Any]) -> dict[str, Any]:
    """A Lambda SQS batch: run each message; report failures one by one (batchItemFailures)."""
    failures = []
    for record in event.get("Records", []):
        message_id = record.get("messageId", "")
        try:
            handled = worker.handle(record.get("body", ""))
        except Exception:  # this message fails alone; SQS delivers it again, after the backoff
            log.exception("task message %s failed", message_id)
            receives = _receive_count(record)
            handled = Handled(Disposition.RETRY, task_backoff(worker.settings).seconds(receives - 1,
                                                                                       worker.sessions.jitter))
        if handled.disposition is Disposition.ACK:
            continue
        failures.append({"itemIdentifier": message_id})
        if record.get("receiptHandle"):  # retry after the backoff; a give-up is redriven to the DLQ at once
            try:
                worker.tasks.queue.delay(record["receiptHandle"], handled.delay)
            except Exception:  # the retry comes after the visibility timeout instead
                log.exception("could not delay the retry of message %s", message_id)
    return {"batchItemFailures": failures}


def _receive_count(record: dict[str, Any]) -> int:
    """How often SQS delivered this message, this time included (1 when it does not say)."""
    try:
        return max(1, int(record.get("attributes", {}).get("ApproximateReceiveCount", 1)))
    except (TypeError, ValueError):
        return 1


def handle_dead_letters(worker: Worker, event: dict[str, Any]) -> dict[str, Any]:
    for record in event.get("Records", []):
        worker.abandon(record.get("body", ""))
    return {"batchItemFailures": []}
