"""Fixtures for the REST API tests.

`start(name)` creates a session with the admin key (GET /api/session/new) and
returns an `ApiSession` that sends `i`, `session` and `secret` with every call.

`fresh_aws` (tests/conftest.py) creates every resource at the start of a test
but leaves them behind; `_empty_moto_afterwards` empties moto after each test
here, so that later packages which create their own tables (tests/functional/
storage) find none left over.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

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


@pytest.fixture(autouse=True)
def _empty_moto_afterwards(fresh_aws: dict[str, Any]) -> Iterator[None]:
    yield
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()
