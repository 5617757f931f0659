"""The browser's hold on its sessions: one HttpOnly cookie per interview, plus CSRF tokens.

The cookie value is "<session id>.<secret>"; the secret never appears in a
URL or a page. The CSRF token is an HMAC of the session id under the server's
`csrf` sub-key (storage/keys.py), so it needs no storage and cannot be forged
without the key.

With COOKIE_SECURE (the default; only the local stack's plain http turns it
off) the cookie is `Secure` and its name has the `__Host-` prefix, so a browser
accepts it only from HTTPS, for this host alone, with Path=/.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from http.cookies import SimpleCookie

_VALUE = re.compile(r"^([A-Za-z0-9]{32})\.([A-Za-z0-9]{8,64})$")
_HOST_PREFIX = "__Host-"


def cookie_name(interview: str, secure: bool) -> str:
    name = "da_" + hashlib.sha256(interview.encode("utf-8")).hexdigest()[:12]
    return _HOST_PREFIX + name if secure else name


def read_session_cookie(header: str | None, interview: str, secure: bool) -> tuple[str, str] | None:
    if not header:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except Exception:  # a malformed Cookie header is treated as no cookie
        return None
    morsel = jar.get(cookie_name(interview, secure))
    if morsel is None:
        return None
    match = _VALUE.match(morsel.value)
    return (match.group(1), match.group(2)) if match else None


def session_cookie(interview: str, session_id: str, secret: str, secure: bool) -> str:
    flags = "; Secure" if secure else ""
    return f"{cookie_name(interview, secure)}={session_id}.{secret}; Path=/; HttpOnly; SameSite=Lax{flags}"


def clear_cookie(interview: str, secure: bool) -> str:
    flags = "; Secure" if secure else ""
    return f"{cookie_name(interview, secure)}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{flags}"


def csrf_token(csrf_key: bytes, session_id: str) -> str:
    """The token of a session's forms; `csrf_key` is `services.keys.csrf`."""
    return hmac.new(csrf_key, f"csrf:{session_id}".encode(), hashlib.sha256).hexdigest()[:32]


def csrf_ok(csrf_key: bytes, session_id: str, token: str | None) -> bool:
    return bool(token) and hmac.compare_digest(csrf_token(csrf_key, session_id), str(token))
