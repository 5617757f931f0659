"""The runtime's one retry policy (chalicelib/runtime/retry.py): capped exponential backoff with
full jitter, used by the turn that lost a race and by the worker for infrastructure faults."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import pytest

from chalicelib.engine.request import Request
from chalicelib.runtime.errors import ConflictError
from chalicelib.runtime.retry import TURN_BACKOFF, Backoff, task_backoff
from chalicelib.runtime.sessions import SessionRef, VariableChanges
from chalicelib.storage.errors import VersionConflictError
from chalicelib.storage.records import Sealed, SessionHead, StepRecord
from chalicelib.storage.tasks import Notification, TaskWrite
from tests.doubles import FakeClock, WrappedStore
from tests.unit.runtime.conftest import Runtime

NOTE = """\
    mandatory: True
    question: Note ${ note if defined('note') else 'none' }
"""


def test_each_pause_is_the_jitters_share_of_a_doubling_ceiling_that_stops_at_the_cap() -> None:
    backoff = Backoff(first=2.0, cap=10.0)
    assert [backoff.longest(n) for n in range(5)] == [2.0, 4.0, 8.0, 10.0, 10.0]
    assert [backoff.pause(n, lambda: 0.25) for n in range(5)] == [0.5, 1.0, 2.0, 2.5, 2.5]
    assert [backoff.seconds(n, lambda: 0.3) for n in range(3)] == [1, 2, 3]  # whole seconds, rounded up
    assert backoff.pause(1000, lambda: 0.999) <= 10.0  # a huge retry number stays capped


def test_the_task_backoff_starts_at_task_retry_seconds(runtime: Runtime) -> None:
    settings = dataclasses.replace(runtime.services.settings, task_retry_seconds=3)
    assert [task_backoff(settings).seconds(n, lambda: 1.0) for n in range(3)] == [3, 6, 12]


def test_a_turn_that_loses_races_pauses_by_the_shared_backoff_then_commits(runtime: Runtime) -> None:
    # Given: a session, and a store whose next two commits lose a race
    ref, _ = runtime.sessions.start(runtime.interview("note.yml", NOTE))
    lost = [2]

    class RacedStore(WrappedStore):
        def commit(self, before: SessionHead, after: SessionHead, put: StepRecord | None,
                   delete_steps: Sequence[int] = (), extras: Mapping[str, Sealed] | None = None,
                   tasks: Sequence[TaskWrite] = (), notes: Sequence[Notification] = ()) -> None:
            if lost[0]:
                lost[0] -= 1
                raise VersionConflictError("another writer got there first")
            self.inner.commit(before, after, put, delete_steps, extras, tasks, notes)

    clock = FakeClock()
    runtime.use(store=RacedStore(runtime.services.store), clock=clock, jitter=lambda: 0.5)

    # When: the user sets a note
    outcome = runtime.sessions.set_variables(ref, request(ref), VariableChanges({"note": "hello"})).outcome

    # Then: the turn paused half of 10 ms, then half of 20 ms (no real time), and the third try committed
    assert clock.sleeps == [TURN_BACKOFF.pause(0, lambda: 0.5), TURN_BACKOFF.pause(1, lambda: 0.5)] == [0.005, 0.01]
    assert outcome is not None and outcome.screen is not None and outcome.screen.question.strip() == "Note hello"
    assert runtime.answers(ref)["note"] == "hello"


def test_a_turn_that_keeps_losing_gives_up_after_its_budget_without_real_waiting(runtime: Runtime) -> None:
    # Given: a store whose commits always lose, and a clock whose pauses take no real time
    ref, _ = runtime.sessions.start(runtime.interview("note.yml", NOTE))

    class AlwaysRaced(WrappedStore):
        def commit(self, before: SessionHead, after: SessionHead, put: StepRecord | None,
                   delete_steps: Sequence[int] = (), extras: Mapping[str, Sealed] | None = None,
                   tasks: Sequence[TaskWrite] = (), notes: Sequence[Notification] = ()) -> None:
            raise VersionConflictError("another writer got there first")

    clock = FakeClock()
    runtime.use(store=AlwaysRaced(runtime.services.store), clock=clock, jitter=lambda: 1.0)

    # Then: setting a note fails with a conflict after TURN_RETRY_SECONDS of (fake) pauses, none longer than
    # the cap; nothing was saved
    with pytest.raises(ConflictError):
        runtime.sessions.set_variables(ref, request(ref), VariableChanges({"note": "hello"}))
    assert max(clock.sleeps) == TURN_BACKOFF.cap
    assert sum(clock.sleeps) >= runtime.services.settings.turn_retry_seconds
    assert "note" not in runtime.answers(ref)



def request(ref: SessionRef) -> Request:
    return Request(ref.interview, ref.session_id)
