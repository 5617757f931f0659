"""last_access_time() and friends: the latest save of the users asked for (issue 11 §5)."""

from __future__ import annotations

import datetime as dt

import pytest

from chalicelib.engine.state import ANONYMOUS, MAX_ACCESS_USERS, Access, SessionState
from chalicelib.library.access import as_time, delta, latest

STAMPS = {
    ANONYMOUS: Access(100.0, ()),
    "ann": Access(200.0, ("user",)),
    "ada": Access(300.0, ("admin", "advocate")),
    "bob": Access(250.0, ()),
    "cron": Access(400.0, ("cron",)),
}


@pytest.mark.parametrize(("include", "exclude", "cron", "expected"), [
    (None, None, False, 300.0),  # the cron user does not count by default
    (None, None, True, 400.0),
    (["cron"], None, False, 400.0),  # naming it counts it
    ("anonymous", None, False, 100.0),
    ("user", None, False, 250.0),  # ann holds 'user'; bob holds none, which counts as 'user'
    (["advocate", "anonymous"], None, False, 300.0),
    (None, ["admin"], False, 250.0),
    (None, "anonymous", True, 400.0),
    ("developer", None, False, None),
])
def test_the_latest_stamp_of_the_users_asked_for(include: object, exclude: object, cron: bool,
                                                 expected: float | None) -> None:
    assert latest(STAMPS, include, exclude, cron) == expected


def test_a_time_in_utc_or_in_a_zone_and_a_delta_of_zero_when_nobody_saved() -> None:
    moment = as_time(0.0)
    assert moment is not None and moment.tzinfo == dt.UTC and moment.year == 1970
    in_new_york = as_time(0.0, "America/New_York")
    assert in_new_york is not None and in_new_york.hour == 19 and in_new_york == moment
    assert as_time(None) is None
    assert delta(None, 1000.0) == dt.timedelta(0)
    assert delta(400.0, 1000.0) == dt.timedelta(seconds=600)


def test_the_state_keeps_the_latest_users_saves_and_reads_them_back() -> None:
    state = SessionState()
    for number in range(MAX_ACCESS_USERS + 5):
        state.record_access(f"user{number}", ["user"], float(number))
    state.record_access("", [], 1000.0)  # an anonymous save
    state.record_access("user0", ["admin"], 2000.0)  # an old user saves again: kept, with today's privileges
    kept = SessionState.restore(state.saved()).access
    assert len(kept) == MAX_ACCESS_USERS
    assert kept["user0"] == Access(2000.0, ("admin",)) and kept[ANONYMOUS].time == 1000.0
    assert "user5" not in kept and "user54" in kept


def test_a_state_saved_before_access_times_reads_with_none() -> None:
    saved = SessionState().saved()
    del saved["access"]
    saved["schema"] = 3
    assert SessionState.restore(saved).access == {}
