"""Fire the app's `@app.schedule` handlers on the wall clock, as EventBridge does on AWS.

Each handler's schedule is its Chalice `Cron(...)` expression (minutes, hours,
day of month, month, day of week, year; UTC); the next time it matches is found
minute by minute, and the thread sleeps until the earliest one (or until the
stack stops). A handler gets an EventBridge "Scheduled Event" and a Lambda
context, like on AWS; its failure is logged and the clock goes on. The
local stack runs it in a thread; tests call `fire()` or `next_time()`.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

_DAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
_LOOK_AHEAD_MINUTES = 366 * 24 * 60  # every expression we accept matches within a year


class ScheduleError(ValueError):
    """A schedule the local clock cannot follow (only `Cron(...)` with `*`, `?` or one value per field)."""


@dataclass(frozen=True)
class Schedule:
    name: str  # the handler's name (the EventBridge rule's)
    minute: int | None  # None: any
    hour: int | None
    day: int | None  # day of the month
    month: int | None
    weekday: int | None  # 0 = Monday

    @classmethod
    def of(cls, name: str, expression: Any) -> Schedule:
        fields = [getattr(expression, f, None) for f in ("minutes", "hours", "day_of_month", "month", "day_of_week")]
        if any(f is None for f in fields):
            raise ScheduleError(f"schedule {name!r}: the local stack follows Cron(...) expressions only; "
                                f"found {expression!r}")
        minute, hour, day, month, weekday = fields
        return cls(name, _value(name, minute), _value(name, hour), _value(name, day), _value(name, month),
                   _weekday(name, weekday))

    def matches(self, at: dt.datetime) -> bool:
        wanted = ((self.minute, at.minute), (self.hour, at.hour), (self.day, at.day), (self.month, at.month),
                  (self.weekday, at.weekday()))
        return all(value is None or value == actual for value, actual in wanted)

    def next_time(self, after: dt.datetime) -> dt.datetime:
        """The first minute after `after` (UTC) that the schedule matches."""
        at = after.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
        for _ in range(_LOOK_AHEAD_MINUTES):
            if self.matches(at):
                return at
            at += dt.timedelta(minutes=1)
        raise ScheduleError(f"schedule {self.name!r} never fires within a year")


def _value(name: str, field: Any) -> int | None:
    if field in ("*", "?"):
        return None
    try:
        return int(field)
    except (TypeError, ValueError):
        raise ScheduleError(f"schedule {name!r}: the local stack follows '*', '?' or one number per field; "
                            f"found {field!r}") from None


def _weekday(name: str, field: Any) -> int | None:
    if isinstance(field, str) and field.upper() in _DAYS:
        return _DAYS.index(field.upper())
    value = _value(name, field)
    return None if value is None else (value - 2) % 7  # EventBridge counts 1 = Sunday


def schedules(app: Any) -> list[Schedule]:
    from chalice.app import ScheduledEventConfig

    return [Schedule.of(s.name, s.schedule_expression) for s in app.event_sources
            if isinstance(s, ScheduledEventConfig)]


class Scheduler:
    def __init__(self, app: Any, now: Callable[[], dt.datetime] | None = None) -> None:
        self.app = app
        self.schedules = schedules(app)
        self._now = now or (lambda: dt.datetime.now(dt.UTC))

    def next_time(self, fired: dt.datetime | None = None) -> tuple[dt.datetime, list[Schedule]]:
        """When the next handlers fire, and which: after now, and after the time last `fired`."""
        now = self._now() if fired is None else max(self._now(), fired)
        times = {s: s.next_time(now) for s in self.schedules}
        first = min(times.values())
        return first, [s for s, at in times.items() if at == first]

    def fire(self, schedule: Schedule, at: dt.datetime) -> Any:
        """Call the handler as EventBridge would; its failure is logged, not raised."""
        from chalice.local import LambdaContext

        event = {"version": "0", "id": f"local-{schedule.name}-{at:%Y%m%dT%H%M}", "detail-type": "Scheduled Event",
                 "source": "aws.events", "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"), "region": "us-east-1",
                 "account": "123456789012", "detail": {},
                 "resources": [f"arn:aws:events:us-east-1:123456789012:rule/{schedule.name}"]}
        try:
            result = self.app.handler_map[schedule.name](event, LambdaContext(schedule.name, 512))
        except Exception:
            log.exception("scheduled handler %s failed", schedule.name)
            return None
        log.info("scheduled %s at %s: %s", schedule.name, event["time"], result)
        return result

    def run(self, stopping: threading.Event) -> None:
        """Fire each handler at its times until `stopping` is set."""
        if not self.schedules:
            return
        fired: dt.datetime | None = None
        while not stopping.is_set():
            at, due = self.next_time(fired)
            if stopping.wait(max(0.0, (at - self._now()).total_seconds())):
                return
            for schedule in due:
                self.fire(schedule, at)
            fired = at  # a wait that ends a little early does not fire the same minute twice
