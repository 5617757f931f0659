"""interview_email() and get_emails() on the in-memory stores: addresses per session, key and index.

An address is stored with the turn that made it (the first screen's turn included), is the
same on every later turn, and goes with the session when it is deleted.
"""

from __future__ import annotations

import re

import pytest

from chalicelib.engine.errors import InterviewCodeError
from chalicelib.runtime.sessions import SessionRef
from tests.unit.runtime.conftest import Runtime

ADDRESSES = """
mandatory: True
question: Addresses
subquestion: |
  plain=${ interview_email() }
  case=${ interview_email('case') }
  case1=${ interview_email('case', 1) }
  case2=${ interview_email(key='case', index=2) }
  again=${ interview_email('case', 1) }
  listed=${ ",".join(f"{e.address}:{e.key}:{e.index}" for e in get_emails()) }
  cases=${ ",".join(e.address for e in get_emails(key='case')) }
"""

INDEX_WITHOUT_KEY = """
mandatory: True
question: ${ interview_email(index=3) }
"""


def _shown(runtime: Runtime, ref: SessionRef) -> dict[str, str]:
    outcome = runtime.view(ref)
    assert outcome is not None and outcome.screen is not None
    return dict(re.findall(r"(\w+)=(\S*)", re.sub(r"<[^>]+>", " ", outcome.screen.subquestion)))


def test_each_key_and_index_gets_its_own_stable_address_listed_oldest_first(runtime: Runtime) -> None:
    # Given: a session whose first screen asks for four addresses
    ref, _ = runtime.sessions.start(runtime.interview("addresses.yml", ADDRESSES))

    # When: it is shown, then shown again
    first = _shown(runtime, ref)
    second = _shown(runtime, ref)

    # Then: four different addresses on the mail domain, the same ones each time
    made = [first[name] for name in ("plain", "case", "case1", "case2")]
    assert all(re.fullmatch(r"[a-z]{10}@mail\.localhost", address) for address in made), first
    assert len(set(made)) == 4 and first["again"] == first["case1"]
    assert second == first
    # And: get_emails lists them oldest first with key and index; a key picks its own
    codes = [address.split("@")[0] for address in made]
    assert first["listed"] == f"{codes[0]}:None:None,{codes[1]}:case:None,{codes[2]}:case:1,{codes[3]}:case:2"
    assert first["cases"] == ",".join(codes[1:])


def test_another_session_gets_other_addresses_and_deleting_a_session_frees_them(runtime: Runtime) -> None:
    # Given: two sessions of the same interview, shown once each
    name = runtime.interview("addresses.yml", ADDRESSES)
    one, _ = runtime.sessions.start(name)
    two, _ = runtime.sessions.start(name)
    first, second = _shown(runtime, one), _shown(runtime, two)

    # Then: no address is shared
    assert not {v for k, v in first.items() if "@" in v} & {v for k, v in second.items() if "@" in v}

    # When: the first session is deleted
    runtime.sessions.delete(one)

    # Then: its addresses lead nowhere any more; the other's still do
    store = runtime.services.store
    assert store.find_address(first["plain"].split("@")[0]) is None
    assert store.find_address(second["plain"].split("@")[0]) is not None


def test_an_index_without_a_key_is_an_error_that_says_so(runtime: Runtime) -> None:
    # Given: an interview whose first screen asks for an address with an index and no key
    name = runtime.interview("index.yml", INDEX_WITHOUT_KEY)

    # When: a session starts
    # Then: the interview's error says to give a key too
    with pytest.raises(InterviewCodeError, match="index without a key; give a key too"):
        runtime.sessions.start(name)
