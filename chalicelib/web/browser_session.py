"""Which session a browser request is for: its own (the cookie) or a shared one (`?session=ID`).

A browser holds its own session of an interview in the cookie (id and secret).
`?session=ID` names another session: a shared (`multi_user`) one, whose steps
are signed rather than encrypted, so it opens without a secret; an encrypted
session named this way is refused when it is read (403). The browser's pages
for a shared session carry `session=ID` in their form, check-in and redirect
URLs, so its answers go to that session and not to the cookie's.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote

from chalicelib.runtime.sessions import SESSION_ID_LENGTH, SessionRef, is_session_id
from chalicelib.web import cookies
from chalicelib.web.errors import RequestError


def own_ref(interview: str, cookie_header: str | None, secure: bool) -> SessionRef | None:
    """The browser's own session of `interview`, from its cookie."""
    held = cookies.read_session_cookie(cookie_header, interview, secure)
    return SessionRef(interview, held[0], held[1]) if held else None


def request_ref(interview: str, query: Mapping[str, str], cookie_header: str | None,
                secure: bool) -> SessionRef | None:
    """The session the request is for: `?session=ID` when given, else the cookie's.

    Raises RequestError (400) for a `session` that is not a session id, before anything is read."""
    own = own_ref(interview, cookie_header, secure)
    wanted = query.get("session")
    if wanted is None:
        return own
    if not is_session_id(wanted):
        raise RequestError(400, f"The session parameter must be a session id ({SESSION_ID_LENGTH} letters and "
                                "digits); check the link.", "This link names no session")
    if own is not None and own.session_id == wanted:
        return own
    return SessionRef(interview, wanted, None)


def is_shared(ref: SessionRef) -> bool:
    """True for a session named by `?session=ID` rather than held in the cookie."""
    return ref.secret is None and ref.key is None


def session_query(ref: SessionRef) -> str:
    """`&session=ID` for a shared session (its URLs must keep naming it), else ''."""
    return f"&session={quote(ref.session_id)}" if is_shared(ref) else ""
