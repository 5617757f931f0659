"""store_variables_snapshot (issue 13): snapshots written with the turn, read by admins through
GET /api/snapshots, as protected as their session, and deleted with it unless persistent.

Fixture interview: tests/fixtures/interviews/snapshot_survey.yml (a persistent snapshot of
chosen data under the key 'survey', and one of all the answers with no key).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from tests.conftest import Api
from tests.functional.api.helpers import ApiSession, ok_json
from tests.functional.api.test_api_access import user_key  # noqa: F401 (a fixture)
from tests.functional.api.test_api_errors import USER_KEY

Start = Callable[[str], ApiSession]
SURVEY = "snapshot_survey.yml"


def snapshots(api: Api, **query: str) -> dict[str, Any]:
    return ok_json(api.get(f"/api/snapshots?{urlencode({'i': SURVEY, **query})}"))


def by_key(items: list[dict[str, Any]], session: str) -> dict[str | None, dict[str, Any]]:
    return {item["key"]: item for item in items if item["session"] == session}


def answered(start: Start, fruit: str, **more: Any) -> ApiSession:
    session = start(SURVEY)
    screen = ok_json(session.set({"favorite_fruit": fruit, **more}))
    assert screen["questionText"].strip() == f"Thank you: {fruit}"
    return session


def test_an_encrypted_sessions_snapshots_open_only_with_its_secret(start: Start, api: Api,
                                                                    fresh_aws: dict[str, Any]) -> None:
    session = answered(start, "Durian")

    # Without the secret an admin sees that they exist, not what they hold
    listed = by_key(snapshots(api)["items"], session.session)
    assert set(listed) == {"survey", None}
    assert all(item["encrypted"] and item["data"] is None and "secret" in item["note"] for item in listed.values())
    assert listed["survey"]["persistent"] is True and listed[None]["persistent"] is False

    # With the session's secret, the JSON the interview stored
    opened = by_key(snapshots(api, session=session.session, secret=session.secret)["items"], session.session)
    assert opened["survey"]["data"]["fruit"] == "Durian"
    assert opened[None]["data"]["favorite_fruit"] == "Durian"
    assert not any(name.startswith("_") for name in opened[None]["data"])

    # A wrong secret opens nothing
    wrong = by_key(snapshots(api, session=session.session, secret="WrongSecret0123456")["items"], session.session)
    assert all(item["data"] is None and "does not open" in item["note"] for item in wrong.values())

    # Nothing of the answer is stored in clear
    table = fresh_aws["dynamodb"].scan(TableName=_table(fresh_aws))["Items"]
    assert b"Durian" not in repr(table).encode()


def test_a_multi_user_sessions_snapshots_are_signed_and_readable(start: Start, api: Api) -> None:
    session = answered(start, "Mango", multi_user=True)
    listed = by_key(snapshots(api, session=session.session)["items"], session.session)
    assert listed["survey"]["encrypted"] is False and listed["survey"]["data"]["fruit"] == "Mango"
    assert listed[None]["data"]["multi_user"] is True


def test_deleting_the_session_keeps_only_the_persistent_snapshot(start: Start, api: Api) -> None:
    session, other = answered(start, "Kiwi"), answered(start, "Lime")
    assert api.delete(f"/api/session?{session.query()}").status == 204

    left = by_key(snapshots(api)["items"], session.session)
    assert set(left) == {"survey"}  # the persistent one outlives the session
    assert set(by_key(snapshots(api)["items"], other.session)) == {"survey", None}  # others untouched
    kept = by_key(snapshots(api, session=session.session, secret=session.secret)["items"], session.session)
    assert kept["survey"]["data"]["fruit"] == "Kiwi"  # still opened by the secret of the deleted session


def test_a_snapshot_is_replaced_not_repeated_and_an_unchanged_view_writes_nothing(start: Start, api: Api) -> None:
    session = answered(start, "Fig")
    before = by_key(snapshots(api)["items"], session.session)
    ok_json(session.question())  # the mandatory code stores the same snapshots again: nothing changes
    assert by_key(snapshots(api)["items"], session.session) == before

    ok_json(session.set({"favorite_fruit": "Plum"}))
    after = by_key(snapshots(api, session=session.session, secret=session.secret)["items"], session.session)
    assert set(after) == {"survey", None}  # one per key, replaced
    assert after["survey"]["data"]["fruit"] == "Plum"
    assert after["survey"]["modified"] >= before["survey"]["modified"]


def test_the_list_is_filtered_by_key_and_paged(start: Start, api: Api) -> None:
    sessions = {answered(start, fruit).session for fruit in ("Apple", "Pear", "Cherry")}
    surveys = snapshots(api, tag="survey")["items"]
    assert {item["session"] for item in surveys} == sessions and {item["key"] for item in surveys} == {"survey"}

    seen: list[tuple[str, str | None]] = []
    query: dict[str, str] = {"limit": "4"}
    for _ in range(10):
        page = snapshots(api, **query)
        assert len(page["items"]) <= 4
        seen += [(item["session"], item["key"]) for item in page["items"]]
        if page["next"] is None:
            break
        query = {"limit": "4", "next": page["next"]}
    assert len(seen) == 6 and len(set(seen)) == 6


def test_only_admins_read_snapshots_and_bad_queries_say_why(start: Start, api: Api, user_key: str) -> None:  # noqa: F811
    session = answered(start, "Grape", multi_user=True)
    refused = api.get(f"/api/snapshots?i={SURVEY}", key=USER_KEY)
    assert refused.status == 403 and refused.json == {"error": "Access denied."}
    assert session.session.encode() not in refused.body
    for query, expected in [("", "Parameter i is required"), (f"i={SURVEY}&limit=0", "limit is a whole number"),
                            (f"i={SURVEY}&limit=lots", "limit must be a whole number"),
                            (f"i={SURVEY}&session=nope", "session must be a session id"),
                            (f"i={SURVEY}&next={'x' * 600}", "next is a token from the previous page"),
                            (f"i={SURVEY}&secret=abc", "send session= with it")]:
        result = api.get(f"/api/snapshots?{query}")
        assert result.status == 400 and expected in result.json["error"], (query, result.body)


def _table(aws: dict[str, Any]) -> str:
    (name,) = aws["dynamodb"].list_tables()["TableNames"]
    return str(name)
