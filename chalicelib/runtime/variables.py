"""Which variables a caller outside the interview (an API client) may set, and how sent values are read.

A caller may set or delete a plain variable name of the interview's own: not one
that begins with `_` (the interview's internal state) and not a name of the
library (functions and classes the interview uses). A value sent as text that
begins with an ISO date (`2024-05-01`, `2024-05-01T10:00:00`) is set as a date,
as docassemble reads it, unless the caller asked for raw values.
"""

from __future__ import annotations

import re
from typing import Any

from chalicelib.engine import assign
from chalicelib.library.dates import as_datetime
from chalicelib.library.namespace import library_names
from chalicelib.runtime.errors import ProtectedVariableError

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def check_writable(name: str) -> None:
    """BadVariableNameError for anything but a variable name; ProtectedVariableError for one
    the interview does not own."""
    steps = assign.parse_target(name)
    root = str(steps[0][1])
    if root.startswith("_"):
        raise ProtectedVariableError(f"Variable {name!r} cannot be set or deleted: names that begin with _ are "
                                     "the interview's internal state.")
    if root in library_names():
        raise ProtectedVariableError(f"Variable {name!r} cannot be set or deleted: {root} is a function or class "
                                     "the interview uses; choose another name.")


def from_sent(value: Any) -> Any:
    """A sent value as the interview gets it: text that begins with an ISO date becomes a date."""
    if isinstance(value, str) and _DATE.match(value):
        try:
            return as_datetime(value)
        except ValueError:
            return value
    return value
