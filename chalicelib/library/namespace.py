"""The names interview code sees: pure helpers, object classes, bound functions.

`build(ev)` is the NamespaceFactory the runtime hands to the evaluator. The
pure part is computed once per process; only the bound functions are made per
turn.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from chalicelib.library import datastore, dates, files, keystore, mail, objects, places, sql, tasks, text
from chalicelib.library.functions import AuthorFunctions
from chalicelib.library.other_sessions import NAMES as OTHER_SESSION_NAMES
from chalicelib.library.other_sessions import OtherSessionFunctions

if TYPE_CHECKING:
    from chalicelib.engine.evaluator import Evaluation

_STATIC: dict[str, Any] | None = None


def _static() -> dict[str, Any]:
    global _STATIC
    if _STATIC is None:
        names: dict[str, Any] = {}
        for module in (text, dates, objects, tasks, places, mail, keystore, files, sql, datastore):
            names.update({n: getattr(module, n) for n in getattr(module, "__all__", ())})
        _STATIC = names
    return _STATIC


def build(ev: Evaluation) -> dict[str, Any]:
    names = dict(_static())
    names.update(AuthorFunctions(ev).bound())
    names.update(OtherSessionFunctions(ev).bound())
    return names


@functools.cache
def library_names() -> frozenset[str]:
    """Every name `build` provides (functions and classes), which answers must never replace."""
    bound = (n for n in dir(AuthorFunctions) if not n.startswith("_") and n not in ("ev", "bound"))
    return frozenset(_static()) | frozenset(bound) | frozenset(OTHER_SESSION_NAMES)
