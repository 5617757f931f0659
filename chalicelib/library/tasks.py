"""Background task handles and the BackgroundAction object, as interview authors use them.

`background_action()` (library.functions) returns a `BackgroundTask`; it is
stored in the answers like any value. Its methods read the task's state through
the running evaluation's task port (engine.active), so the handle itself holds
only the task's id and action name.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from chalicelib.engine import active
from chalicelib.engine.signals import Command, CommandSignal
from chalicelib.engine.tasks import TaskSnapshot, TaskStatus
from chalicelib.library.objects import DAObject

__all__ = ["BackgroundAction", "BackgroundTask", "TaskResult"]

_WAIT_LIMIT_SECONDS = 25.0  # a blocking call inside one turn gives up after this (Lambda must answer)


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
        """Block until the task has finished (at most a short while inside one turn); True."""
        deadline = time.monotonic() + _WAIT_LIMIT_SECONDS
        while not (snapshot := self._snapshot(fresh=True)) or not snapshot.finished:
            if time.monotonic() > deadline:
                raise TimeoutError(f"background task {self.action!r} is still {self.status()}; use ready() and "
                                   "a reload or command('wait') instead of waiting inside a screen")
            time.sleep(0.25)
        return True

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
        """Cancel the task if it has not finished; True if it was cancelled."""
        evaluation = active.current()
        for position, queued in enumerate(evaluation.outbox):
            if queued.task_id == self.task_id:  # started in this very turn: it will never be queued
                evaluation.outbox[position] = dataclasses.replace(queued, revoked=True)
                return not queued.revoked
        port = evaluation.request.tasks
        return bool(port.revoke(self.task_id)) if port is not None else False


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
