"""DARedis on a real Redis (REDIS_URL): docassemble's redis.yml and the shared counter run against
a `redis-server` the test starts (tests/servers.py), and the values land in that Redis, not in
the table; set_data's expiry is Redis's own; incr is atomic; only signed data is unpickled.

Interviews: redis.yml (../shared/examples, unmodified) and tests/fixtures/interviews/redis_counter.yml.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.conftest import Api, settings_env
from tests.functional.api.helpers import ApiSession, ok_json
from tests.servers import redis_server

pytestmark = pytest.mark.slow  # starts a redis-server


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    with redis_server() as url:
        yield url


@pytest.fixture
def settings(redis_url: str) -> Any:
    from chalicelib.settings import Settings

    return Settings.from_env(settings_env(REDIS_URL=redis_url))


@pytest.fixture
def server(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


def start(api: Api, interview: str) -> ApiSession:
    data = api.new_session(interview)
    return ApiSession(api, interview, data["session"], data["secret"])


def _values_in_table(aws: dict[str, Any]) -> list[Any]:
    (table,) = aws["dynamodb"].list_tables()["TableNames"]
    items = aws["dynamodb"].scan(TableName=table)["Items"]
    return [item for item in items if item["pk"]["S"] == "values"]


def test_docassembles_redis_example_on_a_real_redis(api: Api, server: redis.Redis, examples: Path,
                                                    fresh_aws: dict[str, Any]) -> None:
    screen = ok_json(start(api, "redis.yml").question())
    assert "hello world" in screen["subquestionText"] and "redis.yml:my_variable" in screen["subquestionText"]
    assert server.get("redis.yml:my_variable") == b"hello world"
    assert _values_in_table(fresh_aws) == []  # nothing went to DynamoDB


def test_the_shared_counter_expiry_and_keys_on_a_real_redis(api: Api, server: redis.Redis) -> None:
    first, second = start(api, "redis_counter.yml"), start(api, "redis_counter.yml")
    assert ok_json(first.question())["questionText"].strip() == "Visit 1; last visitor 2; hello"
    assert ok_json(second.question())["questionText"].strip() == "Visit 2; last visitor 2; hello"
    assert ok_json(first.variables())["names"] == [f"redis_counter.yml:{n}"
                                                   for n in ("greeting", "last_visitor", "visits")]
    assert server.get("redis_counter.yml:visits") == b"2"
    assert 0 < server.ttl("redis_counter.yml:last_visitor") <= 3600  # set_data(..., expire=3600): Redis's own TTL
    assert server.ttl("redis_counter.yml:greeting") == -1  # set() without ex: no expiry


def test_thirty_concurrent_incr_calls_all_count(services: Any, server: redis.Redis) -> None:
    from chalicelib.runtime.redis_store import shared_keystore

    store = shared_keystore(services)
    with ThreadPoolExecutor(max_workers=30) as pool:
        results = list(pool.map(lambda _: store.add("race", 1), range(30)))
    assert sorted(results) == list(range(1, 31))
    assert server.get("race") == b"30"


def test_data_not_written_by_set_data_is_never_unpickled(services: Any, server: redis.Redis) -> None:
    from chalicelib.runtime.redis_store import shared_keystore

    store = shared_keystore(services)
    server.set("forged", pickle.dumps({"evil": True}))  # written around the app
    assert store.fetch_data("forged") is None
    store.put_data("kept", {"a": 1}, expire=60)
    assert store.fetch_data("kept") == {"a": 1}
    assert store.remove("kept") and store.fetch("kept") is None and not store.remove("kept")
    assert store.expire("forged", 30) and 0 < server.ttl("forged") <= 30
