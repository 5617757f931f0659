"""The account use cases on the in-memory services: the sign-in token, the user's key through
password changes and resets, link tokens and their expiry, and the attempt limits."""

from __future__ import annotations

import pytest

from chalicelib.engine.request import Request
from chalicelib.runtime.accounts import SIGN_IN_LIMIT, Accounts, TooManyAttemptsError, WeakPasswordError
from chalicelib.runtime.owned_sessions import NotYoursError, OwnedSessions, session_secret
from chalicelib.runtime.services import Services
from chalicelib.runtime.sessions import SessionRef, Sessions
from chalicelib.settings import Settings
from tests.conftest import FIXTURE_INTERVIEWS, SERVER_KEY

PASSWORD = "Correct-Horse-42"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def services() -> Services:
    return Services.in_memory(Settings.from_env({"INTERVIEW_PATH": str(FIXTURE_INTERVIEWS),
                                                 "SERVER_KEY": SERVER_KEY}))


@pytest.fixture
def accounts(services: Services, clock: Clock) -> Accounts:
    return Accounts(services, clock)


def test_the_sign_in_token_opens_only_unaltered_and_unexpired(accounts: Accounts, clock: Clock) -> None:
    signed = accounts.register("ada@example.com", PASSWORD, "Ada")
    assert signed is not None
    token = accounts.seal(signed)
    assert accounts.open(token) == signed
    assert signed.key.hex() not in token and "ada@example.com" not in token  # sealed, not just encoded
    flipped = token[:10] + ("A" if token[10] != "A" else "B") + token[11:]
    assert accounts.open(flipped) is None
    assert accounts.open("x" * 5000) is None and accounts.open("") is None
    clock.now += accounts.services.settings.sign_in_hours * 3600 + 1
    assert accounts.open(token) is None


def test_a_password_change_keeps_the_key_and_a_reset_gives_a_fresh_one(accounts: Accounts,
                                                                        services: Services) -> None:
    signed = accounts.register("ada@example.com", PASSWORD)
    assert signed is not None
    assert accounts.change_password(signed, "wrong-password", "Another-Pass-1", "c") is None
    with pytest.raises(WeakPasswordError, match="different characters"):
        accounts.change_password(signed, PASSWORD, "ababababab", "c")
    changed = accounts.change_password(signed, PASSWORD, "Another-Pass-1", "c")
    assert changed is not None and changed.key == signed.key
    assert accounts.sign_in("ada@example.com", PASSWORD, "c") is None
    again = accounts.sign_in("ada@example.com", "Another-Pass-1", "c")
    assert again is not None and again.key == signed.key

    user = services.accounts.get_user("ada@example.com")
    assert user is not None
    token = accounts._token("reset", user)
    reset = accounts.reset_password(token, "Reset-Pass-22")
    assert reset is not None and reset.key != signed.key
    assert accounts.reset_password(token, "Second-Reset-33") is None  # a link works once


def test_link_tokens_expire_and_serve_one_purpose(accounts: Accounts, services: Services, clock: Clock) -> None:
    accounts.register("ada@example.com", PASSWORD)
    user = services.accounts.get_user("ada@example.com")
    assert user is not None
    token = accounts._token("reset", user)
    assert accounts.confirm(token) is None  # a reset link is no confirmation link
    assert accounts.reset_target(token) == user
    clock.now += 61 * 60
    assert accounts.reset_target(token) is None


def test_attempts_over_the_limit_are_refused_until_the_window_passes(accounts: Accounts, clock: Clock) -> None:
    accounts.register("ada@example.com", PASSWORD)
    for n in range(SIGN_IN_LIMIT.per_account):
        assert accounts.sign_in("ada@example.com", f"wrong-{n}", f"client-{n}") is None
    with pytest.raises(TooManyAttemptsError, match="Too many attempts"):
        accounts.sign_in("ada@example.com", PASSWORD, "client-new")
    clock.now += SIGN_IN_LIMIT.window
    assert accounts.sign_in("ada@example.com", PASSWORD, "client-new") is not None


def test_a_signed_in_users_session_opens_with_the_key_and_is_adopted_once(accounts: Accounts,
                                                                          services: Services) -> None:
    signed = accounts.register("ada@example.com", PASSWORD)
    assert signed is not None
    sessions = Sessions(services)
    owned = OwnedSessions(sessions)
    # a session started signed in: its secret comes from the key
    mine, _ = sessions.start("two_questions.yml", user=signed.info(),
                             secret_for=lambda sid: session_secret(signed.key, sid))
    assert owned.resume(signed.user_id, signed.key, mine.interview, mine.session_id) == mine
    # an anonymous one: adopted with its own secret, which the key then unwraps
    anon, result = sessions.start("two_questions.yml")
    head = owned.adopt(anon, result.head, signed.user_id, signed.key)
    assert head.owner == signed.user_id
    assert owned.adopt(anon, head, "someone-else", signed.key).owner == signed.user_id
    assert owned.resume(signed.user_id, signed.key, anon.interview, anon.session_id) == anon
    assert {h.session_id for h in owned.listed(signed.user_id)} == {mine.session_id, anon.session_id}
    with pytest.raises(NotYoursError):
        owned.resume("someone-else", signed.key, anon.interview, anon.session_id)
    # a wrong secret adopts nothing
    stranger, stranger_result = sessions.start("two_questions.yml")
    wrong = SessionRef(stranger.interview, stranger.session_id, "x" * 16)
    assert owned.adopt(wrong, stranger_result.head, signed.user_id, signed.key).owner == ""
    # the adopted session still opens with the secret the browser holds
    shown = sessions.view(anon, Request(anon.interview, anon.session_id))
    assert shown.outcome is not None and shown.outcome.screen is not None
