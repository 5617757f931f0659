"""Push and pull between sessions (issue 13 §2): create_session, set_session_variables,
run_action_in_session and get_session_variables, driven through the REST API.

Each change to another session is a turn on it, committed after the calling turn and
applied once: a retried caller applies nothing twice, a conflicting write in the target is
retried and not lost, a wrong secret changes nothing, and nothing is stored in clear for an
encrypted target.

Interviews: tests/fixtures/interviews/pp_parent.yml (the caller), pp_child.yml (encrypted)
and pp_shared_child.yml (multi_user).
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pytest

from chalicelib.engine.request import Interface, Request, UserInfo
from chalicelib.runtime.effects import PENDING_GRACE_SECONDS, SWEEP_MAX_AGE_SECONDS, EffectService
from chalicelib.runtime.push_pull import PlannedEffect
from chalicelib.runtime.sessions import SessionRef, Sessions, VariableChanges
from chalicelib.storage.effects import EffectRecord
from chalicelib.storage.errors import VersionConflictError
from chalicelib.storage.mail import MailAddress
from chalicelib.storage.outbox import SendRecord
from chalicelib.storage.records import Sealed, SessionHead, StepRecord
from chalicelib.storage.tasks import Notification, TaskWrite
from chalicelib.web import context
from tests.conftest import Api
from tests.doubles import WrappedStore
from tests.functional.api.helpers import ApiSession, ok_json

PARENT, CHILD, SHARED = "pp_parent.yml", "pp_child.yml", "pp_shared_child.yml"
WORDS = "quartz-pelican-8812"  # a value that must never be stored in clear


def variables(api: Api, interview: str, session: str, secret: str | None) -> dict[str, Any]:
    query = f"i={interview}&session={session}" + (f"&secret={secret}" if secret else "")
    return ok_json(api.get(f"/api/session?{query}"))


def effects(parent: ApiSession) -> list[dict[str, Any]]:
    result = parent.api.get(f"/api/session/effects?{parent.query()}")
    assert result.status == 200, result.body
    data: list[dict[str, Any]] = result.json
    return data


def acted(result: Any) -> None:
    """An action that ran and was saved (the API answers 204)."""
    assert result.status == 204, result.body


def make_child(parent: ApiSession, interview: str = CHILD, **values: Any) -> str:
    acted(parent.action("make_child", arguments={"i": interview, "values": values}))
    child = parent.variables().json["child_id"]
    assert isinstance(child, str) and len(child) == 32
    return child


def test_a_creates_b_sets_variables_runs_an_action_and_reads_them_back(
        api: Api, start: Callable[[str], ApiSession]) -> None:
    # Given: session A of the parent interview
    parent = start(PARENT)

    # When: A creates B and sets its name in the same turn, runs B's `bump` twice, then reads B
    child = make_child(parent, name="Ada")
    acted(parent.action("poke", arguments={"i": CHILD, "action": "bump", "arguments": {"by": 5}}))
    acted(parent.action("poke", arguments={"i": CHILD, "action": "bump", "arguments": {"tag": "second"}}))
    acted(parent.action("pull", arguments={"i": CHILD}))

    # Then: B exists, opened with A's own secret, and holds the name and the counter
    seen = variables(api, CHILD, child, parent.secret)
    assert (seen["name"], seen["counter"], seen["tags"]) == ("Ada", 6, ["second"])
    question = ok_json(api.get(f"/api/session/question?i={CHILD}&session={child}&secret={parent.secret}"))
    assert question["questionText"] == "Child Ada"
    # and A pulled them into its own answers
    pulled = parent.variables().json["pulled"]
    assert (pulled["name"], pulled["counter"]) == ("Ada", 6)
    # and every change is recorded as applied, in order
    listed = effects(parent)
    assert [(e["kind"], e["status"]) for e in listed] == [
        ("create", "applied"), ("set", "applied"), ("action", "applied"), ("action", "applied")]
    assert {e["session"] for e in listed} == {child}


def test_the_changes_to_b_each_are_a_new_step_of_b_unless_overwrite(
        api: Api, start: Callable[[str], ApiSession]) -> None:
    parent = start(PARENT)
    child = make_child(parent, name="Ada")
    steps_before = _steps(child)

    acted(parent.action("push", arguments={"i": CHILD, "values": {"nickname": "A"}}))
    acted(parent.action("push", arguments={"i": CHILD, "values": {"nickname": "B"}, "overwrite": True}))
    acted(parent.action("push", arguments={"i": CHILD, "delete": "nickname"}))

    assert _steps(child) == steps_before + 2  # the overwrite changed the current step
    assert "nickname" not in variables(api, CHILD, child, parent.secret)


def _steps(session_id: str) -> int:
    return context.services().store.load(CHILD, session_id)[0].step


def test_many_changes_of_one_step_are_applied_in_the_order_made(
        api: Api, start: Callable[[str], ApiSession], services: Any) -> None:
    parent = start(PARENT)
    child = make_child(parent, name="Series")

    acted(parent.action("push_series", arguments={"i": CHILD, "count": 12}))

    assert variables(api, CHILD, child, parent.secret)["last"] == 11  # the last one made is the last applied
    keys = [e["key"] for e in effects(parent)][2:]
    assert [int(key.rsplit("-", 1)[1]) for key in keys] == list(range(12))  # listed in the order made
    too_many = parent.action("push_series", arguments={"i": CHILD, "count": 21})
    assert too_many.status >= 400 and "at most 20 changes to other sessions" in too_many.body.decode()


def test_a_wrong_secret_is_a_clear_error_and_changes_nothing(api: Api, start: Callable[[str], ApiSession]) -> None:
    # Given: B, an encrypted session of its own (not made by A), and A
    child = start(CHILD)
    child.set({"name": "Bea"})
    parent = start(PARENT)

    # When: A tries to set B's name and run its action with a wrong secret, or with its own (not B's)
    wrong = [parent.action("push", arguments={"i": CHILD, "session": child.session, "values": {"name": "X"},
                                              "secret": "w" * 16}),
             parent.action("push", arguments={"i": CHILD, "session": child.session, "values": {"name": "X"}}),
             parent.action("poke", arguments={"i": CHILD, "session": child.session, "action": "bump",
                                              "secret": "w" * 16})]

    # Then: each call fails with a message that says the secret does not open B; nothing is applied
    for result in wrong:
        assert result.status >= 400, result.body
        assert "the secret does not open session" in result.body.decode()
    seen = child.variables().json
    assert (seen["name"], seen["counter"]) == ("Bea", 0)
    assert effects(parent) == []
    # and with B's secret the same change is made
    acted(parent.action("push", arguments={"i": CHILD, "session": child.session, "values": {"name": "Cy"},
                                             "secret": child.secret}))
    assert child.variables().json["name"] == "Cy"


def test_a_missing_session_and_the_current_session_are_refused(start: Callable[[str], ApiSession]) -> None:
    parent = start(PARENT)
    missing = parent.action("push", arguments={"i": CHILD, "session": "Z" * 32, "values": {"name": "X"}})
    itself = parent.action("push", arguments={"i": PARENT, "session": parent.session, "values": {"x": 1}})
    assert missing.status >= 400 and "there is no session" in missing.body.decode()
    assert itself.status >= 400 and "not the current one" in itself.body.decode()
    assert effects(parent) == []


def test_a_shared_target_is_reached_without_its_secret(api: Api, start: Callable[[str], ApiSession]) -> None:
    # Given: a multi_user session B, started by someone else
    made = api.new_session(SHARED)
    assert made["encrypted"] is False and "secret" not in made
    child = ApiSession(api, SHARED, made["session"], "")
    child.set({"name": "Shared"})
    parent = start(PARENT)

    # When: A (with only its own secret) changes B and reads it back
    acted(parent.action("poke", arguments={"i": SHARED, "session": child.session, "action": "bump"}))
    acted(parent.action("pull", arguments={"i": SHARED, "session": child.session}))

    # Then: the change is made, B stays signed (not encrypted), and anyone opens it by its id
    assert parent.variables().json["pulled"]["counter"] == 1
    assert variables(api, SHARED, child.session, None)["counter"] == 1
    assert context.services().store.load(SHARED, child.session)[0].encrypted is False


def test_nothing_of_an_encrypted_target_is_stored_in_clear(
        api: Api, start: Callable[[str], ApiSession], fresh_aws: dict[str, Any], services: Any) -> None:
    # Given: A creates an encrypted B with a name, and tags it through an action
    parent = start(PARENT)
    child = make_child(parent, name=WORDS)
    acted(parent.action("poke", arguments={"i": CHILD, "action": "bump", "arguments": {"tag": WORDS + "-tag"}}))
    assert variables(api, CHILD, child, parent.secret)["tags"] == [WORDS + "-tag"]

    # Then: no stored item holds the values in clear, and no effect keeps its sealed payload once applied
    items = fresh_aws["dynamodb"].scan(TableName=services.settings.table_name)["Items"]
    assert WORDS not in str(items) and not any(WORDS.encode() in bytes(v["B"]) for i in items
                                               for v in i.values() if "B" in v)
    recorded = [i for i in items if i["sk"]["S"].startswith("effect#")]
    assert len(recorded) == 3 and not any("payload" in i for i in recorded)
    marks = [i for i in items if i["sk"]["S"].startswith("applied#")]
    assert len(marks) == 2 and all(m["pk"]["S"] == f"session#{child}" for m in marks)


class _CapturingStore(WrappedStore):
    """Keeps a copy of each effect committed (with its sealed payload), and makes the first commit of
    `fail_first` fail as if another writer had got there first (nothing written)."""

    def __init__(self, inner: Any, fail_first: str = "") -> None:
        super().__init__(inner)
        self.captured: list[EffectRecord] = []
        self.fail_first = fail_first
        self.failed = 0

    def commit(self, before: SessionHead, after: SessionHead, put: StepRecord | None,
               delete_steps: Sequence[int] = (), extras: Mapping[str, Sealed] | None = None,
               tasks: Sequence[TaskWrite] = (), notes: Sequence[Notification] = (),
               sends: Sequence[SendRecord] = (), addresses: Sequence[MailAddress] = (),
               effects: Sequence[EffectRecord] = (), marks: Sequence[str] = ()) -> None:
        if before.session_id == self.fail_first and not self.failed and effects:
            self.failed += 1
            raise VersionConflictError("forced: another writer got there first")
        super().commit(before, after, put, delete_steps, extras, tasks, notes, sends=sends, addresses=addresses,
                       effects=effects, marks=marks)
        self.captured += effects


def _install(services: Any, store: WrappedStore) -> Sessions:
    changed = dataclasses.replace(services, store=store)
    context.use_services(changed)
    return context.sessions()


def test_a_retried_caller_applies_nothing_twice(api: Api, start: Callable[[str], ApiSession], services: Any) -> None:
    # Given: A, whose first commit of a turn with changes to other sessions fails as a version conflict
    parent = start(PARENT)
    store = _CapturingStore(services.store, fail_first=parent.session)
    sessions = _install(services, store)

    # When: A creates B with a name (the turn runs twice: its first commit fails) and then bumps B
    child = make_child(parent, name="Once")
    acted(parent.action("poke", arguments={"i": CHILD, "action": "bump"}))

    # Then: the turn was retried, B was created once, and its name and counter changed once
    assert store.failed == 1
    assert [h.session_id for h in services.store.list_heads(interview=CHILD)] == [child]
    assert variables(api, CHILD, child, parent.secret)["counter"] == 1
    steps = _steps(child)

    # When: every committed change is applied again (as a process that died before recording it would)
    again = sessions.effects.apply(store.captured)

    # Then: each is recorded as applied and B is not changed a second time
    assert [e.status for e in again] == ["applied"] * 3
    assert variables(api, CHILD, child, parent.secret)["counter"] == 1
    assert _steps(child) == steps
    assert len(list(services.store.list_heads(interview=CHILD))) == 1


def test_a_conflicting_write_in_b_is_retried_and_not_lost(
        api: Api, start: Callable[[str], ApiSession], services: Any) -> None:
    # Given: B, and a writer that changes B just before A's change to B commits
    parent = start(PARENT)
    child = make_child(parent, name="Race")
    ref = SessionRef(CHILD, child, parent.secret)
    raced = threading.Event()

    class RacingStore(WrappedStore):
        def commit(self, before: SessionHead, after: SessionHead, put: StepRecord | None,
                   delete_steps: Sequence[int] = (), extras: Mapping[str, Sealed] | None = None,
                   tasks: Sequence[TaskWrite] = (), notes: Sequence[Notification] = (),
                   sends: Sequence[SendRecord] = (), addresses: Sequence[MailAddress] = (),
                   effects: Sequence[EffectRecord] = (), marks: Sequence[str] = ()) -> None:
            if marks and not raced.is_set():
                raced.set()  # the other writer commits first: this commit must fail and run again
                sessions.set_variables(ref, Request(CHILD, child, interface=Interface.API),
                                       VariableChanges({"other": WORDS}), evaluate=False)
            super().commit(before, after, put, delete_steps, extras, tasks, notes, sends=sends,
                           addresses=addresses, effects=effects, marks=marks)

    sessions = _install(services, RacingStore(services.store))

    # When: A bumps B
    acted(parent.action("poke", arguments={"i": CHILD, "action": "bump", "arguments": {"by": 3}}))

    # Then: both B's other write and A's change are there
    assert raced.is_set()
    seen = variables(api, CHILD, child, parent.secret)
    assert (seen["other"], seen["counter"]) == (WORDS, 3)
    assert [e["status"] for e in effects(parent)] == ["applied"] * 3


class _DiesAfterCommit(EffectService):
    """Effects as a process that died right after the calling turn committed leaves them: recorded
    (as if `age` seconds ago), never applied."""

    def __init__(self, sessions: Sessions, age: float = PENDING_GRACE_SECONDS + 1) -> None:
        super().__init__(sessions)
        self.age = age

    def prepare(self, session_id: str, planned: Sequence[PlannedEffect], user: UserInfo) -> list[EffectRecord]:
        return [dataclasses.replace(r, created=r.created - self.age, due=r.due - self.age)
                for r in super().prepare(session_id, planned, user)]

    def apply(self, records: Sequence[EffectRecord]) -> list[EffectRecord]:
        return list(records)


def test_a_change_left_pending_by_a_dead_process_is_applied_when_the_caller_lists_its_changes(
        api: Api, start: Callable[[str], ApiSession], services: Any) -> None:
    # Given: A made B; then A's turn that bumps B committed, and its process died before applying it
    parent = start(PARENT)
    child = make_child(parent, name="Late")
    dying = Sessions(services)
    dying.effects = _DiesAfterCommit(dying)
    dying.run_action(SessionRef(PARENT, parent.session, parent.secret),
                     Request(PARENT, parent.session, action="poke", arguments={"i": CHILD, "action": "bump"},
                             persistent_action=False, interface=Interface.API))
    assert sorted(e.status for e in services.store.list_effects(parent.session)) == ["applied", "applied", "pending"]
    assert "counter" not in variables(api, CHILD, child, parent.secret)  # B's action has not run

    # When: A's changes are listed (GET /api/session/effects sweeps those pending too long)
    listed = effects(parent)

    # Then: the change is applied, once
    assert [e["status"] for e in listed] == ["applied"] * 3
    assert variables(api, CHILD, child, parent.secret)["counter"] == 1
    assert [e["status"] for e in effects(parent)] == ["applied"] * 3
    assert variables(api, CHILD, child, parent.secret)["counter"] == 1


def test_an_error_in_the_target_is_reported_to_the_caller(api: Api, start: Callable[[str], ApiSession]) -> None:
    parent = start(PARENT)
    child = make_child(parent, name="Err")
    before = variables(api, CHILD, child, parent.secret)

    acted(parent.action("poke", arguments={"i": CHILD, "action": "fail"}))  # A's own turn is saved

    failed = effects(parent)[-1]
    assert failed["status"] == "failed" and failed["reason"].startswith("ValueError in pp_child.yml, line")
    assert "the child refuses" not in failed["reason"]  # what the code said stays in the log
    assert variables(api, CHILD, child, parent.secret) == before


def test_a_session_created_in_this_turn_is_read_from_the_next_one(
        api: Api, start: Callable[[str], ApiSession], services: Any) -> None:
    # Given: A
    parent = start(PARENT)

    # When: one turn creates B and reads it at once
    result = parent.action("make_and_read", arguments={"i": CHILD})

    # Then: the read says when B can be read; the turn is not saved, so no B is made
    assert result.status >= 400 and "is created when this turn is saved" in result.body.decode(), result.body
    assert list(services.store.list_heads(interview=CHILD)) == [] and effects(parent) == []


@pytest.mark.parametrize("arguments, expected", [
    ({"i": CHILD, "values": "name"}, "variables must be a dict"),
    ({"i": "", "values": {}}, "yaml_filename must be non-empty text"),
    ({"i": CHILD, "values": {"_internal": 1}}, "cannot be set or deleted"),
    ({"i": "no_such_interview.yml", "values": {}}, "no_such_interview.yml"),
    ({"i": CHILD, "session": "../etc", "values": {}}, "session_id must be a session id"),
])
def test_bad_arguments_are_refused_with_what_was_expected(
        start: Callable[[str], ApiSession], arguments: dict[str, Any], expected: str) -> None:
    parent = start(PARENT)
    make_child(parent, name="Args")
    result = parent.action("push", arguments=arguments)
    assert result.status >= 400 and expected in result.body.decode(), result.body


def test_values_too_large_for_one_change_are_refused_before_anything_is_saved(
        api: Api, start: Callable[[str], ApiSession]) -> None:
    # Given: A and its B, and values of 400,000 characters (API arguments are bounded, so the
    # interview code builds them itself: pp_parent's `push` repeats a text)
    parent = start(PARENT)
    child = make_child(parent, name="Big")

    result = parent.action("push", arguments={"i": CHILD, "values": {"note": "x"}, "repeat": 400_000})

    assert result.status >= 400 and "one change may take at most 300,000 bytes" in result.body.decode()
    assert "note" not in variables(api, CHILD, child, parent.secret)
    assert [e["kind"] for e in effects(parent)] == ["create", "set"]


def test_a_change_left_pending_for_over_a_day_is_recorded_failed_not_applied(
        api: Api, start: Callable[[str], ApiSession], services: Any) -> None:
    # Given: A's change to B committed more than a day ago and never applied
    parent = start(PARENT)
    child = make_child(parent, name="Old")
    dying = Sessions(services)
    dying.effects = _DiesAfterCommit(dying, age=SWEEP_MAX_AGE_SECONDS + 1)
    dying.run_action(SessionRef(PARENT, parent.session, parent.secret),
                     Request(PARENT, parent.session, action="poke", arguments={"i": CHILD, "action": "bump"},
                             persistent_action=False, interface=Interface.API))

    # When: A's changes are listed
    listed = {e["kind"]: e for e in effects(parent)}

    # Then: the old change is recorded failed, saying why, and B is not changed
    assert listed["action"]["status"] == "failed" and "over a day" in listed["action"]["reason"]
    assert "counter" not in variables(api, CHILD, child, parent.secret)


def test_a_session_that_creates_another_when_it_starts(api: Api, start: Callable[[str], ApiSession]) -> None:
    # Given/When: a new session whose first evaluation creates B and names it
    starter = start("pp_starter.yml")

    # Then: B exists, with the name and its url_args, opened with the starter's secret; both applied
    child = starter.variables().json["child_id"]
    seen = variables(api, CHILD, child, starter.secret)
    assert (seen["name"], seen["url_args"]) == ("First", {"from": "starter"})
    assert [(e["kind"], e["status"]) for e in effects(starter)] == [("create", "applied"), ("set", "applied")]
    assert [e["key"] for e in effects(starter)] == ["v1-00", "v1-01"]  # the first run's turn id is v1


def test_a_shared_caller_without_a_secret_must_pass_one_to_create(api: Api) -> None:
    # Given: a multi_user session, opened by its id alone (no secret of its own)
    made = api.new_session("pp_shared_parent.yml")
    parent = ApiSession(api, "pp_shared_parent.yml", made["session"], "")

    # When/Then: creating without secret= says to pass one; a short secret is refused; nothing is made
    bare = parent.action("make_child")
    short = parent.action("make_child", arguments={"secret": "short"})
    assert bare.status >= 400 and "pass secret=" in bare.body.decode()
    assert short.status >= 400 and "at least 16 characters" in short.body.decode()
    assert effects(parent) == []

    # and with a secret of its own, the new session opens with that secret only
    acted(parent.action("make_child", arguments={"secret": "p" * 16}))
    child = parent.variables().json["child_id"]
    assert api.get(f"/api/session?i={CHILD}&session={child}&secret={'q' * 16}").status == 403
    assert variables(api, CHILD, child, "p" * 16)["url_args"] == {}
