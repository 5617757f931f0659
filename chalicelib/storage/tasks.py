"""Background task records and UI notifications, as stored in a session's partition.

A task item (``sk = task#<id>``) holds the task's state machine
(queued → running → done | failed), its lease, and three sealed blobs: the
payload (action arguments and the starting user), the session key wrapped under
the server's `wrap` sub-key (encrypted sessions only), and the result. The
payload and the key wrap are dropped by the write that finishes or revokes the
task. Nothing an interview user typed is stored in clear, and nothing at all
travels in the queue message.

A notification item (``sk = note#<id>``) is one check-in command waiting for
the browser; taking it deletes it, conditionally, so it is delivered once.

Both carry `expires_at` (epoch seconds), the table's TTL attribute.
"""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.storage.records import BlobKind


@dataclass(frozen=True)
class TaskRecord:
    session_id: str
    task_id: str
    interview: str
    action: str
    status: str  # a TaskStatus
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
    kind: BlobKind | None = None  # of payload and result; None: stored before kinds were (key_wrap decides)
    expires_at: float = 0.0  # when DynamoDB's TTL may delete the item; 0: never


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
    kind: BlobKind | None = None  # None: stored before kinds were (the head's `encrypted` decides)
    expires_at: float = 0.0
