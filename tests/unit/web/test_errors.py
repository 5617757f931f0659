"""The one exception → HTTP table (chalicelib/web/errors.py) that the page, API and check-in routes share."""

from __future__ import annotations

import logging

import pytest

from chalicelib.engine.errors import InterviewCodeError
from chalicelib.runtime.errors import ConflictError
from chalicelib.storage.errors import StorageError, VersionConflictError, WrongSecretError
from chalicelib.web.errors import RequestError, reply_for


@pytest.mark.parametrize(("error", "status"), [
    (ConflictError("the session kept changing"), 409),
    (VersionConflictError("changed during each of 3 reads"), 409),
    (WrongSecretError("wrong"), 403),
    (StorageError("DynamoDB kept keys unprocessed"), 503),
    (InterviewCodeError("block 2", ZeroDivisionError("division by zero"), "Traceback ..."), 400),
    (RequestError(400, "Parameters i and session are required."), 400),
])
def test_known_failures_are_never_a_500(error: Exception, status: int) -> None:
    assert reply_for(error, "a test").status == status


def test_an_unknown_failure_is_a_500_whose_traceback_is_logged_not_shown(caplog: pytest.LogCaptureFixture) -> None:
    try:
        raise KeyError("secret detail")
    except KeyError as err:
        with caplog.at_level(logging.ERROR):
            reply = reply_for(err, "a test")
    assert reply.status == 500 and "secret detail" not in reply.message
    assert "Traceback" in caplog.text and "secret detail" in caplog.text


def test_the_interviews_own_failure_is_a_400_in_the_api_and_a_500_page_in_the_browser() -> None:
    from chalicelib.language.errors import InterviewSyntaxError

    failures = (InterviewCodeError("block 2", ZeroDivisionError("x"), ""),
                InterviewSyntaxError("bad", file="b", line=1))
    for error in failures:
        reply = reply_for(error, "a test")
        assert (reply.status, reply.status_for_page) == (400, 500)
    assert reply_for(WrongSecretError("wrong"), "a test").status_for_page == 403
