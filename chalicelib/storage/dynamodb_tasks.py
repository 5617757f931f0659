"""DynamoDB items of task records and notifications (see storage/tasks.py).

Task items live in their session's partition (``sk = task#<id>``), notification
items too (``sk = note#<id>``), so deleting a session removes them with it.
Both carry ``expires_at``, the table's TTL attribute, and ``kind``, how their
blobs are sealed.
"""

from __future__ import annotations

from typing import Any

from chalicelib.storage.records import BlobKind
from chalicelib.storage.tasks import Notification, TaskRecord, TaskWrite

Item = dict[str, Any]
TASK_PREFIX = "task#"
NOTE_PREFIX = "note#"


def _pk(session_id: str) -> dict[str, str]:
    return {"S": "session#" + session_id}


def task_to_item(task: TaskRecord) -> Item:
    item: Item = {
        "pk": _pk(task.session_id), "sk": {"S": TASK_PREFIX + task.task_id},
        "task_interview": {"S": task.interview}, "action": {"S": task.action}, "status": {"S": task.status},
        "created": {"N": repr(task.created)}, "attempts": {"N": str(task.attempts)},
        "lease_until": {"N": repr(task.lease_until)}, "finished": {"N": repr(task.finished)},
        "revoked": {"BOOL": task.revoked},
    }
    for name, value in (("ui", task.ui), ("reason", task.reason)):
        if value:
            item[name] = {"S": value}
    for name, blob in (("payload", task.payload), ("key_wrap", task.key_wrap), ("result", task.result)):
        if blob:
            item[name] = {"B": blob}
    return {**item, **_kind_and_expiry(task.kind, task.expires_at)}


def _kind_and_expiry(kind: BlobKind | None, expires_at: float) -> Item:
    item: Item = {"kind": {"S": kind.value}} if kind else {}
    if expires_at:
        item["expires_at"] = {"N": str(int(expires_at))}  # TTL: whole epoch seconds
    return item


def _expires_at(item: Item) -> float:
    return float(item["expires_at"]["N"]) if "expires_at" in item else 0.0


def task_from_item(item: Item) -> TaskRecord:
    def text(name: str) -> str:
        return str(item[name]["S"]) if name in item else ""

    def blob(name: str) -> bytes:
        return bytes(item[name]["B"]) if name in item else b""

    return TaskRecord(
        session_id=item["pk"]["S"].removeprefix("session#"), task_id=item["sk"]["S"].removeprefix(TASK_PREFIX),
        interview=text("task_interview"), action=text("action"), status=text("status"),
        created=float(item["created"]["N"]), attempts=int(item["attempts"]["N"]),
        lease_until=float(item["lease_until"]["N"]), finished=float(item["finished"]["N"]),
        ui=text("ui"), revoked=bool(item["revoked"]["BOOL"]), payload=blob("payload"),
        key_wrap=blob("key_wrap"), result=blob("result"), reason=text("reason"),
        kind=BlobKind.parse(text("kind")), expires_at=_expires_at(item),
    )


def task_put(table: str, write: TaskWrite) -> Item:
    """A conditional Put of one task for TransactWriteItems."""
    put: Item = {"TableName": table, "Item": task_to_item(write.record),
                 "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}
    if write.expect_status is None:
        put["ConditionExpression"] = "attribute_not_exists(pk)"
    else:
        put["ConditionExpression"] = "#s = :s" + (" AND #a = :a" if write.expect_attempts is not None else "")
        put["ExpressionAttributeNames"] = {"#s": "status", **({"#a": "attempts"}
                                                             if write.expect_attempts is not None else {})}
        put["ExpressionAttributeValues"] = {":s": {"S": write.expect_status}}
        if write.expect_attempts is not None:
            put["ExpressionAttributeValues"][":a"] = {"N": str(write.expect_attempts)}
    return {"Put": put}


def note_put(table: str, note: Notification) -> Item:
    return {"Put": {"TableName": table, "Item": {
        "pk": _pk(note.session_id), "sk": {"S": NOTE_PREFIX + note.note_id}, "blob": {"B": note.blob},
        **_kind_and_expiry(note.kind, note.expires_at)}}}


def note_from_item(item: Item) -> Notification:
    return Notification(item["pk"]["S"].removeprefix("session#"), item["sk"]["S"].removeprefix(NOTE_PREFIX),
                        bytes(item["blob"]["B"]), BlobKind.parse(item.get("kind", {}).get("S")),
                        _expires_at(item))
