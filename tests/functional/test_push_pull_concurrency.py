"""Changes to another session under real concurrency: thirty turns of one session A, each asking
for a change in session B, race each other (A's turns are retried on conflict) and then race each
other again as turns on B. Every change lands in B exactly once: none is lost, none applied twice.

Runs against moto's server that serializes requests (as test_concurrency.py does): each request
is atomic, as in DynamoDB, while the turns interleave freely between requests.
Interviews: tests/fixtures/interviews/pp_parent.yml and pp_child.yml.
"""

from __future__ import annotations

import pytest

from chalicelib.engine.request import Request
from chalicelib.runtime.sessions import SessionRef, Sessions
from chalicelib.storage.effects import EffectStatus
from tests.functional.test_concurrency import WRITERS, _at_once, _services, endpoint  # noqa: F401 (fixture)

PARENT, CHILD = "pp_parent.yml", "pp_child.yml"


def _act(sessions: Sessions, ref: SessionRef, event: str, **arguments: object) -> None:
    sessions.run_action(ref, Request(ref.interview, ref.session_id, action=event, arguments=arguments,
                                     persistent_action=False, interface="api"))


@pytest.mark.slow  # some thousands of requests, one at a time
def test_thirty_racing_turns_of_a_each_change_b_exactly_once(endpoint: str) -> None:  # noqa: F811
    # Given: session A, which created session B
    sessions = Sessions(_services(endpoint))
    parent, _ = sessions.start(PARENT, interface="api")
    _act(sessions, parent, "make_child", i=CHILD, values={"name": "Race"})
    child = SessionRef(CHILD, sessions.read(parent).answers["child_id"], parent.secret)

    # When: thirty threads each run A's `poke`, which bumps B by the thread's number + 1
    errors = _at_once(lambda n: _act(sessions, parent, "poke", i=CHILD, action="bump",
                                     arguments={"by": n + 1, "tag": f"w{n}"}))

    # Then: nothing failed, and B holds every bump once
    assert errors == []
    answers = sessions.read(child).answers
    assert answers["counter"] == sum(range(1, WRITERS + 1))
    assert sorted(answers["tags"]) == sorted(f"w{n}" for n in range(WRITERS))
    # and A recorded each change once, all applied
    recorded = sessions.services.store.list_effects(parent.session_id)
    assert len(recorded) == 2 + WRITERS
    assert {e.status for e in recorded} == {EffectStatus.APPLIED}
