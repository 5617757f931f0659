"""Data kept outside the session (issue 13), in a real browser: docassemble's database_storage.yml
(shared records) and redis.yml (DARedis, on DynamoDB and on a real Redis), unmodified, and the
worked SQLObject example interviews/sql_customers.yml on SQLite.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import heading
from tests.conftest import settings_env
from tests.servers import redis_server

pytestmark = pytest.mark.browser


BOTH_KEYSTORES = pytest.mark.parametrize("keystore_url", ["table", pytest.param("redis", marks=pytest.mark.slow)],
                                         indirect=True)


@pytest.fixture
def keystore_url(request: Any) -> Iterator[str]:
    """"" (DARedis in DynamoDB, the default), or the URL of a redis-server started for the test."""
    if getattr(request, "param", "table") == "table":
        yield ""
        return
    with redis_server() as url:
        yield url


@pytest.fixture
def settings(keystore_url: str, tmp_path: Path) -> Any:
    from chalicelib.settings import Settings

    return Settings.from_env(settings_env(COOKIE_SECURE="0", REDIS_URL=keystore_url,
                                          DATABASE_URL=f"sqlite:///{tmp_path / 'interviews.sqlite3'}"))


def test_database_storage_lists_what_every_visitor_reported(page: Page, browser: Browser, server: str,
                                                            examples: Path) -> None:
    page.goto("/interview?i=database_storage.yml")
    expect(heading(page)).to_have_text("What is your favorite fruit?")
    page.get_by_label("Favorite Fruit").fill("Apple <b>pie</b>")
    page.get_by_role("button", name="Continue").click()
    expect(heading(page)).to_have_text("Contents of database")
    expect(page.locator(".subquestion")).to_contain_text("Apple <b>pie</b>")  # shown as text, not markup
    expect(page.locator(".subquestion b")).to_have_count(0)

    # Another visitor (no cookies shared) adds theirs and sees both
    other = browser.new_context(base_url=server)
    try:
        second = other.new_page()
        second.goto("/interview?i=database_storage.yml")
        second.get_by_label("Favorite Fruit").fill("Banana")
        second.get_by_role("button", name="Continue").click()
        expect(heading(second)).to_have_text("Contents of database")
        expect(second.locator(".subquestion")).to_contain_text("Apple <b>pie</b>")
        expect(second.locator(".subquestion")).to_contain_text("Banana")
    finally:
        other.close()


@BOTH_KEYSTORES
def test_redis_example_shows_the_value_it_stored(page: Page, keystore_url: str, examples: Path) -> None:
    page.goto("/interview?i=redis.yml")
    expect(heading(page)).to_have_text("Value has been retrieved from the redis server.")
    expect(page.locator(".subquestion")).to_contain_text('The value is "hello world".')
    expect(page.locator(".subquestion")).to_contain_text("redis.yml:my_variable")
    if keystore_url:
        import redis

        with redis.Redis.from_url(keystore_url) as client:
            assert client.get("redis.yml:my_variable") == b"hello world"


def test_the_sql_example_welcomes_a_returning_customer(page: Page, browser: Browser, server: str) -> None:
    page.goto("/interview?i=sql_customers.yml")
    page.get_by_label("E-mail").fill("grace@example.com")
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("First name").fill("Grace")
    page.get_by_label("Last name").fill("Hopper")
    page.get_by_label("Favorite fruit").fill("Cherry")
    page.get_by_role("button", name="Continue").click()
    expect(heading(page)).to_have_text("Thank you, Grace Hopper")

    other = browser.new_context(base_url=server)
    try:
        second = other.new_page()
        second.goto("/interview?i=sql_customers.yml")
        second.get_by_label("E-mail").fill("grace@example.com")
        second.get_by_role("button", name="Continue").click()
        expect(heading(second)).to_have_text("Welcome back, Grace")
        expect(second.locator(".subquestion")).to_contain_text("Last time your favorite fruit was Cherry.")
        second.get_by_label("Favorite fruit now").fill("Damson")
        second.get_by_role("button", name="Continue").click()
        expect(heading(second)).to_have_text("Thank you, Grace Hopper")
        expect(second.locator(".subquestion")).to_contain_text("liking Damson (visit 2; 2 fruit(s) named so far)")
    finally:
        other.close()
