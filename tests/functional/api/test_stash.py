"""Stashed data (issue 13 §1): kept outside any session under a key and a secret, in an interview
and over `POST /api/stash_data` / `GET /api/retrieve_stashed_data`; expiry, delete, refresh; a wrong
secret gets nothing, and nothing is stored in clear.

Interview: tests/fixtures/interviews/stash_round_trip.yml.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

from chalicelib.runtime.stash import Stash
from tests.conftest import Api
from tests.functional.api.helpers import ApiSession, ok_json

SECRET_WORDS = "marmalade-zeppelin-4471"


def retrieve(api: Api, key: str, secret: str, **extra: str) -> Any:
    return api.get(f"/api/retrieve_stashed_data?{urlencode({'stash_key': key, 'secret': secret, **extra})}")


def test_the_api_stashes_and_retrieves_and_delete_forgets(api: Api) -> None:
    made = ok_json(api.post("/api/stash_data", {"data": {"note": SECRET_WORDS, "on": "2026-01-02"}}))
    assert set(made) == {"stash_key", "secret"} and len(made["secret"]) == 16

    back = retrieve(api, made["stash_key"], made["secret"])
    assert back.status == 200 and back.json["note"] == SECRET_WORDS
    assert back.json["on"].startswith("2026-01-02")  # read as a date, as variables are (raw keeps text)

    assert retrieve(api, made["stash_key"], made["secret"], delete="1").status == 200
    gone = retrieve(api, made["stash_key"], made["secret"])
    assert gone.status == 400 and gone.json["error"].startswith("The stashed data could not be retrieved")


def test_a_wrong_secret_or_key_gets_the_same_400_and_no_data(api: Api) -> None:
    made = ok_json(api.post("/api/stash_data", {"data": SECRET_WORDS, "raw": True}))
    answers = [retrieve(api, made["stash_key"], "x" * 16), retrieve(api, "y" * 16, made["secret"])]
    assert [a.status for a in answers] == [400, 400]
    assert answers[0].json == answers[1].json and SECRET_WORDS not in answers[0].body.decode()
    assert retrieve(api, made["stash_key"], made["secret"]).json == SECRET_WORDS  # still there
    for bad in ({}, {"data": None, "expire": "soon"}):
        result = api.post("/api/stash_data", bad)
        assert result.status == (400 if not bad else 200), result.body
    assert api.get("/api/retrieve_stashed_data?stash_key=abc").json == {
        "error": "The stash key and secret parameters are required."}


def test_expiry_is_enforced_on_read_and_refresh_extends_it(api: Api, services: Any) -> None:
    stash = Stash(services)
    key, secret = stash.put({"n": 1}, expire=2)
    refreshed_key, refreshed_secret = stash.put({"n": 2}, expire=2)
    assert retrieve(api, refreshed_key, refreshed_secret, refresh="3600").json == {"n": 2}
    sealed, until = services.store.get_stash(key)
    services.store.put_stash(key, sealed, time.time() - 1)  # as if its two seconds had passed
    assert retrieve(api, key, secret).status == 400
    assert services.store.get_stash(refreshed_key)[1] > time.time() + 3000


def test_nothing_stashed_is_stored_in_clear(api: Api, fresh_aws: dict[str, Any], services: Any) -> None:
    ok_json(api.post("/api/stash_data", {"data": {"note": SECRET_WORDS}}))
    items = fresh_aws["dynamodb"].scan(TableName=services.settings.table_name)["Items"]
    stashed = [i for i in items if i["pk"]["S"].startswith("stash#")]
    assert len(stashed) == 1 and "expires_at" in stashed[0]
    assert SECRET_WORDS.encode() not in stashed[0]["blob"]["B"] and SECRET_WORDS not in str(items)


def test_an_interview_stashes_and_retrieves_with_its_key_and_secret(api: Api) -> None:
    data = api.new_session("stash_round_trip.yml")
    session = ApiSession(api, "stash_round_trip.yml", data["session"], data["secret"])
    ok_json(session.set({"kept": SECRET_WORDS}))
    assert ok_json(session.question())["questionText"].strip() == f"Kept: {SECRET_WORDS}"
    answers = ok_json(session.variables())
    assert (answers["with_wrong_secret"], answers["after_delete"]["kept"], answers["gone"]) == (
        None, SECRET_WORDS, None)
    # The key and secret an interview got open the stash over the API too (until it was deleted)
    assert retrieve(api, answers["stash_key"], answers["stash_secret"]).status == 400
