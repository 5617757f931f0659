"""The one retry policy of the runtime: capped exponential backoff with full jitter.

Only infrastructure faults are retried, never an error in interview code:

- a turn that lost a version race to another writer of its session pauses
  `TURN_BACKOFF.pause(n)` before it runs again on fresh data (runtime.sessions);
- a background task whose attempt failed for lack of storage or queue (throttling,
  a conflict that kept coming back, an unreachable service) is sent again after
  `task_backoff(settings).seconds(n)` (runtime.worker). A worker that died or timed out
  is retried by its lease running out instead.

The pause before retry `n` (0 for the first retry) is a random share of
`min(cap, first * 2**n)`. The share comes from a `Jitter`, `random.random` unless a
caller (a test) passes another, so that retries stay deterministic where needed.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass

from chalicelib.settings import Settings

Jitter = Callable[[], float]  # a number in [0, 1): the share of the longest pause to take

# A turn's pauses: 10 ms before its first retry, doubling, never more than 0.4 s; the turn
# gives up after TURN_RETRY_SECONDS in all.
TURN_BACKOFF_FIRST_SECONDS = 0.01
TURN_BACKOFF_CAP_SECONDS = 0.4
# A background task is never delayed longer than this before its next attempt.
TASK_BACKOFF_CAP_SECONDS = 300.0


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with full jitter: retry `n` waits `jitter() * min(cap, first * 2**n)`."""

    first: float  # the longest pause before the first retry
    cap: float  # the longest pause before any retry

    def longest(self, retry: int) -> float:
        """The longest pause before retry `retry` (0-based)."""
        return min(self.cap, self.first * 2.0 ** min(max(retry, 0), 62))

    def pause(self, retry: int, jitter: Jitter = random.random) -> float:
        """The pause before retry `retry`, in seconds."""
        return min(max(jitter(), 0.0), 1.0) * self.longest(retry)

    def seconds(self, retry: int, jitter: Jitter = random.random) -> int:
        """The pause in whole seconds (a queue's delay), rounded up."""
        return math.ceil(self.pause(retry, jitter))


TURN_BACKOFF = Backoff(TURN_BACKOFF_FIRST_SECONDS, TURN_BACKOFF_CAP_SECONDS)


def task_backoff(settings: Settings) -> Backoff:
    """The backoff of a background task's retries: TASK_RETRY_SECONDS first, doubling, capped."""
    return Backoff(float(settings.task_retry_seconds), max(TASK_BACKOFF_CAP_SECONDS,
                                                              float(settings.task_retry_seconds)))


# Sending a recorded e-mail or SMS after its commit: SEND_ATTEMPTS tries in all, pausing 0.2 s before
# the first retry, doubling, at most 2 s; a message SES/SNS refuses for good is not retried.
SEND_ATTEMPTS = 3
SEND_BACKOFF = Backoff(0.2, 2.0)
