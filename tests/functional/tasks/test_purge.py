"""The inactivity purge (issue 11 §7): `cron_daily` deletes sessions idle for longer than
INTERVIEW_DELETE_DAYS (or their interview's `interview delete days`), reading only those.

Interviews: two_questions.yml (the default period) and the fixtures purge_soon.yml (5 days)
and purge_never.yml (0: kept).
"""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from typing import Any

import pytest

from chalicelib.engine.request import Interface
from chalicelib.runtime.purge import DAY_SECONDS, Purge
from chalicelib.runtime.services import Services
from chalicelib.runtime.sessions import SessionRef, Sessions
from chalicelib.storage.dynamodb import INDEX_SHARDS
from chalicelib.storage.errors import SessionNotFoundError
from tests.conftest import Api
from tests.functional.api.helpers import ok_json

NOW = time.time()
READS = {"Query", "Scan", "GetItem", "BatchGetItem"}


def session(services: Services, interview: str, days_idle: float) -> SessionRef:
    """A session of `interview` last modified `days_idle` days before NOW."""
    ref, _ = Sessions(services).start(interview, interface=Interface.API)
    head, _ = services.store.load(interview, ref.session_id)
    aged = dataclasses.replace(head, version=head.version + 1, modified=NOW - days_idle * DAY_SECONDS)
    services.store.commit(head, aged, None)
    return ref


def exists(services: Services, ref: SessionRef) -> bool:
    try:
        services.store.load(ref.interview, ref.session_id)
    except SessionNotFoundError:
        return False
    return True


@pytest.fixture
def reads(services: Services) -> Counter[str]:
    """DynamoDB calls that read, by operation, made through the store's client."""
    counted: Counter[str] = Counter()
    client = services.store._aws.dynamodb  # type: ignore[attr-defined]
    client.meta.events.register("before-call.dynamodb",
                                lambda model, **_: counted.update([model.name] if model.name in READS else []))
    return counted


def test_sessions_idle_longer_than_the_period_go_and_the_others_stay(services: Services,
                                                                     fresh_aws: dict[str, Any]) -> None:
    old = [session(services, "two_questions.yml", days) for days in (91, 400)]
    young = [session(services, "two_questions.yml", days) for days in (0, 89.9)]
    services.store.put_file(old[0].session_id, "note.txt", _signed(b"a file"))

    assert Purge(services).run(now=NOW) == 2

    assert [exists(services, ref) for ref in old + young] == [False, False, True, True]
    objects = fresh_aws["s3"].list_objects_v2(Bucket=services.settings.blob_bucket,
                                              Prefix=f"files/{old[0].session_id}/")
    assert objects.get("KeyCount", 0) == 0


def _signed(data: bytes) -> Any:
    from chalicelib.storage.records import BlobKind, Sealed

    return Sealed(data, BlobKind.SIGNED)


def test_the_purge_reads_only_what_it_deletes(services: Services, reads: Counter[str]) -> None:
    # Given: 3 idle sessions among 3 young ones, then (3 more idle) among 15 young ones
    counts = []
    for young in (3, 12):
        idle = [session(services, "two_questions.yml", 100) for _ in range(3)]
        for _ in range(young):
            session(services, "two_questions.yml", 1)
        reads.clear()
        assert Purge(services).run(now=NOW) == 3
        counts.append(sum(reads.values()))
        assert not any(exists(services, ref) for ref in idle)

    # Then: one Query per index partition, and one per deleted session (to list its items)
    assert counts == [INDEX_SHARDS + 3] * 2, reads


def test_an_interview_may_keep_its_sessions_shorter_longer_or_forever(services: Services) -> None:
    soon = session(services, "purge_soon.yml", 6)
    soon_young = session(services, "purge_soon.yml", 4)
    never = session(services, "purge_never.yml", 1000)
    default = session(services, "two_questions.yml", 6)

    assert Purge(services).run(now=NOW) == 1

    assert [exists(services, ref) for ref in (soon, soon_young, never, default)] == [False, True, True, True]


def test_a_setting_of_zero_keeps_every_session(services: Services) -> None:
    kept = session(services, "two_questions.yml", 1000)
    keep_all = dataclasses.replace(services, settings=dataclasses.replace(services.settings, interview_delete_days=0))

    Purge(keep_all).run(now=NOW)

    assert exists(services, kept)


def test_a_session_answered_after_the_listing_is_kept(services: Services) -> None:
    ref = session(services, "two_questions.yml", 100)
    listed = [s for s in services.store.idle_sessions(NOW - 90 * DAY_SECONDS) if s.session_id == ref.session_id]
    assert listed

    session_now = Sessions(services)
    from chalicelib.engine.request import Request
    from chalicelib.runtime.sessions import VariableChanges

    session_now.set_variables(ref, Request(ref.interview, ref.session_id, interface=Interface.API),
                              VariableChanges({"color": "blue"}))

    assert not services.store.delete_idle(ref.interview, ref.session_id, NOW - 90 * DAY_SECONDS)
    assert exists(services, ref)


def test_the_daily_pass_purges(api: Api, services: Services) -> None:
    old = session(services, "two_questions.yml", 100)
    assert ok_json(api.post("/api/cron", {"type": "cron_daily"})) == {"queued": 0}
    assert not exists(services, old)
    hourly = session(services, "two_questions.yml", 100)
    ok_json(api.post("/api/cron", {"type": "cron_hourly"}))
    assert exists(services, hourly)  # only the daily pass purges


# ---------------------------------------------------------------------------- the TTL safety net
def _stored_expiry(services: Services, ref: SessionRef, sk: str) -> int | None:
    from chalicelib.storage.dynamodb import session_pk

    item = services.store._aws.dynamodb.get_item(  # type: ignore[attr-defined]
        TableName=services.settings.table_name, Key={"pk": {"S": session_pk(ref.session_id)}, "sk": {"S": sk}},
        ConsistentRead=True)["Item"]
    return int(item["expires_at"]["N"]) if "expires_at" in item else None


def test_the_head_and_each_step_expire_a_grace_period_after_the_purge_would_delete_them(
        services: Services) -> None:
    from chalicelib.engine.request import Request
    from chalicelib.runtime.purge import GRACE_DAYS
    from chalicelib.runtime.sessions import VariableChanges

    sessions = Sessions(services)
    ref, _ = sessions.start("two_questions.yml", interface=Interface.API)
    first = services.store.load(ref.interview, ref.session_id)[0]
    days = services.settings.interview_delete_days + GRACE_DAYS
    assert _stored_expiry(services, ref, "step~head") == int(first.modified + days * DAY_SECONDS)
    assert _stored_expiry(services, ref, "step#00000001") == int(first.modified + days * DAY_SECONDS)

    # Each save renews the head's, and the new step carries the same
    sessions.set_variables(ref, Request(ref.interview, ref.session_id, interface=Interface.API),
                           VariableChanges({"color": "blue"}))
    head = services.store.load(ref.interview, ref.session_id)[0]
    assert _stored_expiry(services, ref, "step~head") == _stored_expiry(services, ref, "step#00000002") == int(
        head.modified + days * DAY_SECONDS)


@pytest.mark.parametrize(("interview", "days"), [("purge_soon.yml", 5), ("purge_never.yml", 0)])
def test_an_interviews_own_period_sets_the_expiry_and_zero_sets_none(services: Services, interview: str,
                                                                      days: int) -> None:
    from chalicelib.runtime.purge import GRACE_DAYS

    ref, _ = Sessions(services).start(interview, interface=Interface.API)
    head = services.store.load(interview, ref.session_id)[0]
    expected = int(head.modified + (days + GRACE_DAYS) * DAY_SECONDS) if days else None
    assert _stored_expiry(services, ref, "step~head") == _stored_expiry(services, ref, "step#00000001") == expected


def test_back_skips_a_step_the_ttl_already_removed(services: Services, fresh_aws: dict[str, Any]) -> None:
    from chalicelib.engine.request import Request
    from chalicelib.runtime.sessions import VariableChanges
    from chalicelib.storage.dynamodb import session_pk

    sessions = Sessions(services)
    ref, _ = sessions.start("two_questions.yml", interface=Interface.API)
    for answer in ({"color": "blue"}, {"fruit": "kiwi"}):
        sessions.set_variables(ref, Request(ref.interview, ref.session_id, interface=Interface.API),
                               VariableChanges(answer))
    fresh_aws["dynamodb"].delete_item(TableName=services.settings.table_name,  # as the TTL would
                                      Key={"pk": {"S": session_pk(ref.session_id)}, "sk": {"S": "step#00000002"}})

    assert sessions.back(ref).step == 1
