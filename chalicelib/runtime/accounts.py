"""Accounts in the browser: register, sign in, change and reset a password, and the user's secret.

A signed-in browser holds a sign-in token (`SignedIn`, sealed with AES-GCM under the
server's `account` sub-key, so it cannot be read or forged without it). The token
carries the user's own key, unwrapped at sign-in with the password, for as long as
the browser stays signed in (SIGN_IN_HOURS); the key is never stored or logged in
clear. Sign-in, the user's secret and password resets count attempts per account
and per client (`AccountStore.count_attempt`, items with a TTL) and refuse more
than their limit within a window, with the same message whatever the reason.

A reset link is signed (HMAC under the `account` sub-key), expires after
RESET_LINK_MINUTES and works once: it names the password hash it was made for, and
the reset writes only over that hash.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from chalicelib.engine.request import UserInfo
from chalicelib.runtime.errors import RuntimeLayerError
from chalicelib.runtime.services import Services
from chalicelib.storage.accounts import MAX_PASSWORD
from chalicelib.storage.errors import AccountError
from chalicelib.storage.records import User

log = logging.getLogger(__name__)

_TOKEN_VERSION = b"A1"
_NONCE_BYTES = 12
_MAX_TOKEN_CHARS = 2048  # a sign-in token is a few hundred characters; anything longer is not ours
RESET_LINK_MINUTES = 60
USER_SECRET_CHARS = 43  # the user's key as URL-safe base64, no padding
_MAX_EMAIL = 254


@dataclass(frozen=True)
class Limit:
    """At most `attempts` per `window` seconds, per account and per client."""

    name: str
    per_account: int
    per_client: int
    window: int


SIGN_IN_LIMIT = Limit("sign-in", per_account=10, per_client=50, window=15 * 60)
RESET_LIMIT = Limit("reset", per_account=3, per_client=20, window=60 * 60)


class TooManyAttemptsError(RuntimeLayerError):
    """Too many attempts of one kind for an account or from a client: wait and try again (HTTP 429)."""

    def __init__(self, limit: Limit) -> None:
        minutes = limit.window // 60
        super().__init__(f"Too many attempts. Wait {minutes} minutes and try again.")


class WeakPasswordError(RuntimeLayerError):
    """A new password that breaks the rule (storage.accounts.check_password_strength)."""


@dataclass(frozen=True)
class SignedIn:
    """Who a browser is signed in as, and the user's own key, until `expires`."""

    user_id: str
    email: str
    first_name: str
    last_name: str
    privileges: tuple[str, ...]
    expires: float
    key: bytes = field(repr=False)

    def info(self) -> UserInfo:
        return UserInfo(id=self.user_id, email=self.email, first_name=self.first_name, last_name=self.last_name,
                        privileges=self.privileges, logged_in=True)


def user_secret(key: bytes) -> str:
    """The user's key as text (GET /api/secret)."""
    return base64.urlsafe_b64encode(key).decode().rstrip("=")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Accounts:
    """The account use cases the browser and the API call."""

    def __init__(self, services: Services, now: Callable[[], float] = time.time) -> None:
        self.services = services
        self.store = services.accounts
        self.now = now
        self._key = services.keys.account

    # ------------------------------------------------------------------ the sign-in token
    def seal(self, signed: SignedIn) -> str:
        data = json.dumps({"u": signed.user_id, "e": signed.email, "f": signed.first_name, "l": signed.last_name,
                           "p": list(signed.privileges), "x": signed.expires, "k": _b64(signed.key)})
        nonce = os.urandom(_NONCE_BYTES)
        return _b64(_TOKEN_VERSION + nonce + AESGCM(self._key).encrypt(nonce, data.encode(), b"sign-in"))

    def open(self, token: str | None) -> SignedIn | None:
        """The sign-in a token holds, or None when it is missing, forged, damaged or expired."""
        if not token or len(token) > _MAX_TOKEN_CHARS:
            return None
        try:
            raw = _unb64(token)
            if raw[:2] != _TOKEN_VERSION:
                return None
            nonce, body = raw[2:2 + _NONCE_BYTES], raw[2 + _NONCE_BYTES:]
            data = json.loads(AESGCM(self._key).decrypt(nonce, body, b"sign-in"))
            signed = SignedIn(str(data["u"]), str(data["e"]), str(data["f"]), str(data["l"]),
                              tuple(str(p) for p in data["p"]), float(data["x"]), _unb64(str(data["k"])))
        except (ValueError, KeyError, TypeError, InvalidTag, binascii.Error):
            return None
        return signed if signed.expires > self.now() else None

    def _signed_in(self, user: User, key: bytes) -> SignedIn:
        hours = self.services.settings.sign_in_hours
        return SignedIn(user.id, user.email, user.first_name, user.last_name, tuple(user.privileges),
                        self.now() + hours * 3600, key)

    # ------------------------------------------------------------------ limits
    def _count(self, limit: Limit, email: str, client: str) -> None:
        """Count this attempt for the account and the client; TooManyAttemptsError over a limit."""
        now = self.now()
        by_account = self.store.count_attempt(f"{limit.name}:user:{email.strip().lower()}", limit.window, now)
        by_client = self.store.count_attempt(f"{limit.name}:client:{client}", limit.window, now)
        if by_account > limit.per_account or by_client > limit.per_client:
            log.warning("%s refused: too many attempts (account %d, client %d)", limit.name, by_account, by_client)
            raise TooManyAttemptsError(limit)

    # ------------------------------------------------------------------ use cases
    def register(self, email: str, password: str, first_name: str = "", last_name: str = "",
                 link_base: str = "") -> SignedIn | None:
        """A new user with the `user` privilege, signed in at once; or, with REGISTER_CONFIRM_EMAIL,
        not active until the link mailed to it (`link_base?confirm=`) is opened (None then).
        AccountError for a bad e-mail, a weak password or a taken e-mail."""
        confirm = self.services.settings.register_confirm_email
        user = self.store.create_user(email, password, ("user",), first_name=first_name, last_name=last_name,
                                      active=not confirm)
        if not confirm:
            return self._signed_in(user, self.store.unlock(user, password))
        self._mail(user.email, "Confirm your e-mail address",
                   "To finish creating your account, open\n\n"
                   f"{link_base}?confirm={self._token('confirm', user)}\n\nwithin {RESET_LINK_MINUTES} minutes.\n"
                   "If you did not create an account, ignore this message.\n")
        return None

    def confirm(self, token: str | None) -> User | None:
        """Activate the account a confirmation link is for; None when the link is not valid."""
        user = self._token_user("confirm", token)
        return self.store.activate(user.email) if user is not None else None

    def sign_in(self, email: str, password: str, client: str) -> SignedIn | None:
        """The sign-in for this e-mail and password, else None (the same for an unknown e-mail)."""
        self._count(SIGN_IN_LIMIT, email, client)
        if len(password) > MAX_PASSWORD or len(email) > _MAX_EMAIL:  # no stored password is longer
            return None
        user = self.store.check_password(email, password)
        if user is None:
            return None
        return self._signed_in(user, self.store.unlock(user, password))

    def secret(self, email: str, password: str, client: str) -> str | None:
        """The user's secret (GET /api/secret), else None; limited like signing in."""
        signed = self.sign_in(email, password, client)
        return user_secret(signed.key) if signed else None

    def change_password(self, signed: SignedIn, old: str, new: str, client: str) -> SignedIn | None:
        """The same key under a new password (None: `old` is wrong); WeakPasswordError for `new`.
        Limited like signing in (the old password is checked)."""
        self._count(SIGN_IN_LIMIT, signed.email, client)
        if len(old) > MAX_PASSWORD:
            return None
        try:
            key = self.store.change_password(signed.email, old, new)
        except AccountError as err:
            raise WeakPasswordError(str(err)) from err
        if key is None:
            return None
        user = self.store.get_user(signed.email)
        return self._signed_in(user, key) if user else None

    def send_reset_link(self, email: str, client: str, link_base: str) -> None:
        """Mail a reset link to the user with this e-mail, if there is one (the caller says the
        same either way). `link_base` is the page's absolute URL, to which `?token=` is added."""
        self._count(RESET_LIMIT, email, client)
        user = self.store.get_user(email)
        if user is None or not user.active:
            return
        self._mail(user.email, "Reset your password",
                   "Someone asked to reset the password of this account. To choose a new password, open\n\n"
                   f"{link_base}?token={self._token('reset', user)}\n\nwithin {RESET_LINK_MINUTES} minutes."
                   " The link works once.\n"
                   "After a reset, interviews you saved while signed in cannot be opened any more: they were\n"
                   "encrypted with a key that only your old password unlocks.\n"
                   "If you did not ask for this, ignore this message.\n")

    def _mail(self, to: str, subject: str, text: str) -> None:
        message = EmailMessage()
        message["From"] = self.services.settings.default_sender
        message["To"] = to
        message["Subject"] = subject
        message.set_content(text)
        try:
            self.services.messenger.send_email(self.services.settings.default_sender, [to], message.as_bytes())
        except Exception:  # the page says the same; the operator sees the failure in the log
            log.exception("the account mail %r could not be sent", subject)

    def _token(self, purpose: str, user: User) -> str:
        """A signed link token for `purpose`, bound to the user's current password hash (so it works
        once: the reset changes the hash) and expiring after RESET_LINK_MINUTES."""
        expires = int(self.now()) + RESET_LINK_MINUTES * 60
        body = _b64(json.dumps({"e": user.email, "x": expires, "h": self._hash_tag(user.password_hash)}).encode())
        return f"{body}.{self._mac(purpose, body)}"

    def _mac(self, purpose: str, body: str) -> str:
        return _b64(hmac.new(self._key, f"{purpose}:{body}".encode(), hashlib.sha256).digest())

    def _hash_tag(self, password_hash: str) -> str:
        return _b64(hmac.new(self._key, f"hash:{password_hash}".encode(), hashlib.sha256).digest()[:16])

    def reset_target(self, token: str | None) -> User | None:
        """The user a reset link is for, while it is valid (signed, not expired, not used)."""
        user = self._token_user("reset", token)
        return user if user is not None and user.active else None

    def _token_user(self, purpose: str, token: str | None) -> User | None:
        if not token or len(token) > _MAX_TOKEN_CHARS or token.count(".") != 1:
            return None
        body, mac = token.split(".")
        if not hmac.compare_digest(mac.encode(), self._mac(purpose, body).encode()):
            return None
        try:
            data = json.loads(_unb64(body))
            email, expires, tag = str(data["e"]), float(data["x"]), str(data["h"])
        except (ValueError, KeyError, TypeError, binascii.Error):
            return None
        user = self.store.get_user(email)
        if expires < self.now() or user is None:
            return None
        return user if hmac.compare_digest(tag.encode(), self._hash_tag(user.password_hash).encode()) else None

    def reset_password(self, token: str | None, new: str) -> SignedIn | None:
        """Set a new password through a reset link, with a fresh key (old encrypted sessions stay
        shut), and sign in. None when the link is no longer valid; WeakPasswordError for `new`."""
        user = self.reset_target(token)
        if user is None:
            return None
        try:
            key = self.store.reset_password(user.email, new, user.password_hash)
        except AccountError as err:
            if self.reset_target(token) is None:
                return None
            raise WeakPasswordError(str(err)) from err
        fresh = self.store.get_user(user.email)
        return self._signed_in(fresh, key) if fresh else None
