"""Background task records and UI notifications, as stored in a session's partition.

A task item (``sk = task#<id>``) holds the task's state machine
(queued → running → done | failed), its lease, and three sealed blobs: the
payload (action arguments and the starting user), the session key wrapped under
the server key (encrypted sessions only), and the result. Nothing an interview
user typed is stored in clear, and nothing at all travels in the queue message.

A notification item (``sk = note#<id>``) is one check-in command waiting for
the browser; taking it deletes it, conditionally, so it is delivered once.
"""

from __future__ import annotations

from dataclasses import dataclass

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
STATUSES = (QUEUED, RUNNING, DONE, FAILED)
FINISHED = (DONE, FAILED)


@dataclass(frozen=True)
class TaskRecord:
    session_id: str
    task_id: str
    interview: str
    action: str
    status: str
    created: float
    attempts: int = 0
    lease_until: float = 0.0
    finished: float = 0.0
    ui: str = ""
    revoked: bool = False
    payload: bytes = b""
    key_wrap: bytes = b""
    result: bytes = b""
    reason: str = ""  # why it failed, in words safe for logs and the tasks list (no answers)


@dataclass(frozen=True)
class TaskWrite:
    """Write `record` only if the stored task still has `expect_status` and `expect_attempts`.

    `expect_status=None` means the task must not exist yet (a new task)."""

    record: TaskRecord
    expect_status: str | None = None
    expect_attempts: int | None = None


@dataclass(frozen=True)
class Notification:
    session_id: str
    note_id: str  # sortable: the time it was made, then the task id
    blob: bytes  # the sealed check-in command
