"""The one table from exceptions to HTTP answers, shared by every route.

`reply_for(err, where)` finds the first rule whose exception class matches,
logs the failure once (how loudly depends on the rule) and returns a `Reply`.
Each kind of route renders the reply its own way: the browser routes as a
page (`title` as heading, `page_text` or `message` as text), the REST API as
`{"error": message}`, the check-in as `{"success": false, "error": message}`,
with `status`. So a version conflict is 409 and a wrong secret 403 on every
route. One difference: a failure of the interview itself (its YAML or its
code) is a 400 in the API, as docassemble answers it, but a 500 page in the
browser (`page_status`), where it is no fault of the user's. An exception no
rule knows is a 500 everywhere.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from chalicelib.engine.errors import BadVariableNameError, EngineError, InterviewCodeError
from chalicelib.language.errors import InterviewNotFoundError, InterviewSyntaxError
from chalicelib.runtime.errors import (
    ConflictError,
    CronEventError,
    NoPreviousStepError,
    ProtectedVariableError,
    WeakSecretError,
)
from chalicelib.storage.errors import (
    SessionNotFoundError,
    StorageError,
    TamperedDataError,
    VersionConflictError,
    WrongSecretError,
)

log = logging.getLogger(__name__)

_CODE_FAILED = ("This step of the interview could not be completed. The problem has been logged. "
                "You can go back and try again.")
_CANNOT_OPEN = "Your browser's key does not open this session."


class RequestError(Exception):
    """Bad input a route found itself, answered with `status` and `message` (a 4xx)."""

    def __init__(self, status: int, message: str, title: str = "This request cannot be answered") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.title = title


@dataclass(frozen=True)
class Reply:
    """How a route answers a failure."""

    status: int
    title: str  # a page's heading
    message: str  # the JSON error; a page's text unless page_text is set
    page_text: str | None = None  # a page's text, where the API's message speaks of API parameters
    offer_back: bool = False  # the interview's own code failed: the page offers Back
    offer_start_over: bool = False  # the session cannot go on: the page offers to start over
    page_status: int = 0  # a page's status, where it is not `status`

    @property
    def status_for_page(self) -> int:
        return self.page_status or self.status

    @property
    def text(self) -> str:
        return self.page_text or self.message


@dataclass(frozen=True)
class _Rule:
    kind: type[Exception]
    status: int
    title: str
    message: Callable[[Exception], str]
    page_text: str | None = None
    level: int | None = None  # log the failure at this level (None: not at all)
    back: bool = False
    start_over: bool = False
    page_status: int = 0


# What an exception no rule knows gets (after its traceback is logged).
INTERNAL = Reply(500, "Sorry, something went wrong", "Internal error; it has been logged.", _CODE_FAILED,
                 offer_back=True)


def _text(err: Exception) -> str:
    return str(err)


# The first rule whose class matches wins, so a subclass comes before its base.
_RULES: tuple[_Rule, ...] = (
    _Rule(InterviewNotFoundError, 404, "Interview not found", _text),
    _Rule(InterviewSyntaxError, 400, "This interview has an error",
          lambda err: f"The interview has an error: {err}", level=logging.ERROR, page_status=500),
    _Rule(SessionNotFoundError, 404, "Session not found", lambda err: "Session not found.", start_over=True,
          page_text="This session does not exist (any more)."),
    _Rule(WrongSecretError, 403, "This session cannot be opened",
          lambda err: "Unable to decrypt interview dictionary: the secret is wrong or missing.",
          page_text=_CANNOT_OPEN, level=logging.WARNING, start_over=True),
    _Rule(TamperedDataError, 403, "This session cannot be opened",
          lambda err: f"Refused to load the session: {err}", page_text=_CANNOT_OPEN, level=logging.WARNING,
          start_over=True),
    _Rule(VersionConflictError, 409, "Please try again",
          lambda err: "the session kept changing under this request; nothing was saved, try again",
          start_over=True),
    _Rule(StorageError, 503, "Please try again later",
          lambda err: "The session store did not answer; nothing was saved, try again later.",
          level=logging.ERROR),
    _Rule(NoPreviousStepError, 400, "Cannot go back", lambda err: "Cannot go back."),
    _Rule(WeakSecretError, 400, "The secret is too short", _text),
    _Rule(CronEventError, 400, "This is not an event name", _text),
    _Rule(ConflictError, 409, "Please try again", _text, start_over=True),
    _Rule(BadVariableNameError, 400, "Bad variable name", _text),
    _Rule(ProtectedVariableError, 400, "This variable cannot be changed", _text),
    _Rule(InterviewCodeError, 400, "Sorry, something went wrong",
          lambda err: f"failure to assemble interview: {err}", page_text=_CODE_FAILED, back=True, page_status=500),
    _Rule(EngineError, 400, "Sorry, something went wrong", lambda err: f"failure to assemble interview: {err}",
          page_text=_CODE_FAILED, level=logging.WARNING, back=True, page_status=500),
)


def reply_for(err: Exception, where: str) -> Reply:
    """The answer to `err`, raised while serving `where` (a route, an interview); logs it."""
    if isinstance(err, RequestError):
        return Reply(err.status, err.title, err.message)
    for rule in _RULES:
        if isinstance(err, rule.kind):
            _log(rule, err, where)
            return Reply(rule.status, rule.title, rule.message(err), rule.page_text, rule.back, rule.start_over,
                         rule.page_status)
    log.error("unexpected error in %s", where, exc_info=err)
    return INTERNAL


def _log(rule: _Rule, err: Exception, where: str) -> None:
    if isinstance(err, InterviewCodeError):
        log.error("error in interview code of %s at %s\n%s", where, err.where, err.trace)
    elif rule.level is not None:
        log.log(rule.level, "%s: %s", where, err)
