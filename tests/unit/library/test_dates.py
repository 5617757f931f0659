"""Date helpers: parsing, DADateTime, intervals, differences and Babel formatting."""

from __future__ import annotations

import pickle
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from chalicelib.library import dates
from chalicelib.library.dates import (
    DADateTime,
    DateDifference,
    DateInterval,
    as_datetime,
    current_datetime,
    date_difference,
    date_interval,
    day_of,
    dow_of,
    format_date,
    format_datetime,
    format_time,
    month_of,
    today,
    year_of,
)

NEW_YORK = ZoneInfo("America/New_York")
NNBSP = "\u202f"  # CLDR puts a narrow no-break space before AM/PM


# --- as_datetime and current_datetime -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-02", datetime(2026, 1, 2)),
        ("01/02/2026", datetime(2026, 1, 2)),
        ("1/2/26", datetime(2026, 1, 2)),
        ("01-02-2026", datetime(2026, 1, 2)),
        ("2026/01/02", datetime(2026, 1, 2)),
        ("2026-01-02T10:00:00", datetime(2026, 1, 2, 10)),
        ("2026-01-02 10:00", datetime(2026, 1, 2, 10)),
        ("01/02/2026 3:30 PM", datetime(2026, 1, 2, 15, 30)),
        ("January 2, 2026", datetime(2026, 1, 2)),
        ("Jan 2, 2026", datetime(2026, 1, 2)),
        ("2 January 2026", datetime(2026, 1, 2)),
        ("  2026-01-02  ", datetime(2026, 1, 2)),
    ],
)
def test_as_datetime_reads_strings_in_the_default_zone(text: str, expected: datetime) -> None:
    value = as_datetime(text)
    assert isinstance(value, DADateTime)
    assert value.tzinfo == NEW_YORK
    assert value.replace(tzinfo=None) == expected


def test_as_datetime_converts_aware_values() -> None:
    assert as_datetime("2026-01-02T15:00:00Z").replace(tzinfo=None) == datetime(2026, 1, 2, 10)
    assert as_datetime("2026-07-02T15:00:00+00:00").hour == 11  # EDT in July
    aware = datetime(2026, 1, 2, 12, tzinfo=UTC)
    assert as_datetime(aware, timezone="America/Chicago").hour == 6
    assert as_datetime(aware, timezone="America/Chicago") == aware  # same instant


def test_as_datetime_from_objects() -> None:
    assert as_datetime(date(2026, 1, 2)) == datetime(2026, 1, 2, tzinfo=NEW_YORK)
    assert as_datetime(datetime(2026, 1, 2, 9, 30)) == datetime(2026, 1, 2, 9, 30, tzinfo=NEW_YORK)
    assert as_datetime("2026-01-02", timezone="Europe/Paris").tzinfo == ZoneInfo("Europe/Paris")
    assert as_datetime("2026-01-02", timezone=UTC).utcoffset() == timedelta(0)
    existing = as_datetime("2026-01-02")
    assert as_datetime(existing) == existing


@pytest.mark.parametrize("bad", ["garbage", "", "   ", "13/45/2026", 5, None, [2026, 1, 2]])
def test_as_datetime_rejects_what_it_cannot_read(bad: object) -> None:
    with pytest.raises(ValueError):
        as_datetime(bad)


def test_as_datetime_error_message_shows_accepted_forms() -> None:
    with pytest.raises(ValueError, match="2026-01-02"):
        as_datetime("the day after tomorrow")


def test_unknown_time_zone_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="Mars/Olympus"):
        as_datetime("2026-01-02", timezone="Mars/Olympus")


def test_current_datetime_is_now_in_new_york() -> None:
    before = datetime.now(UTC)
    now = current_datetime()
    after = datetime.now(UTC)
    assert isinstance(now, DADateTime)
    assert now.tzinfo == NEW_YORK
    assert before - timedelta(seconds=1) <= now <= after + timedelta(seconds=1)
    chicago = current_datetime("America/Chicago")
    assert chicago.tzinfo == ZoneInfo("America/Chicago")
    assert abs(chicago - now) < timedelta(seconds=5)


def test_today_is_midnight_of_the_current_date() -> None:
    before = current_datetime().date()
    value = today()
    after = current_datetime().date()
    assert isinstance(value, DADateTime)
    assert (value.hour, value.minute, value.second, value.microsecond) == (0, 0, 0, 0)
    assert value.date() in (before, after)
    assert value.tzinfo == NEW_YORK
    formatted = today(format="yyyy-MM-dd")
    assert formatted in (before.isoformat(), after.isoformat())


# --- DADateTime --------------------------------------------------------------------------------


def test_dadatetime_conveniences() -> None:
    d = as_datetime("2026-01-02T15:04:05")
    assert str(d) == "January 2, 2026"
    assert f"{d}" == "January 2, 2026"
    assert d.format() == "January 2, 2026"
    assert d.format("yyyy-MM-dd") == "2026-01-02"
    assert d.format_date("short") == "1/2/26"
    assert d.format_time("h:mm a") == "3:04 PM"
    assert d.format_time() == f"3:04{NNBSP}PM"
    assert d.format_datetime("yyyy-MM-dd HH:mm") == "2026-01-02 15:04"
    assert (d.year, d.month, d.day, d.hour) == (2026, 1, 2, 15)
    assert d.dow == 5  # Friday; Monday is 1
    assert as_datetime("2026-01-04").dow == 7  # Sunday
    assert d.week == 1
    assert d.replace_time(time(9, 30)) == datetime(2026, 1, 2, 9, 30, tzinfo=NEW_YORK)


def test_dadatetime_arithmetic_keeps_the_type() -> None:
    d = as_datetime("2026-01-31")
    for result in (d + timedelta(days=1), d - timedelta(days=1), d + date_interval(days=3),
                   date_interval(days=3) + d, d - date_interval(months=1), d.plus(months=1), d.minus(days=1),
                   d.replace(day=1), d.astimezone(UTC)):
        assert isinstance(result, DADateTime)
    assert d.plus(months=1) == datetime(2026, 2, 28, tzinfo=NEW_YORK)
    assert d.plus(years=1, days=1) == datetime(2027, 2, 1, tzinfo=NEW_YORK)
    assert d.minus(weeks=1) == datetime(2026, 1, 24, tzinfo=NEW_YORK)
    assert isinstance(d - as_datetime("2026-01-01"), timedelta)


def test_dadatetime_pickles() -> None:
    d = as_datetime("2026-01-02T10:00:00")
    copy = pickle.loads(pickle.dumps(d))
    assert type(copy) is DADateTime
    assert copy == d
    assert copy.tzinfo == NEW_YORK


# --- date_interval -----------------------------------------------------------------------------


def test_current_datetime_plus_interval() -> None:
    now = current_datetime()
    later = now + date_interval(days=3)
    assert isinstance(later, DADateTime)
    assert later - now == timedelta(days=3)


def test_interval_month_arithmetic_clamps_to_month_end() -> None:
    assert date(2026, 1, 31) + date_interval(months=1) == date(2026, 2, 28)
    assert date(2024, 1, 31) + date_interval(months=1) == date(2024, 2, 29)
    assert date(2024, 2, 29) + date_interval(years=1) == date(2025, 2, 28)
    assert date(2026, 3, 31) - date_interval(months=1) == date(2026, 2, 28)
    assert date(2026, 11, 15) + date_interval(months=3) == date(2027, 2, 15)
    assert date(2026, 1, 15) - date_interval(months=13) == date(2024, 12, 15)
    # Months first, then days (like relativedelta).
    assert date(2026, 1, 31) + date_interval(months=1, days=1) == date(2026, 3, 1)


def test_interval_on_plain_dates_and_times() -> None:
    assert date(2026, 1, 2) + date_interval(days=3) == date(2026, 1, 5)
    assert type(date(2026, 1, 2) + date_interval(days=3)) is date
    assert date(2026, 1, 2) + date_interval(hours=5) == datetime(2026, 1, 2, 5)  # promoted to midnight + 5h
    assert datetime(2026, 1, 2, 23) + date_interval(hours=2) == datetime(2026, 1, 3, 1)


def test_interval_attributes_normalize_like_relativedelta() -> None:
    span = date_interval(months=14, hours=25, minutes=-30)
    assert (span.years, span.months, span.days, span.hours, span.minutes) == (1, 2, 1, 0, 30)
    assert date_interval(days=10).weeks == 1
    assert date_interval(weeks=2).days == 14
    negative = -date_interval(years=1, days=2)
    assert (negative.years, negative.months, negative.days) == (-1, 0, -2)
    assert date_interval(seconds=90).minutes == 1
    assert date_interval(seconds=90).seconds == 30
    assert date_interval(microseconds=5).microseconds == 5


def test_interval_algebra() -> None:
    assert date_interval(days=3) + date_interval(weeks=1) == date_interval(days=10)
    assert date_interval(days=3) + timedelta(hours=1) == date_interval(days=3, hours=1)
    assert timedelta(hours=1) + date_interval(days=3) == date_interval(days=3, hours=1)
    assert date_interval(months=2) - date_interval(months=3) == date_interval(months=-1)
    assert date_interval(months=2) * 3 == date_interval(months=6)
    assert 2 * date_interval(days=1) == date_interval(days=2)
    assert not date_interval()
    assert date_interval(days=1)
    assert hash(date_interval(days=7)) == hash(date_interval(weeks=1))
    assert repr(date_interval(years=1, days=-3)) == "date_interval(years=+1, days=-3)"
    with pytest.raises(ValueError):
        date_interval(months=1.5)


def test_interval_pickles() -> None:
    span = date_interval(years=1, months=2, hours=3)
    copy = pickle.loads(pickle.dumps(span))
    assert isinstance(copy, DateInterval)
    assert copy == span


# --- date_difference ---------------------------------------------------------------------------


def test_date_difference_over_two_weeks() -> None:
    diff = date_difference(starting="2026-01-01", ending="2026-01-15")
    assert isinstance(diff, DateDifference)
    assert diff.delta == timedelta(days=14)
    assert diff.days == 14.0
    assert diff.weeks == 2.0
    assert diff.hours == 336.0
    assert diff.minutes == 336.0 * 60
    assert diff.seconds == 336.0 * 3600
    assert diff.years == pytest.approx(14 / 365.2425)
    assert diff.describe() == "14 days"


def test_date_difference_years_and_sign() -> None:
    diff = date_difference(starting="2024-01-01", ending="2026-01-01")
    assert diff.days == 731.0  # 2024 is a leap year
    assert diff.years == pytest.approx(731 / 365.2425)
    backwards = date_difference(starting="2026-01-08", ending="2026-01-01")
    assert backwards.weeks == -1.0
    assert backwards.delta == timedelta(days=-7)


def test_date_difference_is_elapsed_time_across_daylight_saving() -> None:
    # Clocks in New York spring forward on 2026-03-08, so the span is an hour short of 14 days.
    diff = date_difference(starting="2026-03-01", ending="2026-03-15")
    assert diff.hours == 14 * 24 - 1
    assert diff.describe() == "14 days"  # the calendar description counts local days


def test_date_difference_mixed_inputs_and_zones() -> None:
    diff = date_difference(starting=date(2026, 1, 1), ending=datetime(2026, 1, 1, 12, 0, tzinfo=UTC))
    assert diff.hours == 7.0  # midnight New York is 05:00 UTC
    utc = date_difference(starting="2026-01-01", ending="2026-01-02", timezone="UTC")
    assert utc.starting.tzinfo == ZoneInfo("UTC")
    assert utc.days == 1.0


def test_date_difference_defaults_to_now() -> None:
    since = date_difference(starting=current_datetime() - timedelta(hours=2))
    assert since.hours == pytest.approx(2.0, abs=0.01)
    until = date_difference(ending=current_datetime() + timedelta(days=1))
    assert until.days == pytest.approx(1.0, abs=0.001)
    assert abs(date_difference().seconds) < 5


def test_describe() -> None:
    diff = date_difference(starting="2024-01-01", ending="2026-04-01")
    assert diff.describe() == "two years and three months"
    assert diff.describe(nice=False) == "2 years and 3 months"
    assert diff.describe(capitalize=True) == "Two years and three months"
    assert diff.describe(specificity="year") == "two years"
    detailed = date_difference(starting="2026-01-01T00:00:00", ending="2027-02-02T05:03:01")
    assert detailed.describe() == "one year, one month, one day, five hours, three minutes, and one second"
    assert detailed.describe(specificity="day") == "one year, one month, and one day"
    assert detailed.describe(specificity="hours") == "one year, one month, one day, and five hours"
    assert date_difference(starting="2026-01-01", ending="2026-01-04").describe() == "three days"
    # The sign is dropped; the month boundary is clamped like date_interval.
    backwards = date_difference(starting="2026-04-01", ending="2024-01-01")
    assert backwards.describe() == "two years and three months"
    assert date_difference(starting="2026-01-31", ending="2026-02-28").describe() == "one month"
    assert date_difference(starting="2026-01-31", ending="2026-02-27").describe() == "27 days"


def test_describe_of_nothing_and_bad_specificity() -> None:
    same = date_difference(starting="2026-01-01", ending="2026-01-01")
    assert same.describe() == "zero seconds"
    short = date_difference(starting="2026-01-01T00:00", ending="2026-01-01T05:00")
    assert short.describe(specificity="day") == "zero days"
    with pytest.raises(ValueError):
        same.describe(specificity="fortnight")


def test_date_difference_pickles() -> None:
    diff = date_difference(starting="2024-01-01", ending="2026-04-01")
    copy = pickle.loads(pickle.dumps(diff))
    assert copy.days == diff.days
    assert copy.describe() == diff.describe()


# --- formatting --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        (None, "January 2, 2026"),
        ("long", "January 2, 2026"),
        ("short", "1/2/26"),
        ("medium", "Jan 2, 2026"),
        ("full", "Friday, January 2, 2026"),
        ("MMMM d, yyyy", "January 2, 2026"),
        ("yyyy-MM-dd", "2026-01-02"),
        ("MM/dd/yyyy", "01/02/2026"),
        ("EEEE, MMMM d", "Friday, January 2"),
        ("d MMM yyyy", "2 Jan 2026"),
    ],
)
def test_format_date_patterns(fmt: str | None, expected: str) -> None:
    assert format_date("2026-01-02", fmt) == expected


def test_format_date_inputs() -> None:
    assert format_date("2026-01-02") == "January 2, 2026"
    assert format_date(date(2026, 1, 2)) == "January 2, 2026"
    assert format_date(datetime(2026, 1, 2, 23, 59)) == "January 2, 2026"
    assert format_date(as_datetime("01/02/2026"), format="yyyy-MM-dd") == "2026-01-02"
    assert format_date("2026-01-02", format="full", language="es") == "viernes, 2 de enero de 2026"
    assert format_date("2026-01-02", language="zz") == "January 2, 2026"


@pytest.mark.parametrize("empty", [None, "", "   "])
def test_format_date_of_nothing_is_empty(empty: object) -> None:
    assert format_date(empty) == ""


@pytest.mark.parametrize("bad", ["not a date", "2026-13-45", 42])
def test_format_date_of_garbage_is_bad_date(bad: object) -> None:
    assert format_date(bad) == "Bad date"


def test_format_time() -> None:
    assert format_time("15:30") == f"3:30{NNBSP}PM"
    assert format_time("15:30", "h:mm a") == "3:30 PM"
    assert format_time("3:30 pm", "HH:mm") == "15:30"
    assert format_time(time(9, 5), "HH:mm") == "09:05"
    assert format_time(as_datetime("2026-01-02T10:15"), "h:mm a") == "10:15 AM"
    assert format_time("2026-01-02T10:15", "medium") == f"10:15:00{NNBSP}AM"
    assert format_time(None) == ""
    assert format_time("noonish") == "Bad time"


def test_format_datetime() -> None:
    assert format_datetime("2026-01-02T15:30", "yyyy-MM-dd HH:mm") == "2026-01-02 15:30"
    assert format_datetime("2026-01-02T15:30") == f"January 2, 2026, 3:30:00{NNBSP}PM EST"
    assert format_datetime(datetime(2026, 7, 2, 15, 30)) == f"July 2, 2026, 3:30:00{NNBSP}PM EDT"
    assert format_datetime(datetime(2026, 1, 2, 12, tzinfo=UTC), "HH:mm") == "12:00"
    assert format_datetime("2026-01-02", "short") == f"1/2/26, 12:00{NNBSP}AM"
    assert format_datetime("") == ""
    assert format_datetime("whenever") == "Bad date"


def test_parts_of_dates() -> None:
    assert month_of("2026-01-02") == 1
    assert month_of("2026-01-02", as_word=True) == "January"
    assert month_of(date(2026, 3, 1), as_word=True, language="fr") == "mars"
    assert day_of("2026-01-02") == 2
    assert year_of("01/02/2026") == 2026
    assert dow_of("2026-01-02") == 5
    assert dow_of("2026-01-05") == 1
    assert dow_of("2026-01-02", as_word=True) == "Friday"
    with pytest.raises(ValueError):
        day_of("garbage")


def test_public_names_are_documented() -> None:
    for name in dates.__all__:
        if name == "DEFAULT_TIMEZONE":
            continue
        doc = getattr(dates, name).__doc__
        assert doc and "Example" in doc, name


def test_a_time_alone_is_that_time_today_and_the_zone_list_is_sorted_names() -> None:
    from chalicelib.library.dates import as_datetime, current_datetime, timezone_list

    for text, hour, minute in (("07:30", 7, 30), ("7:30 PM", 19, 30), ("23:05:09", 23, 5)):
        moment = as_datetime(text, timezone="UTC")
        assert (moment.hour, moment.minute) == (hour, minute)
        assert abs((moment.date() - current_datetime("UTC").date()).days) <= 1  # today (as of the call)
    zones = timezone_list()
    assert zones == sorted(zones) and "America/New_York" in zones and "UTC" in zones
    assert not any(z.startswith(("posix/", "right/")) for z in zones)
    with pytest.raises(ValueError, match="cannot read"):
        as_datetime("25:99")
