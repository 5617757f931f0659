"""Answers made JSON-safe, the way docassemble's API shows them.

Objects become {"_class", "instanceName", attributes...}; dates become ISO
strings; sets become lists; anything else that JSON cannot hold becomes null.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Mapping
from typing import Any

_MAX_DEPTH = 40


def jsonable(value: Any, depth: int = 0) -> Any:
    if depth > _MAX_DEPTH:
        return None
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else None
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else value
        return [jsonable(v, depth + 1) for v in items]
    if hasattr(value, "__dict__") and not callable(value):
        return _object(value, depth)
    return None


def _object(value: Any, depth: int) -> dict[str, Any]:
    cls = type(value)
    out: dict[str, Any] = {"_class": f"{cls.__module__}.{cls.__qualname__}"}
    for key, attr in vars(value).items():
        if not key.startswith("_"):
            out[key] = jsonable(attr, depth + 1)
    return out
