"""Feed SQS queues to the app's own SQS handlers, as Lambda's event source mapping does.

For each `@app.on_sqs_message` handler, messages are received from its queue in
batches, wrapped in a Lambda SQS event (same record shape), and passed to the
handler. Messages the handler reports in `batchItemFailures` are left on the
queue, so SQS's visibility timeout and redrive policy (moto's, from
infra/resources.yaml) give the same retries and dead-letter behaviour as AWS.
The local stack runs it in a thread; tests call `drain()` to run the queues dry.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

# How often an idle worker looks at its queues without being woken. The local stack wakes it
# for every task sent and when a retry's delay ends; this slow poll is the safety net for the
# rest (a message whose handler died, seen again after its visibility timeout).
IDLE_POLL_SECONDS = 5.0


@dataclass(frozen=True)
class _Source:
    handler_name: str
    queue_name: str
    batch_size: int


class QueueDrainer:
    def __init__(self, app: Any, sqs: Any = None, region: str = "us-east-1") -> None:
        from chalice.app import SQSEventConfig

        self.app = app
        self.region = region
        self._sqs = sqs
        self._urls: dict[str, str] = {}
        self.sources = [_Source(config.name, str(config.queue), min(config.batch_size, 10))
                        for config in app.event_sources if isinstance(config, SQSEventConfig) and config.queue]

    @property
    def sqs(self) -> Any:
        if self._sqs is None:
            import boto3

            self._sqs = boto3.client("sqs", region_name=self.region)
        return self._sqs

    def _url(self, queue: str) -> str:
        if queue not in self._urls:
            self._urls[queue] = self.sqs.get_queue_url(QueueName=queue)["QueueUrl"]
        return self._urls[queue]

    def poll(self, source: _Source, wait_seconds: int = 0) -> int:
        """Receive one batch from the source's queue and hand it to its handler; the count handled."""
        url = self._url(source.queue_name)
        received = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=source.batch_size,
                                            WaitTimeSeconds=wait_seconds, AttributeNames=["All"])
        messages = received.get("Messages", [])
        if not messages:
            return 0
        event = {"Records": [self._record(source, url, m) for m in messages]}
        from chalice.local import LambdaContext

        try:
            response = self.app.handler_map[source.handler_name](event, LambdaContext(source.handler_name, 512))
        except Exception:  # as on Lambda: the whole batch comes back after the visibility timeout
            log.exception("handler %s failed on a batch of %d", source.handler_name, len(messages))
            return len(messages)
        failed = {f["itemIdentifier"] for f in (response or {}).get("batchItemFailures", [])}
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self.sqs.delete_message_batch(QueueUrl=url, Entries=[
                {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(done)])
        return len(messages)

    def _record(self, source: _Source, url: str, message: dict[str, Any]) -> dict[str, Any]:
        account = url.rstrip("/").split("/")[-2]
        return {
            "messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"], "body": message["Body"],
            "attributes": message.get("Attributes", {}), "messageAttributes": message.get("MessageAttributes", {}),
            "md5OfBody": message.get("MD5OfBody", ""), "eventSource": "aws:sqs", "awsRegion": self.region,
            "eventSourceARN": f"arn:aws:sqs:{self.region}:{account}:{source.queue_name}",
        }

    def drain(self, max_rounds: int = 50, settle_seconds: float = 0.0) -> int:
        """Poll every queue until all are empty (of visible messages); the count handled."""
        total = 0
        for _ in range(max_rounds):
            handled = sum(self.poll(source) for source in self.sources)
            total += handled
            if not handled:
                if settle_seconds <= 0:
                    break
                time.sleep(settle_seconds)
                settle_seconds = 0.0
        return total

    def run(self, stopping: threading.Event, wake: threading.Event | None = None,
            idle_seconds: float = IDLE_POLL_SECONDS) -> None:
        """Poll until `stopping` is set (the local stack's worker thread).

        After a round that found nothing, it sleeps until `wake` is set (the app sent a task)
        or `idle_seconds` pass: that slow poll finds the messages that become visible again
        by themselves (a retry's delay, the dead-letter queue's redrive). No SQS long
        polling: the embedded moto answers one request at a time, so a long poll would hold
        up every other request while it waits."""
        wake = wake or threading.Event()
        while not stopping.is_set():
            wake.clear()  # a send from now on wakes the next wait, even one during this round
            handled = 0
            for source in self.sources:
                if stopping.is_set():
                    break
                try:
                    handled += self.poll(source)
                except Exception:  # keep draining: a bad moment of the queue must not stop the worker
                    log.exception("polling %s failed", source.queue_name)
                    stopping.wait(1.0)
            if not handled:
                wake.wait(idle_seconds)
