"""Date and time helpers for interview authors (docassemble's names and semantics).

Dates are `DADateTime` objects: ordinary time-zone-aware ``datetime`` values with
a few conveniences (``.format()``, ``.plus(days=3)``, ``.dow``). Naive values and
strings are taken to be in the default time zone, America/New_York, unless a
``timezone`` argument says otherwise. Formatting uses Babel's CLDR patterns
("MMMM d, yyyy") and the names short, medium, long and full.

Everything here is pure: the only outside input is the clock, read by
`current_datetime`, `today` and by `date_difference` when an end is missing.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any, Literal, TypeVar, cast, overload
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from chalicelib.library.text import comma_and_list, nice_number, noun_plural

__all__ = [
    "DEFAULT_TIMEZONE",
    "DADateTime",
    "DateDifference",
    "DateInterval",
    "as_datetime",
    "current_datetime",
    "date_difference",
    "date_interval",
    "day_of",
    "dow_of",
    "format_date",
    "format_datetime",
    "format_time",
    "month_of",
    "timezone_list",
    "today",
    "year_of",
]

DEFAULT_TIMEZONE = "America/New_York"

_D = TypeVar("_D", bound=date)

# Forms accepted by as_datetime() besides ISO 8601 (which datetime.fromisoformat reads).
_DATE_FORMATS = (
    "%m/%d/%Y",
    "%m/%d/%y",
    "%m-%d-%Y",
    "%Y/%m/%d",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M%p",
    "%B %d, %Y",
    "%b %d, %Y",
    "%B %d %Y",
    "%b %d %Y",
    "%d %B %Y",
    "%d %b %Y",
    "%A, %B %d, %Y",
    "%a, %b %d, %Y",
    "%B %d, %Y %I:%M %p",
)
_TIME_FORMATS = ("%I:%M %p", "%I:%M%p", "%I:%M:%S %p", "%I %p", "%I%p")


def _zone(timezone: str | tzinfo | None) -> tzinfo:
    """The tzinfo for a zone name (or tzinfo); None means DEFAULT_TIMEZONE."""
    if isinstance(timezone, tzinfo):
        return timezone
    name = DEFAULT_TIMEZONE if timezone is None else str(timezone)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise ValueError(f"unknown time zone {name!r}; use a name like 'America/New_York'") from err


def _as_da(value: datetime) -> DADateTime:
    if isinstance(value, DADateTime):
        return value
    return DADateTime(
        value.year, value.month, value.day, value.hour, value.minute, value.second, value.microsecond,
        tzinfo=value.tzinfo, fold=value.fold,
    )


def _shift_months(value: _D, months: int) -> _D:
    """Move a date by whole months, clamping the day to the month's length (Jan 31 + 1 month = Feb 28)."""
    if not months:
        return value
    index = value.year * 12 + (value.month - 1) + months
    year, month0 = divmod(index, 12)
    last_day = calendar.monthrange(year, month0 + 1)[1]
    return value.replace(year=year, month=month0 + 1, day=min(value.day, last_day))


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _locale(language: str | None) -> str:
    """A Babel locale name for `language`, falling back to English."""
    if not language:
        return "en"
    from babel.core import Locale, UnknownLocaleError

    try:
        Locale.parse(language.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return "en"
    return language.replace("-", "_")


class DADateTime(datetime):
    """A time-zone-aware ``datetime`` with author conveniences.

    Everything a ``datetime`` does works (``.year``, ``.month``, ``.day``,
    ``.hour``, comparison, subtraction). Adding a ``timedelta`` or a
    `date_interval` gives back a DADateTime. ``str()`` gives the long date
    ("January 2, 2026"), so ``${ due_date }`` reads well in a template.

    Example::

        d = as_datetime('2026-01-02')
        d.format('yyyy-MM-dd')     # '2026-01-02'
        d.plus(months=1).day       # 2
        d.dow                      # 5 (Friday)
    """

    def __str__(self) -> str:
        return format_date(self)

    @property
    def dow(self) -> int:
        """Day of the week: 1 is Monday ... 7 is Sunday."""
        return self.isoweekday()

    @property
    def week(self) -> int:
        """ISO week number (1-53)."""
        return self.isocalendar()[1]

    def format(self, format: str | None = None, language: str | None = None) -> str:
        """The date formatted like `format_date`: ``d.format('MMMM d, yyyy')``."""
        return format_date(self, format=format, language=language)

    def format_date(self, format: str | None = None, language: str | None = None) -> str:
        """Same as ``.format()``: ``d.format_date('short')`` gives '1/2/26'."""
        return format_date(self, format=format, language=language)

    def format_time(self, format: str | None = None, language: str | None = None) -> str:
        """The time of day like `format_time`: ``d.format_time('h:mm a')``."""
        return format_time(self, format=format, language=language)

    def format_datetime(self, format: str | None = None, language: str | None = None) -> str:
        """Date and time like `format_datetime`: ``d.format_datetime('short')``."""
        return format_datetime(self, format=format, language=language)

    def plus(self, **kwargs: int | float) -> DADateTime:
        """A later date: ``d.plus(years=1, days=3)``; takes the arguments of `date_interval`."""
        return self + DateInterval(**kwargs)

    def minus(self, **kwargs: int | float) -> DADateTime:
        """An earlier date: ``d.minus(months=6)``; takes the arguments of `date_interval`."""
        return self - DateInterval(**kwargs)

    def replace_time(self, value: time) -> DADateTime:
        """The same day at another time: ``d.replace_time(time(14, 30))``."""
        return self.replace(
            hour=value.hour, minute=value.minute, second=value.second, microsecond=value.microsecond
        )


_US_PER = {"day": 86_400_000_000, "hour": 3_600_000_000, "minute": 60_000_000, "second": 1_000_000}


class DateInterval:
    """A span of calendar time: years and months plus an exact duration.

    Built by `date_interval`. Add it to (or subtract it from) a date or
    datetime; months are added first, clamping to the end of the month
    (January 31 plus one month is February 28 or 29), then the rest. Like
    dateutil's ``relativedelta`` it exposes ``years``, ``months``, ``weeks``,
    ``days``, ``hours``, ``minutes``, ``seconds`` and ``microseconds``, carrying
    overflow upward (``date_interval(months=14).years == 1``).

    Example::

        as_datetime('2026-01-31') + date_interval(months=1)   # February 28, 2026
        date_interval(days=3) + date_interval(weeks=1)         # date_interval(days=+10)
    """

    __slots__ = ("_months", "_delta")

    def __init__(
        self,
        years: int | float = 0,
        months: int | float = 0,
        weeks: int | float = 0,
        days: int | float = 0,
        hours: int | float = 0,
        minutes: int | float = 0,
        seconds: int | float = 0,
        microseconds: int | float = 0,
    ) -> None:
        if int(years) != years or int(months) != months:
            raise ValueError("date_interval() years and months must be whole numbers")
        self._months: int = int(years) * 12 + int(months)
        self._delta: timedelta = timedelta(
            weeks=weeks, days=days, hours=hours, minutes=minutes, seconds=seconds, microseconds=microseconds
        )

    @staticmethod
    def _of(months: int, delta: timedelta) -> DateInterval:
        made = DateInterval()
        made._months = months
        made._delta = delta
        return made

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_interval, (self._months, self._delta))

    def _month_part(self, years: bool) -> int:
        sign = -1 if self._months < 0 else 1
        whole, rest = divmod(abs(self._months), 12)
        return sign * (whole if years else rest)

    def _delta_part(self, unit: str | None) -> int:
        total = self._delta // timedelta(microseconds=1)
        sign = -1 if total < 0 else 1
        rest = abs(total)
        for name, size in _US_PER.items():
            count, rest = divmod(rest, size)
            if name == unit:
                return sign * count
        return sign * rest

    @property
    def years(self) -> int:
        return self._month_part(years=True)

    @property
    def months(self) -> int:
        return self._month_part(years=False)

    @property
    def days(self) -> int:
        return self._delta_part("day")

    @property
    def weeks(self) -> int:
        return int(self.days / 7)

    @property
    def hours(self) -> int:
        return self._delta_part("hour")

    @property
    def minutes(self) -> int:
        return self._delta_part("minute")

    @property
    def seconds(self) -> int:
        return self._delta_part("second")

    @property
    def microseconds(self) -> int:
        return self._delta_part(None)

    def _apply(self, value: _D, sign: int) -> _D:
        result = _shift_months(value, sign * self._months)
        delta = self._delta if sign > 0 else -self._delta
        if not delta:
            return result
        if not isinstance(result, datetime) and delta % timedelta(days=1):
            # A time of day is involved: a plain date becomes midnight of that date.
            return cast(_D, datetime(result.year, result.month, result.day) + delta)
        return result + delta

    @overload
    def __add__(self, other: DateInterval | timedelta) -> DateInterval: ...
    @overload
    def __add__(self, other: _D) -> _D: ...
    def __add__(self, other: Any) -> Any:
        if isinstance(other, DateInterval):
            return DateInterval._of(self._months + other._months, self._delta + other._delta)
        if isinstance(other, timedelta):
            return DateInterval._of(self._months, self._delta + other)
        if isinstance(other, date):
            return self._apply(other, 1)
        return NotImplemented

    @overload
    def __radd__(self, other: timedelta) -> DateInterval: ...
    @overload
    def __radd__(self, other: _D) -> _D: ...
    def __radd__(self, other: Any) -> Any:
        return self.__add__(other)

    def __sub__(self, other: DateInterval | timedelta) -> DateInterval:
        if isinstance(other, DateInterval):
            return self + (-other)
        if isinstance(other, timedelta):
            return DateInterval._of(self._months, self._delta - other)
        return NotImplemented

    @overload
    def __rsub__(self, other: timedelta) -> DateInterval: ...
    @overload
    def __rsub__(self, other: _D) -> _D: ...
    def __rsub__(self, other: Any) -> Any:
        if isinstance(other, timedelta):
            return (-self) + other
        if isinstance(other, date):
            return self._apply(other, -1)
        return NotImplemented

    def __neg__(self) -> DateInterval:
        return DateInterval._of(-self._months, -self._delta)

    def __pos__(self) -> DateInterval:
        return self

    def __mul__(self, factor: int) -> DateInterval:
        if not isinstance(factor, int):
            return NotImplemented
        return DateInterval._of(self._months * factor, self._delta * factor)

    __rmul__ = __mul__

    def __bool__(self) -> bool:
        return bool(self._months or self._delta)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, DateInterval):
            return (self._months, self._delta) == (other._months, other._delta)
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self._months, self._delta))

    def __repr__(self) -> str:
        fields = ("years", "months", "days", "hours", "minutes", "seconds", "microseconds")
        parts = [f"{name}={getattr(self, name):+d}" for name in fields if getattr(self, name)]
        return f"date_interval({', '.join(parts)})"


def _rebuild_interval(months: int, delta: timedelta) -> DateInterval:
    """Unpickle a DateInterval."""
    return DateInterval._of(months, delta)


def date_interval(**kwargs: int | float) -> DateInterval:
    """A span of time to add to or subtract from dates.

    Keywords: ``years``, ``months`` (whole numbers), ``weeks``, ``days``,
    ``hours``, ``minutes``, ``seconds``, ``microseconds``. Works like dateutil's
    ``relativedelta``: months move by calendar month, clamping to the month end.

    Example::

        current_datetime() + date_interval(days=3)
        as_datetime('2026-01-31') + date_interval(months=1)   # February 28, 2026
        as_datetime('2026-03-15') - date_interval(years=1)    # March 15, 2025
    """
    return DateInterval(**kwargs)


def timezone_list() -> list[str]:
    """The names of the time zones `timezone=` accepts, sorted (for a choice of time zone).

    Example::

        fields:
          - Time zone: timezone
            code: timezone_list()
    """
    return sorted(name for name in available_timezones()
                  if "/" in name and not name.startswith(("Etc/", "SystemV/", "posix/", "right/")) or name == "UTC")


def current_datetime(timezone: str | tzinfo | None = None) -> DADateTime:
    """The current date and time in `timezone` (default America/New_York).

    Example::

        now = current_datetime()
        now.hour                               # 0-23, New York time
        current_datetime('America/Chicago')
    """
    return DADateTime.now(_zone(timezone))


def _parse(text: str) -> datetime:
    cleaned = " ".join(text.split())
    try:
        return datetime.fromisoformat(cleaned)
    except ValueError:
        pass
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(cleaned, pattern)
        except ValueError:
            continue
    raise ValueError(
        f"cannot read {text!r} as a date; use a form like 2026-01-02, 01/02/2026, "
        "2026-01-02T10:00:00 or January 2, 2026"
    )


def as_datetime(value: Any, timezone: str | tzinfo | None = None) -> DADateTime:
    """Turn a date, datetime or string into a DADateTime in `timezone`.

    Strings may be ISO 8601 ("2026-01-02", "2026-01-02T10:00:00",
    "2026-01-02T15:00:00Z"), US style ("01/02/2026", "1/2/26", "01/02/2026 3:30 PM")
    or written out ("January 2, 2026"). A plain date becomes midnight; a time alone
    ("07:30", "7:30 PM") is that time today, in `timezone`. Naive values
    are taken to be in `timezone` (default America/New_York); values that carry a
    zone are converted to it. Anything else raises ValueError.

    Example::

        as_datetime('2026-01-02').format()           # 'January 2, 2026'
        as_datetime('01/02/2026 3:30 PM').hour       # 15
        as_datetime(date(2026, 1, 2)).tzinfo         # zoneinfo.ZoneInfo(key='America/New_York')
    """
    zone = _zone(timezone)
    if isinstance(value, str):
        if not value.strip():
            raise ValueError("as_datetime() needs a date, found an empty string")
        try:
            parsed = _parse(value)
        except ValueError:
            clock = _clock_time(value)
            if clock is None:
                raise
            parsed = datetime.combine(datetime.now(zone).date(), clock)
    elif isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    else:
        raise ValueError(f"as_datetime() cannot turn a {type(value).__name__} ({value!r}) into a date")
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        return _as_da(parsed.replace(tzinfo=zone))
    return _as_da(parsed.astimezone(zone))


@overload
def today(timezone: str | tzinfo | None = None, format: None = None) -> DADateTime: ...
@overload
def today(timezone: str | tzinfo | None, format: str) -> str: ...
@overload
def today(timezone: str | tzinfo | None = None, *, format: str) -> str: ...
def today(timezone: str | tzinfo | None = None, format: str | None = None) -> DADateTime | str:
    """Midnight at the start of today in `timezone`; with `format`, today's date as text.

    Example::

        today()                         # DADateTime for today, 00:00 New York time
        today(format='yyyy-MM-dd')      # e.g. '2026-01-02'
        date_difference(starting=birthdate, ending=today()).years
    """
    now = current_datetime(timezone)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if format is not None:
        return format_date(midnight, format=format)
    return midnight


class DateDifference:
    """The span between two moments, from `date_difference`.

    ``years`` (days / 365.2425), ``weeks``, ``days``, ``hours``, ``minutes`` and
    ``seconds`` are the whole span in that unit, as floats; ``delta`` is the
    ``timedelta``. All are negative when the end precedes the start. The span is
    real elapsed time, so a difference across a daylight-saving change is an hour
    off a whole number of days. ``describe()`` gives it in words.

    Example::

        diff = date_difference(starting='2024-01-01', ending='2026-04-01')
        int(diff.years)          # 2
        diff.describe()          # 'two years and three months'
    """

    def __init__(self, starting: DADateTime, ending: DADateTime) -> None:
        self.starting = starting
        self.ending = ending
        # Through UTC: Python subtracts two datetimes sharing one tzinfo by wall clock.
        self.delta: timedelta = ending.astimezone(UTC) - starting.astimezone(UTC)
        self.seconds: float = self.delta.total_seconds()
        self.minutes: float = self.seconds / 60
        self.hours: float = self.seconds / 3600
        self.days: float = self.seconds / 86400
        self.weeks: float = self.days / 7
        self.years: float = self.days / 365.2425

    def __repr__(self) -> str:
        return f"DateDifference(starting={self.starting.isoformat()}, ending={self.ending.isoformat()})"

    def _calendar_parts(self) -> dict[str, int]:
        """Whole years, months, days, hours, minutes, seconds on the local calendar (start <= end)."""
        first, last = sorted((self.starting, self.ending))
        last = last.astimezone(first.tzinfo)
        start, end = first.replace(tzinfo=None), last.replace(tzinfo=None)
        months = (end.year - start.year) * 12 + end.month - start.month
        if _shift_months(start, months) > end:
            months -= 1
        rest = end - _shift_months(start, months)
        return {
            "year": months // 12,
            "month": months % 12,
            "day": rest.days,
            "hour": rest.seconds // 3600,
            "minute": rest.seconds % 3600 // 60,
            "second": rest.seconds % 60,
        }

    def describe(self, specificity: str | None = None, nice: bool = True, capitalize: bool = False) -> str:
        """The span in words: "two years and three months".

        Counts whole calendar years, months, days, hours, minutes and seconds
        between the two moments (always positive; the sign is dropped) and lists
        the ones that are not zero. ``specificity`` ('year', 'month', 'day', 'hour',
        'minute' or 'second') is the smallest unit to include; smaller remainders
        are dropped, not rounded. A span with nothing to list gives e.g. "zero days".
        ``nice=False`` writes every number in digits; ``capitalize=True``
        capitalizes the first letter.

        Example::

            date_difference(starting='2026-01-01', ending='2026-01-04').describe()
            # 'three days'
            date_difference(starting='2024-01-01', ending='2026-04-15').describe(specificity='month')
            # 'two years and three months'
        """
        units = ["year", "month", "day", "hour", "minute", "second"]
        last = "second" if specificity is None else str(specificity).lower().rstrip("s")
        if last not in units:
            raise ValueError(f"specificity must be one of {', '.join(units)}; found {specificity!r}")
        wanted = units[: units.index(last) + 1]
        parts = self._calendar_parts()
        phrases = [
            f"{nice_number(parts[unit], use_word=None if nice else False)} {noun_plural(unit, parts[unit])}"
            for unit in wanted
            if parts[unit]
        ]
        if not phrases:
            phrases = [f"{nice_number(0, use_word=None if nice else False)} {noun_plural(last, 0)}"]
        result = comma_and_list(phrases)
        return result[:1].upper() + result[1:] if capitalize else result


def date_difference(
    starting: Any = None, ending: Any = None, timezone: str | tzinfo | None = None
) -> DateDifference:
    """How much time lies between two dates or datetimes.

    A missing end is the current time. Strings and naive values are read in
    `timezone` (default America/New_York). The result has ``years``, ``weeks``,
    ``days``, ``hours``, ``minutes``, ``seconds`` (floats), ``delta`` (a
    timedelta) and ``describe()``; they are negative when `ending` is before
    `starting`.

    Example::

        date_difference(starting='2026-01-01', ending='2026-01-15').days      # 14.0
        date_difference(starting=user.birthdate).years                        # age in years
        date_difference(ending='2026-01-01', starting='2026-01-08').weeks     # -1.0
    """
    start = current_datetime(timezone) if starting is None else as_datetime(starting, timezone)
    end = current_datetime(timezone) if ending is None else as_datetime(ending, timezone)
    return DateDifference(start, end)


def _date_value(value: Any) -> date | None:
    """A date/datetime as given, a string parsed with as_datetime(), or None if unreadable."""
    if isinstance(value, date):
        return value
    try:
        return as_datetime(value)
    except ValueError:
        return None


def format_date(date: Any, format: str | None = None, language: str | None = None) -> str:
    """Write a date as text.

    `format` is a Babel (CLDR) pattern such as ``'MMMM d, yyyy'``, ``'yyyy-MM-dd'``,
    ``'EEEE, MMMM d'``, or one of ``short`` (1/2/26), ``medium`` (Jan 2, 2026),
    ``long`` (January 2, 2026, the default) and ``full`` (Friday, January 2, 2026).
    Dates and datetimes are formatted as they are; strings are read with
    `as_datetime`. An empty value (None or "") gives ""; a value that cannot be
    read gives "Bad date". `language` picks the Babel locale (default English).

    Example::

        format_date('2026-01-02')                   # 'January 2, 2026'
        format_date('2026-01-02', 'yyyy-MM-dd')     # '2026-01-02'
        format_date(date(2026, 1, 2), 'full')       # 'Friday, January 2, 2026'
        format_date('not a date')                   # 'Bad date'
    """
    if _is_empty(date):
        return ""
    value = _date_value(date)
    if value is None:
        return "Bad date"
    from babel import dates as babel_dates

    return babel_dates.format_date(value, format=format or "long", locale=_locale(language))


def _clock_time(text: str) -> time | None:
    """A time of day written alone ("07:30", "7:30 PM", "19:30:05"), or None."""
    cleaned = " ".join(text.split()).upper()
    try:
        return time.fromisoformat(cleaned)
    except ValueError:
        pass
    for pattern in _TIME_FORMATS:
        try:
            return datetime.strptime(cleaned, pattern).time()
        except ValueError:
            continue
    return None


def _time_value(value: Any) -> time | datetime | None:
    """A time or datetime to format, or None if `value` cannot be read."""
    if isinstance(value, time):
        return value
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=_zone(None))
    if isinstance(value, str):
        clock = _clock_time(value)
        if clock is not None:
            return clock
    try:
        return as_datetime(value)
    except ValueError:
        return None


def format_time(time: Any, format: str | None = None, language: str | None = None) -> str:
    """Write a time of day as text.

    `format` is a Babel pattern (``'h:mm a'``, ``'HH:mm'``) or ``short`` (the
    default: 3:30 PM), ``medium`` (3:30:00 PM), ``long`` or ``full`` (which add the
    time zone). Accepts a ``time``, a datetime, or a string ("15:30", "3:30 PM",
    "2026-01-02T15:30"). Babel puts a narrow no-break space (U+202F) before AM/PM,
    as docassemble does. Empty gives ""; unreadable gives "Bad time".

    Example::

        format_time('15:30')                       # '3:30\\u202fPM'
        format_time('15:30', 'h:mm a')             # '3:30 PM'
        format_time(time(9, 5), 'HH:mm')           # '09:05'
    """
    if _is_empty(time):
        return ""
    value = _time_value(time)
    if value is None:
        return "Bad time"
    from babel import dates as babel_dates

    return babel_dates.format_time(value, format=format or "short", locale=_locale(language))


def format_datetime(dt: Any, format: str | None = None, language: str | None = None) -> str:
    """Write a date and time as text.

    `format` is a Babel pattern (``'MMMM d, yyyy h:mm a'``) or ``short``,
    ``medium``, ``long`` (the default: "January 2, 2026, 3:30:00 PM EST") or
    ``full``. Naive datetimes are taken to be in America/New_York; strings are read
    with `as_datetime`. Empty gives ""; unreadable gives "Bad date".

    Example::

        format_datetime('2026-01-02T15:30', 'yyyy-MM-dd HH:mm')   # '2026-01-02 15:30'
        format_datetime(current_datetime(), 'short')              # e.g. '1/2/26, 3:30\\u202fPM'
    """
    if _is_empty(dt):
        return ""
    if isinstance(dt, datetime):
        value = dt if dt.tzinfo is not None else dt.replace(tzinfo=_zone(None))
    else:
        try:
            value = as_datetime(dt)
        except ValueError:
            return "Bad date"
    from babel import dates as babel_dates

    return babel_dates.format_datetime(value, format=format or "long", locale=_locale(language))


def _read_date(value: Any) -> date:
    found = _date_value(value)
    if found is None:
        raise ValueError(f"cannot read {value!r} as a date")
    return found


@overload
def month_of(date: Any, as_word: Literal[False] = False, language: str | None = None) -> int: ...
@overload
def month_of(date: Any, as_word: Literal[True], language: str | None = None) -> str: ...
def month_of(date: Any, as_word: bool = False, language: str | None = None) -> int | str:
    """The month of a date as a number (1-12) or, with ``as_word=True``, its name.

    Example::

        month_of('2026-01-02')                 # 1
        month_of('2026-01-02', as_word=True)   # 'January'
    """
    value = _read_date(date)
    if as_word:
        return format_date(value, "MMMM", language=language)
    return value.month


def day_of(date: Any, language: str | None = None) -> int:
    """The day of the month of a date (1-31).

    Example::

        day_of('2026-01-02')   # 2
    """
    return _read_date(date).day


def year_of(date: Any, language: str | None = None) -> int:
    """The year of a date.

    Example::

        year_of('01/02/2026')   # 2026
    """
    return _read_date(date).year


@overload
def dow_of(date: Any, as_word: Literal[False] = False, language: str | None = None) -> int: ...
@overload
def dow_of(date: Any, as_word: Literal[True], language: str | None = None) -> str: ...
def dow_of(date: Any, as_word: bool = False, language: str | None = None) -> int | str:
    """The day of the week: a number (1 is Monday ... 7 is Sunday) or, with ``as_word=True``, its name.

    Example::

        dow_of('2026-01-02')                 # 5
        dow_of('2026-01-02', as_word=True)   # 'Friday'
    """
    value = _read_date(date)
    if as_word:
        return format_date(value, "EEEE", language=language)
    return value.isoweekday()
