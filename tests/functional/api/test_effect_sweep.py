"""Nothing lost silently: a change to another session whose process died between the calling
turn's commit and the change's apply.

The dying process is `_DiesAfterCommit` (test_push_pull): the calling turn commits its
effects as `pending`, dated a grace period ago, and never applies them. The hourly pass
(`POST /api/cron` with `cron_hourly`, as EventBridge runs it) finds them through the sparse
`by_effect` index, takes each with a conditional write and applies it once.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.engine.request import Interface, Request
from chalicelib.runtime.effects import PENDING_GRACE_SECONDS, SWEEP_MAX_AGE_SECONDS
from chalicelib.runtime.sessions import SessionRef, Sessions
from chalicelib.storage.effects import EffectRecord, EffectRef
from tests.conftest import Api
from tests.doubles import WrappedStore
from tests.functional.api.helpers import ApiSession, ok_json
from tests.functional.api.test_push_pull import CHILD, PARENT, _DiesAfterCommit, _install, make_child, variables

INDEX_KEYS = {"effect_shard", "effect_due"}


def bump_and_die(services: Any, parent: ApiSession, age: float = PENDING_GRACE_SECONDS + 1) -> None:
    """A's turn that bumps B commits, dated `age` seconds ago; its process dies before applying it."""
    dying = Sessions(services)
    dying.effects = _DiesAfterCommit(dying, age=age)
    dying.run_action(SessionRef(PARENT, parent.session, parent.secret),
                     Request(PARENT, parent.session, action="poke", arguments={"i": CHILD, "action": "bump"},
                             persistent_action=False, interface=Interface.API))


def statuses(services: Any, session_id: str) -> list[str]:
    return sorted(e.status for e in services.store.list_effects(session_id))


def hourly_pass(api: Api) -> None:
    ok_json(api.post("/api/cron", {"type": "cron_hourly"}))


def effect_items(fresh_aws: dict[str, Any], session_id: str) -> list[dict[str, Any]]:
    reply = fresh_aws["dynamodb"].query(
        TableName="InterviewData", KeyConditionExpression="pk = :pk AND begins_with(sk, :s)", ConsistentRead=True,
        ExpressionAttributeValues={":pk": {"S": "session#" + session_id}, ":s": {"S": "effect#"}})
    items: list[dict[str, Any]] = reply["Items"]
    return items


def test_a_change_left_pending_by_a_dead_process_is_applied_once_by_the_hourly_pass(
        api: Api, start: Any, services: Any) -> None:
    # Given: A made B; then A's turn that bumps B committed and its process died before applying it
    parent = start(PARENT)
    child = make_child(parent, name="Swept")
    bump_and_die(services, parent)
    assert statuses(services, parent.session) == ["applied", "applied", "pending"]
    assert "counter" not in variables(api, CHILD, child, parent.secret)

    # When: the hourly pass runs (nobody lists A's changes)
    hourly_pass(api)

    # Then: B's action ran once and the change is recorded applied
    assert variables(api, CHILD, child, parent.secret)["counter"] == 1
    assert statuses(services, parent.session) == ["applied"] * 3

    # And a second pass applies nothing
    hourly_pass(api)
    assert variables(api, CHILD, child, parent.secret)["counter"] == 1
    assert statuses(services, parent.session) == ["applied"] * 3
    assert Sessions(services).effects.sweep(now=time.time() + 7200) == 0


def test_the_pass_leaves_alone_a_change_its_process_still_holds(api: Api, start: Any, services: Any) -> None:
    # Given: a change just committed (its process may still be applying it: within the grace period)
    parent = start(PARENT)
    child = make_child(parent, name="Held")
    bump_and_die(services, parent, age=0)

    # When: the hourly pass runs now
    hourly_pass(api)

    # Then: it is not taken yet; once the grace period has passed, a sweep applies it
    assert statuses(services, parent.session) == ["applied", "applied", "pending"]
    assert "counter" not in variables(api, CHILD, child, parent.secret)
    assert Sessions(services).effects.sweep(now=time.time() + PENDING_GRACE_SECONDS + 1) == 1
    assert variables(api, CHILD, child, parent.secret)["counter"] == 1


def test_the_index_keys_are_on_the_item_only_while_it_is_pending(
        api: Api, start: Any, services: Any, fresh_aws: dict[str, Any]) -> None:
    parent = start(PARENT)
    make_child(parent, name="Keys")
    bump_and_die(services, parent)

    items = {item["status"]["S"]: item for item in effect_items(fresh_aws, parent.session)}
    assert INDEX_KEYS <= items["pending"].keys() and "payload" in items["pending"]
    applied = [item for item in effect_items(fresh_aws, parent.session) if item["status"]["S"] == "applied"]
    assert len(applied) == 2 and all(not (INDEX_KEYS | {"payload"}) & item.keys() for item in applied)

    hourly_pass(api)

    for item in effect_items(fresh_aws, parent.session):
        assert item["status"]["S"] == "applied"
        assert not (INDEX_KEYS | {"payload"}) & item.keys()


def test_a_change_pending_for_over_a_day_is_failed_by_the_pass_not_applied(
        api: Api, start: Any, services: Any) -> None:
    parent = start(PARENT)
    child = make_child(parent, name="Old")
    bump_and_die(services, parent, age=SWEEP_MAX_AGE_SECONDS + 1)

    hourly_pass(api)

    (old,) = [e for e in services.store.list_effects(parent.session) if e.kind == "action"]
    assert old.status == "failed" and "over a day" in old.reason
    assert "counter" not in variables(api, CHILD, child, parent.secret)


class _ListedBeforeAnyTook(WrappedStore):
    """Every sweeper is handed the due effects as they were listed before anyone took one: the race
    at its worst. The sweepers then run one after the other, not in threads: moto's in-memory
    DynamoDB checks a condition and applies its update without a lock, so threads would test moto's
    atomicity, which DynamoDB has and moto lacks. What is tested is ours: a claim made from a stale
    listing fails."""

    def __init__(self, inner: Any, listed: list[EffectRef]) -> None:
        super().__init__(inner)
        self.listed = listed

    def due_effects(self, now: float) -> Iterator[EffectRef]:
        return iter(self.listed)


def test_two_racing_sweepers_apply_the_change_once(api: Api, start: Any, services: Any) -> None:
    # Given: a change left pending by a dead process, and two sweepers that both listed it
    parent = start(PARENT)
    child = make_child(parent, name="Race")
    bump_and_die(services, parent)
    listed = list(services.store.due_effects(time.time()))
    assert len(listed) == 1
    sessions = _install(services, _ListedBeforeAnyTook(services.store, listed))

    # When: both sweep
    taken = [sessions.effects.sweep(), sessions.effects.sweep()]

    # Then: the first took it and the second found it taken; B's action ran once
    assert taken == [1, 0]
    assert variables(api, CHILD, child, parent.secret)["counter"] == 1
    assert statuses(services, parent.session) == ["applied"] * 3


def test_the_original_process_cannot_record_a_change_a_sweeper_took(start: Any, services: Any) -> None:
    # Given: a pending change whose process is slow, not dead
    parent = start(PARENT)
    make_child(parent, name="Slow")
    bump_and_die(services, parent)
    (original,) = [e for e in services.store.list_effects(parent.session) if e.status == "pending"]
    now = time.time()

    # When: a sweeper takes it, and a second one tries too
    (ref,) = list(services.store.due_effects(now))
    first = services.store.claim_effect(ref, now, now + 900)
    second = services.store.claim_effect(ref, now, now + 900)

    # Then: only the first holds it, and the original process (attempt 0) can no longer record it
    assert isinstance(first, EffectRecord) and first.attempts == 1 and second is None
    assert services.store.update_effect(_finished(original, "failed")) is False
    assert services.store.update_effect(_finished(first, "applied")) is True


def _finished(record: EffectRecord, status: str) -> EffectRecord:
    return dataclasses.replace(record, status=status, payload=b"", finished=time.time())


class _Calls:
    """The by_effect queries the app's DynamoDB client makes and how many items each returned."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.indexes: list[str] = []
        self.items: list[int] = []

    def before(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.names.append(model.name)
        if model.name == "Query":
            self.indexes.append(str(params.get("IndexName", "")))

    def after(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name == "Query":
            self.items.append(int(parsed.get("ScannedCount", parsed.get("Count", 0))))


@pytest.fixture
def dynamo_calls(fresh_aws: dict[str, Any]) -> Iterator[_Calls]:
    calls = _Calls()
    client = fresh_aws["dynamodb"]
    client.meta.events.register("before-parameter-build.dynamodb.*", calls.before, unique_id="effect-sweep")
    client.meta.events.register("after-call.dynamodb.*", calls.after, unique_id="effect-sweep-after")
    yield calls
    client.meta.events.unregister("before-parameter-build.dynamodb.*", unique_id="effect-sweep")
    client.meta.events.unregister("after-call.dynamodb.*", unique_id="effect-sweep-after")


def test_the_sweep_reads_only_pending_changes(
        api: Api, start: Any, services: Any, dynamo_calls: _Calls) -> None:
    # Given: sessions with many applied changes, and one change left pending by a dead process
    parent = start(PARENT)
    make_child(parent, name="Count")
    for _ in range(3):
        ok_json(api.get(f"/api/session?{parent.query()}"))
        assert parent.action("poke", arguments={"i": CHILD, "action": "bump"}).status == 204
    other = start(PARENT)
    make_child(other, name="Other")
    bump_and_die(services, parent)
    assert statuses(services, parent.session).count("applied") == 5

    # When: the sweep runs
    dynamo_calls.names.clear()
    dynamo_calls.indexes.clear()
    dynamo_calls.items.clear()
    assert Sessions(services).effects.sweep() == 1

    # Then: it queried only the sparse index, which held only the pending change, and scanned nothing
    by_effect = [n for index, n in zip(dynamo_calls.indexes, dynamo_calls.items, strict=True)
                 if index == "by_effect"]
    assert len(by_effect) == 16 and sum(by_effect) == 1
    assert "Scan" not in dynamo_calls.names
    assert statuses(services, parent.session) == ["applied"] * 6
