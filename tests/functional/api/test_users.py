"""POST /api/user/new (issue 13 §5): the admin creates accounts; duplicates, weak passwords,
unknown and reserved privileges are refused with a clear 400; others may not create users."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api
from tests.functional.api.helpers import ok_json

USER_KEY = "UserKey0123456789abcdefghijklmnop"


def test_the_admin_creates_a_user_who_can_then_use_the_api(api: Api, services: Any) -> None:
    made = ok_json(api.post("/api/user/new", {"username": "Grace@Example.com", "password": "long-enough-1",
                                              "privileges": "advocate", "first_name": "Grace"}))
    assert set(made) == {"user_id", "password"} and made["password"] == "long-enough-1"
    user = services.accounts.check_password("grace@example.com", "long-enough-1")
    assert user is not None and user.id == made["user_id"]
    assert (user.privileges, user.first_name) == (("advocate",), "Grace")

    # A password is made when none is sent, and it works
    made = ok_json(api.post("/api/user/new", {"email": "ada@example.com"}))
    assert len(made["password"]) >= 16
    assert services.accounts.check_password("ada@example.com", made["password"]) is not None


def test_bad_requests_are_refused_with_what_to_send(api: Api, services: Any) -> None:
    ok_json(api.post("/api/user/new", {"username": "taken@example.com", "password": "long-enough-1"}))
    cases = [
        ({"password": "long-enough-1"}, "An e-mail address must be supplied as username."),
        ({"username": "taken@example.com", "password": "long-enough-2"}, "exists"),
        ({"username": "short@example.com", "password": "short"}, "a password must have 10 to 254 characters"),
        ({"username": "x@example.com", "privileges": ["cron"]}, "Invalid privilege name 'cron'"),
        ({"username": "x@example.com", "privileges": {"admin": 1}}, "must be a string or a list"),
        ({"username": "not-an-address", "password": "long-enough-1"}, "expected an e-mail address"),
    ]
    for body, fragment in cases:
        result = api.post("/api/user/new", body)
        assert result.status == 400 and fragment in result.json["error"], (body, result.body)
    assert services.accounts.get_user("short@example.com") is None


def test_only_the_admin_may_create_users(api: Api, services: Any) -> None:
    services.accounts.create_user("someone@example.com", "user-password", privileges=("user",))
    services.accounts.add_api_key("someone@example.com", USER_KEY, "tests")
    refused = api.post("/api/user/new", {"username": "new@example.com", "password": "long-enough-1"}, key=USER_KEY)
    assert refused.status == 403 and services.accounts.get_user("new@example.com") is None
