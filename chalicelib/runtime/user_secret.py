"""A user's secret sent with an API call, as the call's user key (DAStore(base='user')).

`GET /api/secret` gives a user their own key as text. An API call whose `secret` is that text
AND whose API key belongs to the same user runs with the key, as a signed-in browser does: the
user's encrypted DAStore values are read and sealed under it. The key is used only once its
check matches the one stored with the user (`User.key_check`, an HMAC of the key), so a key
some client made up, or another user's, never seals anything: the call then has no user key,
and an encrypted `DAStore(base='user')` refuses with a message that says what to send.
"""

from __future__ import annotations

from chalicelib.storage import crypto
from chalicelib.storage.accounts import AccountStore
from chalicelib.storage.records import User


def verified_user_key(user: User, secret: str | None) -> bytes | None:
    """The user's own key when `secret` is the user's secret (GET /api/secret), else None."""
    key = crypto.user_key_of(secret or "")
    if key is None or not AccountStore.owns_key(user, key):
        return None
    return key
