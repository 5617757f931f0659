"""What the engine knows of background tasks: requests made in a turn, and snapshots.

`NewTask` is put in the evaluation's outbox by `background_action()`; the runtime
stores it with the turn's commit and enqueues it only after that commit.
`TaskSnapshot` is a task's state as of this turn, read through a `TaskPort`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Protocol


class TaskStatus(enum.StrEnum):
    """Where a background task is: queued → running → done | failed (stored as these strings)."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


FINISHED = frozenset({TaskStatus.DONE, TaskStatus.FAILED})


@dataclass(frozen=True)
class NewTask:
    task_id: str
    action: str
    arguments: dict[str, Any]
    ui: str | None = None  # one of signals.UI_NOTIFICATIONS: how the result reaches the page
    revoked: bool = False  # revoked in the turn that started it: stored as failed, never queued


@dataclass(frozen=True)
class TaskSnapshot:
    task_id: str
    action: str
    status: str  # a TaskStatus
    value: Any = None
    error_type: str | None = None
    error_message: str | None = None
    error_trace: str | None = None
    variables: list[str] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return self.status in FINISHED


class TaskPort(Protocol):
    """The session's tasks, for the task handles in the answers."""

    def snapshot(self, task_id: str, fresh: bool = False) -> TaskSnapshot | None: ...

    def wait(self, task_id: str, seconds: float) -> TaskSnapshot | None:
        """The task once finished, or as it is after `seconds` of waiting for that."""
        ...

    def revoke(self, task_id: str, terminate: bool = True) -> bool: ...
