"""`last_access_time()` and its relatives: when someone last saved in this session.

The engine stamps each save with the user and their privileges
(`SessionState.record_access`). These functions take the latest stamp of the
users asked for:

- `include_privileges` (a name or a list): only users holding one of them;
  `'anonymous'` stands for users not logged in, `'user'` for logged-in users
  without any privilege listed;
- `exclude_privileges`: not users holding one of them;
- the cron user (privilege `cron`) counts only with `include_cron=True` or with
  `'cron'` in `include_privileges`: a scheduled run is not an access.

`last_access_time` is a UTC date and time (in `timezone` if given) or None;
`last_access_delta` the time since then (`timedelta(0)` if there is none, as in
docassemble, so `last_access_days() > 30` is False for a session nobody saved);
`_days`, `_hours` and `_minutes` that delta as a float.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from chalicelib.engine.state import ANONYMOUS, Access
from chalicelib.library.dates import DADateTime, as_datetime

CRON = "cron"


def _names(value: Any) -> set[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return {value}
    if isinstance(value, Iterable):
        return {str(v) for v in value}
    raise TypeError(f"privileges must be a name or a list of names; got {type(value).__name__}")


def latest(access: Mapping[str, Access], include_privileges: Any = None, exclude_privileges: Any = None,
           include_cron: bool = False) -> float | None:
    """The latest stamp (seconds since the epoch) of the users asked for, or None."""
    include, exclude = _names(include_privileges), _names(exclude_privileges) or set()
    found: float | None = None
    for user, stamp in access.items():
        held = {"anonymous"} if user == ANONYMOUS else set(stamp.privileges) or {"user"}
        if CRON in held and not include_cron and not (include and CRON in include):
            continue
        if include is not None and not held & include:
            continue
        if held & exclude:
            continue
        found = stamp.time if found is None else max(found, stamp.time)
    return found


def as_time(stamp: float | None, timezone: Any = None) -> DADateTime | None:
    if stamp is None:
        return None
    moment = DADateTime.fromtimestamp(stamp, dt.UTC)
    return moment if timezone is None else as_datetime(moment, timezone)


def delta(stamp: float | None, now: float) -> dt.timedelta:
    return dt.timedelta(0) if stamp is None else dt.timedelta(seconds=now - stamp)
