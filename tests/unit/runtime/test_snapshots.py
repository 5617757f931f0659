"""store_variables_snapshot on the in-memory stores: stored with the first screen's turn too,
replaced per key, bounded, sealed like the session, deleted with it unless persistent."""

from __future__ import annotations

import pytest

from chalicelib.engine.errors import InterviewCodeError
from chalicelib.runtime import snapshots
from chalicelib.runtime.snapshots import SnapshotQuery
from tests.unit.runtime.conftest import Runtime

EVERY_VIEW = """
mandatory: True
code: |
  store_variables_snapshot(data={'n': len(url_args)}, key='kept', persistent=True)
  store_variables_snapshot(key='mine')
  end
---
event: end
question: Done
"""

TOO_BIG = """
mandatory: True
code: |
  store_variables_snapshot(data='x' * 300000)
---
mandatory: True
question: Never
"""

TOO_MANY = """
mandatory: True
code: |
  for n in range(11):
    store_variables_snapshot(data=n, key=str(n))
---
mandatory: True
question: Never
"""


def test_the_first_turn_stores_them_and_deleting_the_session_keeps_only_the_persistent_one(runtime: Runtime) -> None:
    name = runtime.interview("every_view.yml", EVERY_VIEW)
    ref, _ = runtime.sessions.start(name, url_args={"a": "1"})
    page = runtime.services.store.list_snapshots(name)
    assert {(r.tag, r.persistent, r.encrypted) for r in page.snapshots} == {("kept", True, True), ("mine", False, True)}
    read = snapshots.read(runtime.services, SnapshotQuery(name, ref.session_id, secret=ref.secret))
    assert {item["key"]: item["data"] for item in read["items"]} == {"kept": {"n": 1},
                                                                     "mine": {"url_args": {"a": "1"}}}

    runtime.sessions.delete(ref)
    assert [r.tag for r in runtime.services.store.list_snapshots(name).snapshots] == ["kept"]


@pytest.mark.parametrize(("source", "message"), [(TOO_BIG, "holds at most 262144 bytes of JSON"),
                                                 (TOO_MANY, "one turn stores at most 10 snapshots")])
def test_a_snapshot_too_big_or_too_many_is_an_error_that_says_so(runtime: Runtime, source: str,
                                                                 message: str) -> None:
    name = runtime.interview("bounded.yml", source)
    ref, _ = runtime.sessions.start(name, evaluate=False)
    with pytest.raises(InterviewCodeError, match=message):
        runtime.view(ref)
    assert runtime.services.store.list_snapshots(name).snapshots == []
