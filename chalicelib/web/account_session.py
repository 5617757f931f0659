"""Who a browser is signed in as (the sign-in cookie), and the CSRF token of the account forms.

- The sign-in cookie holds `Accounts.seal(SignedIn)`: AES-GCM under the server's `account`
  sub-key, so it is verified on every request and carries the user's key without showing it.
  HttpOnly, SameSite=Lax, Secure with COOKIE_SECURE (then named with the `__Host-` prefix),
  and it expires after SIGN_IN_HOURS (the token inside expires too).
- The account forms are posted before anyone is signed in (sign in, register), so their
  CSRF token is bound to a random nonce in its own cookie (double submit, HMAC under the
  `csrf` sub-key): a page of another site can neither read the cookie nor make the token.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from http.cookies import SimpleCookie

from chalicelib.runtime.accounts import Accounts, SignedIn
from chalicelib.web import cookies

_USER = "da_user"
_NONCE = "da_form"
_HOST = "__Host-"
_NONCE_VALUE = re.compile(r"^[A-Za-z0-9]{32}$")
_INTERVIEW_COOKIE = re.compile(r"^(__Host-)?da_[0-9a-f]{12}$")


def _jar(header: str | None) -> SimpleCookie:
    jar: SimpleCookie = SimpleCookie()
    if header:
        try:
            jar.load(header)
        except Exception:  # a malformed Cookie header is treated as no cookie
            return SimpleCookie()
    return jar


def _name(base: str, secure: bool) -> str:
    return _HOST + base if secure else base


def _cookie(name: str, value: str, secure: bool, max_age: int | None) -> str:
    age = f"; Max-Age={max_age}" if max_age is not None else ""
    return f"{name}={value}; Path=/; HttpOnly; SameSite=Lax{age}{'; Secure' if secure else ''}"


def signed_in(accounts: Accounts, cookie_header: str | None, secure: bool) -> SignedIn | None:
    morsel = _jar(cookie_header).get(_name(_USER, secure))
    return accounts.open(morsel.value) if morsel is not None else None


def sign_in_cookie(accounts: Accounts, signed: SignedIn, secure: bool) -> str:
    hours = accounts.services.settings.sign_in_hours
    return _cookie(_name(_USER, secure), accounts.seal(signed), secure, hours * 3600)


def sign_out_cookies(cookie_header: str | None, secure: bool) -> list[str]:
    """Cookies that forget the sign-in and every interview session the browser holds."""
    names = [name for name in _jar(cookie_header) if _INTERVIEW_COOKIE.match(name)]
    return [_cookie(name, "", secure, 0) for name in [_name(_USER, secure), *names]]


def form_nonce(cookie_header: str | None, secure: bool) -> tuple[str, str | None]:
    """The browser's form nonce, and the Set-Cookie that hands out a new one (None: it has one)."""
    morsel = _jar(cookie_header).get(_name(_NONCE, secure))
    if morsel is not None and _NONCE_VALUE.match(morsel.value):
        return morsel.value, None
    nonce = secrets.token_hex(16)
    return nonce, _cookie(_name(_NONCE, secure), nonce, secure, None)


def form_token(csrf_key: bytes, nonce: str) -> str:
    return cookies.csrf_token(csrf_key, f"account-form:{nonce}")


def form_ok(csrf_key: bytes, cookie_header: str | None, secure: bool, form: Mapping[str, list[str]]) -> bool:
    morsel = _jar(cookie_header).get(_name(_NONCE, secure))
    if morsel is None or not _NONCE_VALUE.match(morsel.value):
        return False
    return cookies.csrf_ok(csrf_key, f"account-form:{morsel.value}", (form.get("_csrf") or [""])[0])


def safe_next(value: str | None, base: str) -> str:
    """Where to go after signing in: a path on this site only (never another site)."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value and \
            not any(ord(c) < 32 for c in value):
        return value
    return f"{base}/interviews"
