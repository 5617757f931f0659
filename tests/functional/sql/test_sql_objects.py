"""SQLObject (issue 13): the worked example interviews/sql_customers.yml over the API, against
SQLite and against a real PostgreSQL server that the test starts (tests/servers.py): a returning
customer is found by e-mail and their row updated, not duplicated; relationships; and the
errors an author sees.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import Api, settings_env
from tests.functional.api.helpers import ApiSession, ok_json
from tests.servers import postgres_server

CUSTOMERS = "sql_customers.yml"


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)])
def database_url(request: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('sql') / 'interviews.sqlite3'}"
        return
    from chalicelib.runtime.sql import SqlDatabase

    with postgres_server() as url:
        yield url
        SqlDatabase(url).engine().dispose()  # the process's pool, before its server goes


@pytest.fixture
def settings(database_url: str) -> Any:
    from chalicelib.settings import Settings

    return Settings.from_env(settings_env(DATABASE_URL=database_url))


@pytest.fixture
def db(database_url: str) -> Iterator[sa.Engine]:
    from chalicelib.runtime.sql import SqlDatabase

    engine: sa.Engine = SqlDatabase(database_url).engine()
    yield engine
    existing = set(sa.inspect(engine).get_table_names())
    with engine.begin() as connection:
        for table in ("customer__fruit", "customer", "fruit"):
            if table in existing:
                connection.execute(sa.text(f"DELETE FROM {table}"))


def start(api: Api) -> ApiSession:
    data = api.new_session(CUSTOMERS)
    return ApiSession(api, CUSTOMERS, data["session"], data["secret"])


def rows(engine: sa.Engine, sql: str) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(sa.text(sql))]


def test_a_returning_customer_is_found_and_their_row_updated(api: Api, db: sa.Engine) -> None:
    first = start(api)
    assert ok_json(first.question())["questionText"].strip() == "What is your e-mail address?"
    ok_json(first.set({"customer.email": "ada@example.com"}))
    done = ok_json(first.set({"customer.first_name": "Ada", "customer.last_name": "Lovelace",
                              "customer.favorite_fruit": "Apple"}))
    assert done["questionText"].strip() == "Thank you, Ada Lovelace"
    assert "(visit 1; 1 fruit(s) named so far)" in done["subquestionText"]
    assert rows(db, "SELECT email, first_name, last_name, favorite_fruit, visits FROM customer") == [
        ("ada@example.com", "Ada", "Lovelace", "Apple", 1)]

    # The row is the source of truth: another system changes it
    with db.begin() as connection:
        connection.execute(sa.text("UPDATE customer SET first_name = 'Augusta' WHERE email = 'ada@example.com'"))

    # Another session with the same e-mail reads the stored row: only the fruit is asked
    second = start(api)
    welcome = ok_json(second.set({"customer.email": "ada@example.com"}))
    assert welcome["questionText"].strip() == "Welcome back, Augusta"
    assert "Last time your favorite fruit was Apple." in welcome["subquestionText"]
    done = ok_json(second.set({"fruit_now": "Quince"}))
    assert done["questionText"].strip() == "Thank you, Augusta Lovelace"
    assert "(visit 2; 2 fruit(s) named so far)" in done["subquestionText"]
    assert rows(db, "SELECT email, favorite_fruit, visits FROM customer") == [("ada@example.com", "Quince", 2)]
    assert sorted(rows(db, "SELECT name FROM fruit")) == [("apple",), ("quince",)]
    assert len(rows(db, "SELECT * FROM customer__fruit")) == 2


def test_a_value_from_the_user_is_a_bound_parameter_not_sql(api: Api, db: sa.Engine) -> None:
    session = start(api)
    hostile = "x'); DROP TABLE customer; --"
    ok_json(session.set({"customer.email": "bobby@example.com"}))
    ok_json(session.set({"customer.first_name": hostile, "customer.last_name": "Tables",
                         "customer.favorite_fruit": "Fig"}))
    assert rows(db, "SELECT first_name FROM customer") == [(hostile,)]


def test_without_a_database_the_author_is_told_what_to_set(services: Any, api: Api) -> None:
    import dataclasses

    from chalicelib.web import context

    context.use_services(dataclasses.replace(services, settings=dataclasses.replace(services.settings,
                                                                                    database_url="")))
    result = api.get(f"/api/session/new?i={CUSTOMERS}")
    assert result.status == 400
    assert "set DATABASE_URL to a SQLAlchemy URL" in result.json["error"]
    assert "sql_customers.yml, line" in result.json["error"]


def test_two_new_customers_with_one_email_share_one_row(api: Api, db: sa.Engine) -> None:
    # Given: two sessions that both found no row for the same e-mail
    first, second = start(api), start(api)
    for session in (first, second):
        assert ok_json(session.set({"customer.email": "twin@example.com"}))["questionText"].strip() == \
            "Tell us about yourself"

    # When: both save
    for session, name in ((first, "Castor"), (second, "Pollux")):
        ok_json(session.set({"customer.first_name": name, "customer.last_name": "Twin",
                             "customer.favorite_fruit": "Pear"}))

    # Then: the _uid keeps one row, with the later answers
    assert rows(db, "SELECT email, first_name FROM customer") == [("twin@example.com", "Pollux")]
