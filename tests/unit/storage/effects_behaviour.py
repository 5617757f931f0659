"""What every SessionStore does with effects on other sessions and their marks (storage.effects);
run against the in-memory store (tests/unit/storage/test_effects_store.py) and DynamoDB
(tests/functional/storage/test_dynamodb_effects.py). A subclass provides the `store` fixture."""

from __future__ import annotations

from dataclasses import replace

import pytest

from chalicelib.storage.base import SessionStore
from chalicelib.storage.effects import EffectRecord, EffectStatus
from chalicelib.storage.errors import AlreadyAppliedError, VersionConflictError
from tests.unit.storage.test_memory_store import advance, make_head, step


def effect(key: str, session_id: str = "caller") -> EffectRecord:
    return EffectRecord(session_id, key, "set", "target.yml", "target", EffectStatus.PENDING, 1_700_000_000.5,
                        payload=b"sealed values", expires_at=1_800_000_000)


class EffectStoreBehaviour:
    def test_effects_are_recorded_with_the_commit_once_and_listed_in_order(self, store: SessionStore) -> None:
        # Given: a session that commits two effects
        head = make_head("caller")
        store.create(head, step(1))
        after = advance(head)
        store.commit(head, after, step(1), effects=[effect("v1-0"), effect("v1-1")])

        # Then: both are listed, pending, with their payload
        listed = store.list_effects("caller")
        assert [(e.key, e.status, e.payload) for e in listed] == [
            ("v1-0", "pending", b"sealed values"), ("v1-1", "pending", b"sealed values")]

        # When: a commit with an effect whose key is taken (its turn committed already)
        with pytest.raises(VersionConflictError):
            store.commit(after, advance(after), step(1), effects=[effect("v1-1")])
        assert store.load("docassemble.demo:data/questions/questions.yml", "caller")[0].version == after.version

    def test_an_effect_is_recorded_once_and_its_payload_dropped(self, store: SessionStore) -> None:
        head = make_head("caller")
        store.create(head, step(1))
        store.commit(head, advance(head), step(1), effects=[effect("v1-0")])
        done = replace(effect("v1-0"), status=EffectStatus.APPLIED, payload=b"", finished=1_700_000_001.0)

        assert store.update_effect(done) is True
        assert store.update_effect(replace(done, status=EffectStatus.FAILED)) is False  # no longer pending
        (listed,) = store.list_effects("caller")
        assert (listed.status, listed.payload, listed.finished) == ("applied", b"", 1_700_000_001.0)

    def test_a_mark_commits_once_and_a_second_commit_with_it_writes_nothing(self, store: SessionStore) -> None:
        # Given: a target session that applied an effect (its commit carried the mark)
        head = make_head("target")
        store.create(head, step(1))
        after = advance(head, step=2)
        store.commit(head, after, step(2), marks=["caller:v1-0"])

        # When: a commit carries the same mark again
        with pytest.raises(AlreadyAppliedError):
            store.commit(after, advance(after, step=3), step(3), marks=["caller:v1-0"])

        # Then: nothing of it was written; another mark still commits
        loaded, current = store.load(head.interview, "target")
        assert (loaded.version, loaded.step, current.step) == (after.version, 2, 2)
        store.commit(after, advance(after, step=3), step(3), marks=["caller:v1-1"])

    def test_deleting_a_session_removes_its_effects_and_marks(self, store: SessionStore) -> None:
        head = make_head("caller")
        store.create(head, step(1))
        store.commit(head, advance(head), step(1), effects=[effect("v1-0")], marks=["other:v9-0"])
        store.delete(head.interview, "caller")
        assert store.list_effects("caller") == []
        again = make_head("caller")
        store.create(again, step(1))
        store.commit(again, advance(again), step(1), marks=["other:v9-0"])  # the old mark went with it

    def test_only_pending_effects_past_their_due_time_are_listed_and_one_taker_wins(
            self, store: SessionStore) -> None:
        # Given: two committed effects, held by their process until 100 and 300, and one applied
        head = make_head("caller")
        store.create(head, step(1))
        store.commit(head, advance(head), step(1), effects=[replace(effect("v1-0"), due=100.0),
                                                            replace(effect("v1-1"), due=300.0),
                                                            replace(effect("v1-2"), due=100.0)])
        assert store.update_effect(replace(effect("v1-2"), status=EffectStatus.APPLIED, payload=b""))

        # Then: at 200 only the pending one whose hold ran out is due
        assert [ref.key for ref in store.due_effects(200.0)] == ["v1-0"]

        # When: two sweepers take it
        (ref,) = store.due_effects(200.0)
        first = store.claim_effect(ref, 200.0, 1100.0)
        second = store.claim_effect(ref, 200.0, 1100.0)

        # Then: the first holds it (payload and all) until 1100; the second gets nothing
        assert first is not None and (first.attempts, first.due, first.payload) == (1, 1100.0, b"sealed values")
        assert second is None
        assert [r.key for r in store.due_effects(1000.0)] == ["v1-1"]
        # and the process that committed it (attempt 0) can no longer record it; the taker can
        assert store.update_effect(replace(effect("v1-0"), status=EffectStatus.FAILED, payload=b"")) is False
        assert store.update_effect(replace(first, status=EffectStatus.APPLIED, payload=b"")) is True
        assert [r.key for r in store.due_effects(5000.0)] == ["v1-1"]  # a finished effect leaves the index
