"""The local stack's task queue wakes the sleeping worker: at once for a send, and when a
retry's delay ends (so an idle worker need not poll often)."""

from __future__ import annotations

import threading

from chalicelib.local.stack import WakingQueue
from chalicelib.runtime.queue import MemoryTaskQueue

# A bound for something that should happen at once, not a measured time: a loaded machine
# only uses more of it, and the tests wait on an event rather than sleeping.
BOUND_SECONDS = 30


def test_a_send_reaches_the_queue_and_wakes_the_worker() -> None:
    inner, wake = MemoryTaskQueue(), threading.Event()
    queue = WakingQueue(inner, wake)
    queue.send([{"i": "x.yml", "session": "s", "task": "t"}])
    assert inner.sent == [{"i": "x.yml", "session": "s", "task": "t"}]
    assert wake.is_set()


def test_a_delayed_retry_wakes_the_worker_when_its_delay_ends_not_before() -> None:
    inner, wake = MemoryTaskQueue(), threading.Event()
    queue = WakingQueue(inner, wake)
    queue.delay("receipt-1", 0)
    assert inner.delays == [("receipt-1", 0)]
    assert wake.wait(BOUND_SECONDS)
    wake.clear()
    queue.delay("receipt-2", 3600)
    assert not wake.is_set()  # an hour's delay has not ended
