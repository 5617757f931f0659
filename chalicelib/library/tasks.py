"""Background task handles and the BackgroundAction object, as interview authors use them.

`background_action()` (library.functions) returns a `BackgroundTask`; it is
stored in the answers like any value. Its methods read the task's state through
the running evaluation's task port (engine.active), so the handle itself holds
only the task's id and action name.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from chalicelib.engine import active
from chalicelib.engine.signals import Command, CommandSignal
from chalicelib.engine.tasks import TaskSnapshot, TaskStatus
from chalicelib.library.errors import TaskWaitTimeoutError
from chalicelib.library.objects import DAObject

__all__ = ["WAIT_LIMIT_SECONDS", "BackgroundAction", "BackgroundTask", "TaskResult", "TaskWaitTimeoutError"]

# The longest that wait(), get(), result() and failed() block inside one turn: the request must
# be answered within API Gateway's 29 s (and the Lambda's timeout).
WAIT_LIMIT_SECONDS = 25.0


class TaskResult:
    """What `task.result()` returns: the value, or what went wrong."""

    def __init__(self, snapshot: TaskSnapshot | None) -> None:
        self.value = snapshot.value if snapshot else None
        self.error_type = snapshot.error_type if snapshot else None
        self.error_message = snapshot.error_message if snapshot else None
        self.error_trace = snapshot.error_trace if snapshot else None
        self.variables = list(snapshot.variables) if snapshot else None

    def __repr__(self) -> str:
        return f"TaskResult(value={self.value!r}, error_type={self.error_type!r})"


class BackgroundTask:
    """A background task started by `background_action()`.

    Example::

        the_task = background_action('bg_task', additional=value_to_add)
        if the_task.ready():
          final_screen
    """

    def __init__(self, task_id: str, action: str) -> None:
        self.task_id = task_id
        self.action = action

    def __repr__(self) -> str:
        return f"BackgroundTask({self.action!r}, id={self.task_id!r})"

    def _snapshot(self, fresh: bool = False) -> TaskSnapshot | None:
        port = active.current().request.tasks
        return port.snapshot(self.task_id, fresh=fresh) if port is not None else None

    def status(self) -> str:
        """queued, running, done or failed."""
        snapshot = self._snapshot()
        return str(snapshot.status) if snapshot else TaskStatus.QUEUED.value  # plain text: authors may save it

    def ready(self) -> bool:
        """True once the task has finished (done or failed); never blocks."""
        snapshot = self._snapshot()
        return bool(snapshot and snapshot.finished)

    def wait(self) -> bool:
        """Block until the task has finished; True. Waits at most WAIT_LIMIT_SECONDS, then raises
        TaskWaitTimeoutError: a screen must answer before API Gateway (29 s) and Lambda give up."""
        evaluation = active.current()
        port = evaluation.request.tasks
        if any(queued.task_id == self.task_id for queued in evaluation.outbox):
            snapshot, state = None, "was started by this very turn: it is queued only once the turn is saved"
        else:
            snapshot = port.wait(self.task_id, WAIT_LIMIT_SECONDS) if port is not None else None
            state = f"is still {snapshot.status} after waiting {WAIT_LIMIT_SECONDS:g} s, the longest a screen " \
                "may wait for it (API Gateway ends a request after 29 s)" if snapshot is not None else \
                "is not among the session's tasks (a finished task's record expires after TASK_RECORD_DAYS)"
        if snapshot is not None and snapshot.finished:
            return True
        raise TaskWaitTimeoutError(
            f"background task {self.action!r} {state}. Call wait(), get(), "
            "result() or failed() only once ready() is True: show a screen with `reload:` (or "
            "command('wait')) until then, or end the background code with background_response_action() "
            "so that a callback saves its result")

    def failed(self) -> bool:
        """True if the task failed (waits for it to finish first)."""
        self.wait()
        snapshot = self._snapshot()
        return bool(snapshot and snapshot.status == TaskStatus.FAILED)

    def get(self) -> Any:
        """The task's value (waits for it to finish first); None if it failed without a value."""
        self.wait()
        snapshot = self._snapshot()
        return snapshot.value if snapshot else None

    def result(self) -> TaskResult:
        """The value and error details (waits for the task to finish first)."""
        self.wait()
        return TaskResult(self._snapshot())

    def revoke(self, terminate: bool = True) -> bool:
        """Cancel the task if it has not finished; True if it was cancelled. A queued task never
        runs. A running one is cancelled only with `terminate` (False only takes it off the
        queue): code of it that is already running goes on, but nothing it would still save
        (its callback, its result) is saved."""
        evaluation = active.current()
        for position, queued in enumerate(evaluation.outbox):
            if queued.task_id == self.task_id:  # started in this very turn: it will never be queued
                evaluation.outbox[position] = dataclasses.replace(queued, revoked=True)
                return not queued.revoked
        port = evaluation.request.tasks
        return bool(port.revoke(self.task_id, terminate)) if port is not None else False


class BackgroundAction(DAObject):
    """Runs an action in the background and shows a wait screen until it is done.

    Example::

        objects:
          - bg: BackgroundAction
        ---
        code: |
          answer = bg.run('bg_task', additional=value_to_add)
    """

    def init(self, *pargs: Any, **kwargs: Any) -> None:
        self.refresh_seconds = kwargs.pop("refresh_seconds", 4)
        super().init(*pargs, **kwargs)

    def run(self, action: str, **kwargs: Any) -> Any:
        tasks: dict[str, BackgroundTask] = self.__dict__.setdefault("tasks", {})
        task = tasks.get(action)
        if task is None:
            functions = active.current().namespace
            task = functions["background_action"](action, None, **kwargs)
            tasks[action] = task
        if not task.ready():
            raise CommandSignal(Command.WAIT, None, float(self.refresh_seconds))
        result = task.result()
        return self.on_failure(result) if result.error_type else self.process_response(result)

    def process_response(self, result: TaskResult) -> Any:
        return result.value

    def on_failure(self, result: TaskResult) -> Any:
        return result.value
