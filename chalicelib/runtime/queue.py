"""The task queue port: SQS on AWS and in the local stack, a list in unit tests.

Messages carry only ids ({"i", "session", "task"}); everything else is in the
task record, sealed. boto3 is imported on first use.

`MemoryTaskQueue.drain(handler)` runs the in-memory queue dry, as dramatiq's
StubBroker.join() does: each pending message's body (its JSON text, as SQS
delivers it) goes to the handler, a retried message comes back at once (no
delays, no sleeps), and a queue that never empties is an error.
"""

from __future__ import annotations

import enum
import itertools
import json
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from chalicelib.runtime.errors import RuntimeLayerError


class Disposition(enum.Enum):
    ACK = "ack"  # done with this message: delete it
    RETRY = "retry"  # try again after a delay (a batch item failure)
    GIVE_UP = "give_up"  # the task is failed; let the redrive move the message to the DLQ


@dataclass(frozen=True)
class Handled:
    disposition: Disposition
    delay: int = 0


class QueueError(RuntimeLayerError):
    """The task queue could not be reached."""


class QueueNotDrainedError(RuntimeLayerError):
    """`MemoryTaskQueue.drain` gave up: messages were still pending after its rounds."""


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


@dataclass(frozen=True)
class Received:
    """One delivery of a message to `MemoryTaskQueue.drain`'s handler."""

    message_id: str
    body: str
    receive_count: int  # 1 on the first delivery, as SQS's ApproximateReceiveCount
    disposition: str  # "ack", "retry" or "give_up": what the handler answered


@dataclass
class _Message:
    message_id: str
    body: str
    receives: int = 0


class MemoryTaskQueue:
    """Keeps sent messages in memory (unit tests): `sent` holds every message ever sent, and
    `drain` hands the pending ones to a worker until none is left.

    As on SQS, a message the handler retries is delivered again (at once here: delays are
    recorded, not waited for), and one it gives up on moves to `dead_letters`, where SQS's
    redrive would put it."""

    def __init__(self) -> None:
        self.sent: list[dict[str, str]] = []
        self.delays: list[tuple[str, int]] = []
        self.received: list[Received] = []
        self.dead_letters: list[str] = []
        self._pending: deque[_Message] = deque()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def send(self, messages: Sequence[dict[str, str]]) -> None:
        with self._lock:
            self.sent.extend(messages)
            self._pending.extend(_Message(f"m{next(self._ids)}", json.dumps(m, sort_keys=True)) for m in messages)

    def delay(self, receipt_handle: str, seconds: int) -> None:
        with self._lock:
            self.delays.append((receipt_handle, seconds))

    def pending(self) -> list[str]:
        """The bodies of the messages waiting to be received, oldest first."""
        with self._lock:
            return [m.body for m in self._pending]

    def drain(self, handler: Callable[[str], object], max_rounds: int = 10) -> int:
        """Hand every pending message's body to `handler` until the queue is empty; the number
        of deliveries made.

        Each round delivers the messages pending when it began, oldest first; what the handler
        sends meanwhile, and the messages it answers with a RETRY disposition, wait for the next
        round. An answer without a disposition (None) or ACK deletes the message, GIVE_UP moves
        it to `dead_letters`. An exception from the handler leaves its message pending and
        propagates. Raises QueueNotDrainedError when messages remain after `max_rounds` rounds
        (a task that retries forever, or tasks that keep starting tasks)."""
        delivered = 0
        for _ in range(max_rounds):
            with self._lock:
                batch, self._pending = list(self._pending), deque()
            if not batch:
                return delivered
            for position, message in enumerate(batch):
                delivered += 1
                try:
                    disposition = _deliver(message, handler)
                except BaseException:
                    with self._lock:  # this message and the rest of the round stay pending, in order
                        self._pending.extendleft(reversed(batch[position:]))
                    raise
                self._settle(message, disposition)
        left = self.pending()
        if not left:
            return delivered
        raise QueueNotDrainedError(
            f"the queue was not empty after {max_rounds} round(s) ({delivered} deliveries): {len(left)} message(s) "
            f"still pending, first {left[0]}; a handler that keeps answering RETRY or keeps sending new messages "
            f"never drains it (raise max_rounds if more rounds are expected)")

    def _settle(self, message: _Message, disposition: Disposition) -> None:
        """Record a delivery; a retried message waits for the next round, a given-up one is dead."""
        with self._lock:
            self.received.append(Received(message.message_id, message.body, message.receives, disposition.value))
            if disposition is Disposition.RETRY:
                self._pending.append(message)
            elif disposition is Disposition.GIVE_UP:
                self.dead_letters.append(message.body)


def _deliver(message: _Message, handler: Callable[[str], object]) -> Disposition:
    """One receive of `message`: the disposition the handler answered (None counts as ACK)."""
    message.receives += 1
    answer = handler(message.body)
    disposition = getattr(answer, "disposition", answer)
    if disposition is None:
        return Disposition.ACK
    if not isinstance(disposition, Disposition):
        raise TypeError(f"the drain's handler must answer None, a Disposition or an object with a `disposition`, "
                        f"not {answer!r}")
    return disposition
