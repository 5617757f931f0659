"""DAStore through the API, with docassemble's examples dastore.yml and dastore2.yml (from
../shared/examples, unmodified): an API call whose `secret` is the API key owner's own secret
(GET /api/secret) reads and seals the owner's DAStore values, as their signed-in browser does;
any other secret seals nothing and gets a 4xx that says what to send."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from tests.conftest import Api
from tests.functional.accounts.test_accounts_web import PASSWORD, Browser, _register, _sign_in

ADA_KEY = "ada-api-key-" + "a" * 12
BOB_KEY = "bob-api-key-" + "b" * 12


def _user_with_key(client: Any, services: Any, api: Api, email: str, api_key: str) -> str:
    """Register `email` (in a browser), give them `api_key`; their secret."""
    _register(client, email)
    services.accounts.add_api_key(email, api_key)
    answer = api.get(f"/api/secret?username={quote(email)}&password={quote(PASSWORD)}")
    assert answer.status == 200, answer.body
    secret: str = answer.json
    return secret


def _start(api: Api, interview: str, secret: str, key: str) -> Any:
    return api.get(f"/api/session/new?i={interview}&secret={secret}", key=key)


def _question(api: Api, interview: str, session: str, secret: str, key: str) -> Any:
    return api.get(f"/api/session/question?i={interview}&session={session}&secret={secret}", key=key)


def _answer(api: Api, interview: str, session: str, secret: str, key: str, variables: dict[str, Any]) -> Any:
    return api.post("/api/session", {"i": interview, "session": session, "secret": secret,
                                     "variables": variables}, key=key)


def _values(fresh_aws: dict[str, Any], services: Any) -> list[dict[str, Any]]:
    items = fresh_aws["dynamodb"].scan(TableName=services.settings.table_name)["Items"]
    return [item for item in items if item["pk"]["S"] == "values"]


def test_dastore_over_the_api_with_the_users_secret_is_read_by_their_next_session_and_browser(
        client: Any, services: Any, fresh_aws: dict[str, Any], api: Api, examples: Path) -> None:
    # Given: a user with an API key and their secret
    secret = _user_with_key(client, services, api, "ada@example.com", ADA_KEY)

    # When: their API client starts dastore.yml with that secret and answers the question
    started = _start(api, "dastore.yml", secret, ADA_KEY)
    assert started.status == 200, started.body
    session = started.json["session"]
    assert "secret" not in started.json  # the client's own secret opens it
    asked = _question(api, "dastore.yml", session, secret, ADA_KEY)
    assert asked.status == 200 and asked.json["questionText"] == "What is your favorite fruit?"
    done = _answer(api, "dastore.yml", session, secret, ADA_KEY, {"preferences.favorite_fruit": "Quince"})
    assert done.status == 200, done.body
    assert done.json["questionText"] == "All done" and "Quince." in done.json["subquestionText"]

    # Then: a second session of the same user reads the stored preference and does not ask
    second = _start(api, "dastore.yml", secret, ADA_KEY)
    assert second.status == 200, second.body
    shown = _question(api, "dastore.yml", second.json["session"], secret, ADA_KEY).json
    assert shown["questionText"] == "All done" and "Quince." in shown["subquestionText"]
    # And: the value is sealed, not in clear
    assert _values(fresh_aws, services) and "Quince" not in repr(_values(fresh_aws, services))
    # And: the user's signed-in browser reads the same value (one key for both)
    browser = Browser(client)
    _sign_in(browser, "ada@example.com", PASSWORD)
    page = browser.page("/interview?i=dastore.yml")
    assert "All done" in page and "Quince." in page


def test_dastore2_over_the_api_updates_the_users_stored_dictionary_across_sessions(
        client: Any, services: Any, api: Api, examples: Path) -> None:
    # Given: a user's API client that answers dastore2.yml in a first session
    secret = _user_with_key(client, services, api, "ada@example.com", ADA_KEY)
    first = _start(api, "dastore2.yml", secret, ADA_KEY).json["session"]
    answered = _answer(api, "dastore2.yml", first, secret, ADA_KEY, {"preferences['favorite_fruit']": "Fig"})
    assert answered.status == 200, answered.body
    assert "Fig." in answered.json["subquestionText"]

    # When: a second session asks again (dastore2 always asks) and gets another answer
    second = _start(api, "dastore2.yml", secret, ADA_KEY).json["session"]
    asked = _question(api, "dastore2.yml", second, secret, ADA_KEY).json
    assert asked["questionText"] == "What is your favorite fruit?"
    updated = _answer(api, "dastore2.yml", second, secret, ADA_KEY, {"preferences['favorite_fruit']": "Plum"})

    # Then: the stored dictionary was read from the first session's value and updated
    assert updated.status == 200 and "Plum." in updated.json["subquestionText"]
    third = _start(api, "dastore2.yml", secret, ADA_KEY).json["session"]
    again = _answer(api, "dastore2.yml", third, secret, ADA_KEY, {"preferences['favorite_fruit']": "Pear"})
    assert "Pear." in again.json["subquestionText"]


def test_a_foreign_or_made_up_secret_seals_nothing_and_gets_a_clear_4xx(
        client: Any, services: Any, fresh_aws: dict[str, Any], api: Api, examples: Path) -> None:
    # Given: Ada, who stored a preference through the API, and Bob, with his own API key
    ada_secret = _user_with_key(client, services, api, "ada@example.com", ADA_KEY)
    session = _start(api, "dastore.yml", ada_secret, ADA_KEY).json["session"]
    assert _answer(api, "dastore.yml", session, ada_secret, ADA_KEY,
                   {"preferences.favorite_fruit": "Quince"}).status == 200
    _user_with_key(client, services, api, "bob@example.com", BOB_KEY)
    stored_before = _values(fresh_aws, services)

    # When: Bob's client sends Ada's secret with Bob's API key, and answers
    bobs = _start(api, "dastore.yml", ada_secret, BOB_KEY)
    assert bobs.status == 200, bobs.body  # nothing of Bob's is stored yet: the question is asked
    refused = _answer(api, "dastore.yml", bobs.json["session"], ada_secret, BOB_KEY,
                      {"preferences.favorite_fruit": "Planted"})

    # Then: the answer is refused, saying which secret to send, and nothing was sealed
    assert refused.status == 400, refused.body
    assert "GET /api/secret" in refused.json["error"]
    assert _values(fresh_aws, services) == stored_before

    # When / Then: a made-up secret of the same form with Ada's own key cannot read her value
    made_up = "A" * 43
    assert _start(api, "dastore.yml", made_up, ADA_KEY).status == 400
    # And: the admin's key with Ada's secret does not read it (the admin is asked), nor seal an answer
    admins = _start(api, "dastore.yml", ada_secret, api.key).json["session"]
    assert _question(api, "dastore.yml", admins, ada_secret, api.key).json["questionText"] \
        == "What is your favorite fruit?"
    assert _answer(api, "dastore.yml", admins, ada_secret, api.key,
                   {"preferences.favorite_fruit": "Planted"}).status == 400
    assert _values(fresh_aws, services) == stored_before


def test_a_user_stored_before_key_checks_gets_one_at_sign_in_and_then_uses_dastore_over_the_api(
        services: Any, api: Api, examples: Path) -> None:
    # Given: a user whose stored item has a wrapped key but no key check (as before checks were kept)
    import dataclasses

    made = services.accounts.create_user("ada@example.com", PASSWORD)
    services.accounts._replace_user(dataclasses.replace(made, key_check=""), made.password_hash)
    services.accounts.add_api_key("ada@example.com", ADA_KEY)
    assert services.accounts.get_user("ada@example.com").key_check == ""

    # When: the user asks for their secret (which signs them in once)
    secret = api.get(f"/api/secret?username=ada%40example.com&password={quote(PASSWORD)}").json

    # Then: the check is recorded, and the secret serves as the user key of their API calls
    assert services.accounts.get_user("ada@example.com").key_check
    session = _start(api, "dastore.yml", secret, ADA_KEY).json["session"]
    done = _answer(api, "dastore.yml", session, secret, ADA_KEY, {"preferences.favorite_fruit": "Medlar"})
    assert done.status == 200 and "Medlar." in done.json["subquestionText"], done.body
