"""The API key lookup cache: bounded in bytes, whatever keys callers send (issue 7, §3)."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator

import pytest

from chalicelib.runtime.services import Services
from chalicelib.settings import Settings
from chalicelib.web import api_auth, context
from tests.conftest import SERVER_KEY

KEY = "ValidKeyForTests0123456789abcdef"


@pytest.fixture
def services() -> Iterator[Services]:
    services = Services.in_memory(Settings.from_env({"SERVER_KEY": SERVER_KEY}))
    services.accounts.create_user("owner@localhost", "owner-password", privileges=("admin",))
    services.accounts.add_api_key("owner@localhost", KEY)
    context.use_services(services)
    api_auth.clear_cache()
    yield services
    api_auth.clear_cache()
    context.use_services(None)


def test_a_flood_of_huge_made_up_keys_does_not_grow_memory(services: Services) -> None:
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for n in range(200):
            with pytest.raises(api_auth.ApiError, match="Access denied."):
                api_auth.authenticate(f"{n:04d}" + "k" * 100_000)
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert held < 1_000_000, f"the cache holds {held:,} bytes after 200 refused keys of 100 KB"
    assert api_auth.authenticate(KEY).email == "owner@localhost"
    assert api_auth.authenticate(KEY).email == "owner@localhost"  # from the cache
