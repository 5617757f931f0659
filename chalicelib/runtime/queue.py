"""The task queue port: SQS on AWS and in the local stack, a list in unit tests.

Messages carry only ids ({"i", "session", "task"}); everything else is in the
task record, sealed. boto3 is imported on first use.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from typing import Any, Protocol

from chalicelib.runtime.errors import RuntimeLayerError


class QueueError(RuntimeLayerError):
    """The task queue could not be reached."""


class TaskQueue(Protocol):
    def send(self, messages: Sequence[dict[str, str]]) -> None: ...

    def delay(self, receipt_handle: str, seconds: int) -> None: ...


class SqsTaskQueue:
    """An SQS queue found by name (TASK_QUEUE)."""

    def __init__(self, queue_name: str, client: Any = None) -> None:
        self.queue_name = queue_name
        self._client = client
        self._url: str | None = None
        self._lock = threading.Lock()

    def _sqs(self) -> tuple[Any, str]:
        with self._lock:
            if self._client is None:
                import boto3

                self._client = boto3.client("sqs")
            if self._url is None:
                self._url = self._call("finding", self._client.get_queue_url, QueueName=self.queue_name)["QueueUrl"]
        return self._client, self._url

    def _call(self, doing: str, method: Any, **params: Any) -> Any:
        try:
            return method(**params)
        except Exception as err:
            raise QueueError(f"{doing} the task queue {self.queue_name!r} failed: {err}; check that it exists "
                             "and that the role may use it") from err

    def send(self, messages: Sequence[dict[str, str]]) -> None:
        client, url = self._sqs()
        for start in range(0, len(messages), 10):
            entries = [{"Id": str(n), "MessageBody": json.dumps(m, sort_keys=True)}
                       for n, m in enumerate(messages[start:start + 10])]
            response = self._call("sending to", client.send_message_batch, QueueUrl=url, Entries=entries)
            if response.get("Failed"):
                raise QueueError(f"the task queue refused {len(response['Failed'])} message(s): {response['Failed']}")

    def delay(self, receipt_handle: str, seconds: int) -> None:
        client, url = self._sqs()
        self._call("delaying a message of", client.change_message_visibility, QueueUrl=url,
                   ReceiptHandle=receipt_handle, VisibilityTimeout=max(0, min(int(seconds), 43_200)))


class MemoryTaskQueue:
    """Keeps sent messages in a list (unit tests)."""

    def __init__(self) -> None:
        self.sent: list[dict[str, str]] = []
        self.delays: list[tuple[str, int]] = []

    def send(self, messages: Sequence[dict[str, str]]) -> None:
        self.sent.extend(messages)

    def delay(self, receipt_handle: str, seconds: int) -> None:
        self.delays.append((receipt_handle, seconds))
