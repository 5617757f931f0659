"""The evaluation that is running now, for objects that live in the answers.

Functions get their evaluation explicitly (library.functions binds them). Objects
stored in the answers -- task handles, BackgroundAction -- are pickled between
turns and cannot hold a reference to it, so they ask `current()`. The value is a
ContextVar set by `Evaluation.run()` for exactly the duration of the run and reset
in a `finally`, so it never leaks into another request, thread or warm Lambda call.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING

from chalicelib.engine.errors import EngineError

if TYPE_CHECKING:
    from chalicelib.engine.evaluator import Evaluation

_current: ContextVar[Evaluation | None] = ContextVar("current_evaluation", default=None)


def current() -> Evaluation:
    evaluation = _current.get()
    if evaluation is None:
        raise EngineError("this can only be used inside interview code while the interview runs")
    return evaluation


def running() -> Evaluation | None:
    """The evaluation running now, or None outside one."""
    return _current.get()


def activate(evaluation: Evaluation | None) -> object:
    return _current.set(evaluation)


def deactivate(token: object) -> None:
    _current.reset(token)  # type: ignore[arg-type]
