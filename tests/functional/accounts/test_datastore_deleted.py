"""`DAStore(base='session')` values go with their session: deleted with it through the API
and by the inactivity purge, while another session's values stay (fixture
dastore_session_probe.yml, which keeps the answer in a DAStore of base 'session')."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from chalicelib.runtime.purge import DAY_SECONDS, Purge
from chalicelib.runtime.services import Services
from chalicelib.storage.memory import MemorySessionStore
from chalicelib.storage.records import SessionHead, StepRecord
from tests.conftest import Api

PROBE = "dastore_session_probe.yml"


def _answered(api: Api, remark: str) -> tuple[str, str]:
    """A new session of the probe whose remark is stored in its DAStore; its id and secret."""
    started = api.new_session(PROBE)
    done = api.post("/api/session", {"i": PROBE, "session": started["session"], "secret": started["secret"],
                                     "variables": {"remark": remark}})
    assert done.status == 200 and done.json["questionText"] == f"Noted: {remark}", done.body
    return started["session"], started["secret"]


def _value_owners(fresh_aws: dict[str, Any], services: Services) -> list[str]:
    """The session ids in the keys of the stored DAStore values of base 'session'."""
    items = fresh_aws["dynamodb"].scan(TableName=services.settings.table_name)["Items"]
    return sorted(i["sk"]["S"].split(":")[2] for i in items
                  if i["pk"]["S"] == "values" and i["sk"]["S"].startswith("da:uid:"))


def test_a_deleted_sessions_dastore_values_are_deleted_and_another_sessions_stay(
        api: Api, services: Services, fresh_aws: dict[str, Any]) -> None:
    # Given: two sessions, each with a value in its own DAStore
    first, first_secret = _answered(api, "first remark")
    second, second_secret = _answered(api, "second remark")
    assert _value_owners(fresh_aws, services) == sorted([first, second])

    # When: the first session is deleted through the API
    deleted = api.delete(f"/api/session?i={PROBE}&session={first}&secret={first_secret}")

    # Then: its value is gone, the other session's stays and is still shown
    assert deleted.status == 204
    assert _value_owners(fresh_aws, services) == [second]
    shown = api.get(f"/api/session/question?i={PROBE}&session={second}&secret={second_secret}")
    assert shown.json["questionText"] == "Noted: second remark"


def test_the_purge_deletes_an_idle_sessions_dastore_values(api: Api, services: Services,
                                                           fresh_aws: dict[str, Any]) -> None:
    # Given: an idle session with a DAStore value, and a young one with its own
    idle, _ = _answered(api, "old remark")
    young, _ = _answered(api, "new remark")
    now = time.time()
    head, _ = services.store.load(PROBE, idle)
    services.store.commit(head, dataclasses.replace(head, version=head.version + 1,
                                                    modified=now - 1000 * DAY_SECONDS), None)

    # When: the daily purge runs
    assert Purge(services).run(now=now) == 1

    # Then: the idle session's value went with it; the young one's stays
    assert _value_owners(fresh_aws, services) == [young]


def test_the_memory_store_deletes_a_sessions_values_with_it() -> None:
    # Given: a session in the memory store, a value of its own, one of another session, and a shared one
    store = MemorySessionStore()
    session_id, other = "s" * 32, "o" * 32
    now = time.time()
    store.create(SessionHead(PROBE, session_id, version=1, step=1, encrypted=False, created=now, modified=now),
                 StepRecord(1, b"answers"))
    for key in (f"da:uid:{session_id}:i:{PROBE}:k", f"da:userid:t{session_id}:k", f"da:uid:{other}:i:{PROBE}:k",
                "da:global:k"):
        store.put_value(key, b"v", 0.0)

    # When: the session is deleted
    store.delete(PROBE, session_id)

    # Then: only its own values went
    assert store.value_keys() == sorted([f"da:uid:{other}:i:{PROBE}:k", "da:global:k"])
