"""Fixtures for the REST API tests.

`start(name)` creates a session with the admin key (GET /api/session/new) and
returns an `ApiSession` that sends `i`, `session` and `secret` with every call.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.conftest import Api
from tests.functional.api.helpers import ApiSession


@pytest.fixture
def start(api: Api) -> Callable[[str], ApiSession]:
    def start_session(interview: str) -> ApiSession:
        data = api.new_session(interview)
        assert data["i"] == interview
        assert isinstance(data["session"], str) and data["session"]
        assert isinstance(data.get("secret"), str) and data["secret"], data
        return ApiSession(api, interview, data["session"], data["secret"])

    return start_session
