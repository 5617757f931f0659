"""The local stack's clock fires each `@app.schedule` handler when EventBridge would (UTC)."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from chalice import Chalice, Cron, Rate

from chalicelib.local.scheduler import Schedule, ScheduleError, Scheduler

UTC = dt.UTC


def at(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=UTC)


def test_the_apps_four_schedules_fire_on_the_hour_at_midnight_on_sundays_and_on_the_first() -> None:
    from app import app

    clock = Scheduler(app)
    by_name = {s.name: s for s in clock.schedules}
    now = at(2026, 12, 2, 10, 17, 30)  # a Wednesday
    assert by_name["cron_hourly"].next_time(now) == at(2026, 12, 2, 11, 0)
    assert by_name["cron_daily"].next_time(now) == at(2026, 12, 3, 0, 0)
    assert by_name["cron_weekly"].next_time(now) == at(2026, 12, 6, 0, 0)  # Sunday
    assert by_name["cron_monthly"].next_time(now) == at(2027, 1, 1, 0, 0)
    # Exactly on a firing minute, the next one is the following firing
    assert by_name["cron_hourly"].next_time(at(2026, 12, 2, 11, 0)) == at(2026, 12, 2, 12, 0)


def test_the_next_firing_is_every_handler_due_at_the_earliest_time() -> None:
    from app import app

    clock = Scheduler(app, now=lambda: at(2026, 12, 31, 23, 59, 59))  # a Thursday, before a new month
    first, due = clock.next_time()
    assert first == at(2027, 1, 1, 0, 0)
    assert sorted(s.name for s in due) == ["cron_daily", "cron_hourly", "cron_monthly"]


def test_a_weekday_may_be_a_number_counted_from_sunday_as_eventbridge_does() -> None:
    assert Schedule.of("x", Cron(30, 6, "?", "*", 2, "*")).next_time(at(2026, 12, 2)) == at(2026, 12, 7, 6, 30)


@pytest.mark.parametrize("expression", [Rate(5, unit=Rate.MINUTES), Cron("0/5", "*", "*", "*", "?", "*")])
def test_a_schedule_the_clock_cannot_follow_is_refused_with_a_reason(expression: Any) -> None:
    with pytest.raises(ScheduleError, match="local stack follows"):
        Schedule.of("every_five", expression)


def test_the_clock_fires_a_due_handler_once_and_stops_when_asked() -> None:
    app = Chalice("clock-test")
    fired: list[str] = []
    stopping = threading.Event()

    @app.schedule(Cron(0, "*", "*", "*", "?", "*"), name="hourly")
    def hourly(event: Any) -> None:
        fired.append(event.time)
        stopping.set()

    times = iter([at(2026, 12, 2, 10, 59, 59, 999000), at(2026, 12, 2, 11, 0, 0), at(2026, 12, 2, 11, 0, 0)])
    clock = Scheduler(app, now=lambda: next(times, at(2026, 12, 2, 11, 0, 1)))
    thread = threading.Thread(target=clock.run, args=(stopping,))
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive()
    assert fired == ["2026-12-02T11:00:00Z"]


def test_a_failing_handler_is_logged_and_the_clock_goes_on(caplog: Any) -> None:
    app = Chalice("clock-test")

    @app.schedule(Cron(0, 0, "*", "*", "?", "*"), name="daily")
    def daily(event: Any) -> None:
        raise RuntimeError("boom")

    clock = Scheduler(app)
    assert clock.fire(clock.schedules[0], at(2026, 12, 3)) is None
    assert any("daily failed" in r.getMessage() for r in caplog.records)
