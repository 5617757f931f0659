"""The browser tests' server handles one request at a time (conftest.APP_LOCK).

moto's in-process backend is not thread-safe: two check-ins handled at once could
both pass a transaction's version condition, and a page would show one flash twice.
This guards the harness itself, so such a race never again shows up as a flaky
example test.
"""

from __future__ import annotations

import json
import re
import urllib.parse
import urllib.request
from typing import Any

import pytest

from tests.browser.conftest import APP_LOCK

pytestmark = pytest.mark.browser


def test_every_verb_is_handled_while_holding_the_app_lock(server: str, services: Any,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a store that notes, at each session read, whether the app lock is held
    held: list[bool] = []
    load = services.store.load

    def noting_load(*args: Any, **kwargs: Any) -> Any:
        held.append(APP_LOCK.locked())
        return load(*args, **kwargs)

    monkeypatch.setattr(services.store, "load", noting_load)

    # When a page is shown (GET) and then checked in (POST) through the server
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    with opener.open(f"{server}/interview?i=two_questions.yml") as response:
        assert response.status == 200
        page = response.read().decode()
    found = re.search(r'name="_csrf" value="([^"]+)"', page)
    assert found, "the page carries no CSRF token"
    form = urllib.parse.urlencode({"csrf_token": found.group(1), "parameters": "{}"}).encode()
    with opener.open(urllib.request.Request(f"{server}/checkin?i=two_questions.yml", data=form)) as response:
        assert json.loads(response.read())["success"] is True
    assert len(held) >= 2  # the page and the check-in each read the session

    # Then every read of the session happened inside the lock
    assert held and all(held)
