"""DARedis kept in DynamoDB (issue 13 §3, part): docassemble's redis.yml, a counter shared by
every session, pickled data with an expiry, keys by pattern, and signed data.

Interviews: redis.yml (../shared/examples, unmodified) and tests/fixtures/interviews/redis_counter.yml.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from chalicelib.runtime.keystore import SharedKeyStore
from tests.conftest import Api
from tests.functional.api.helpers import ApiSession, ok_json

COUNTER = "redis_counter.yml"


def start(api: Api, interview: str) -> ApiSession:
    data = api.new_session(interview)
    return ApiSession(api, interview, data["session"], data["secret"])


def test_docassembles_redis_example_reads_back_what_it_set(api: Api, examples: Path) -> None:
    session = start(api, "redis.yml")
    screen = ok_json(session.question())
    assert "The value is &quot;hello world&quot;" in screen["subquestionText"] or \
        'The value is "hello world"' in screen["subquestionText"]
    assert "redis.yml:my_variable" in screen["subquestionText"]


def test_a_counter_shared_by_sessions_and_data_that_expires(api: Api, services: Any) -> None:
    first, second = start(api, COUNTER), start(api, COUNTER)
    assert ok_json(first.question())["questionText"].strip() == "Visit 1; last visitor 2; hello"
    assert ok_json(second.question())["questionText"].strip() == "Visit 2; last visitor 2; hello"
    answers = ok_json(first.variables())
    assert answers["names"] == [f"{COUNTER}:{n}" for n in ("greeting", "last_visitor", "visits")]
    assert answers["missing"] is None

    store = SharedKeyStore(services)
    store.put_data("x", {"a": 1}, expire=3600)
    assert store.fetch_data("x") == {"a": 1}
    blob, _ = services.store.get_value("x")
    services.store.put_value("x", blob, time.time() - 1)  # as if its hour had passed
    assert store.fetch_data("x") is None and "x" not in store.names()


def test_data_not_written_by_set_data_is_never_unpickled(services: Any) -> None:
    import pickle

    store = SharedKeyStore(services)
    services.store.put_value("forged", pickle.dumps({"evil": True}), 0.0)  # written around the app
    assert store.fetch_data("forged") is None
    assert store.fetch("forged") is not None  # still there as plain bytes for get()
