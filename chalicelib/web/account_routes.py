"""Account routes: the browser's /user/... pages and /interviews, and the API's own-account routes.

Every POST needs the form's CSRF token (web.account_session). Sign-in, the API's secret
and reset links are rate limited (runtime.accounts); their failures say the same
whatever the reason, so they do not tell which e-mails have an account.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

from chalice import Blueprint, Response

from chalicelib.runtime.accounts import Accounts, SignedIn, TooManyAttemptsError, WeakPasswordError
from chalicelib.runtime.owned_sessions import NotYoursError, OwnedSessions
from chalicelib.runtime.sessions import is_session_id
from chalicelib.storage.errors import AccountError
from chalicelib.storage.records import User
from chalicelib.web import account_pages, account_session, context, cookies, limits, page
from chalicelib.web.account_pages import Input
from chalicelib.web.api_auth import ApiError
from chalicelib.web.api_routes import api
from chalicelib.web.errors import reply_for

log = logging.getLogger(__name__)
bp = Blueprint(__name__)

_FORM = ["application/x-www-form-urlencoded", "multipart/form-data"]
_SIGN_IN_FAILED = "The e-mail address or the password is not right. Check both and try again."
_RESET_SENT = ("If an account has this e-mail address, we have sent it a link to choose a new password. "
               "The link works once, within an hour.")
_RESET_WARNING = ("Choosing a new password this way gives your account a new key: interviews you saved while "
                  "signed in were encrypted with the old one and cannot be opened any more.")
_BAD_LINK = "This reset link is not valid any more (it expired or was used). Ask for a new one."


# ---------------------------------------------------------------------------- plumbing
def _base() -> str:
    from chalicelib.web.interview_routes import base_path

    return base_path()


def _secure() -> bool:
    return context.services().settings.cookie_secure


def _cookie_header() -> str | None:
    header: str | None = bp.current_request.headers.get("cookie")
    return header


def _accounts() -> Accounts:
    return Accounts(context.services())


def _current() -> SignedIn | None:
    return account_session.signed_in(_accounts(), _cookie_header(), _secure())


def _client() -> str:
    ctx = bp.current_request.context or {}
    identity = ctx.get("identity") or {}
    return str(identity.get("sourceIp") or "unknown")[:64]


def _html(body: str, status: int = 200, cookies_out: list[str] | None = None) -> Response:
    headers: dict[str, Any] = dict(page.HTML_HEADERS)
    if _secure():
        headers["Strict-Transport-Security"] = "max-age=31536000"
    if cookies_out:
        headers["Set-Cookie"] = cookies_out
    return Response(body=body, status_code=status, headers=headers)


def _redirect(location: str, cookies_out: list[str] | None = None) -> Response:
    headers: dict[str, Any] = {"Location": location, "Cache-Control": "no-store"}
    if cookies_out:
        headers["Set-Cookie"] = cookies_out
    return Response(body="", status_code=303, headers=headers)


def _form() -> dict[str, list[str]]:
    request = bp.current_request
    raw = limits.body_bytes(request.raw_body, context.services().settings)
    return limits.parse_form(raw, request.headers.get("content-type", ""))


def _one(form: Mapping[str, list[str]], name: str) -> str:
    return (form.get(name) or [""])[0]


def _query() -> dict[str, str]:
    return dict(bp.current_request.query_params or {})


class _Page:
    """A form page with this browser's CSRF token (and the cookie that goes with it, if new)."""

    def __init__(self) -> None:
        nonce, self.set_cookie = account_session.form_nonce(_cookie_header(), _secure())
        self.csrf = account_session.form_token(context.services().keys.csrf, nonce)
        self.base = _base()

    def respond(self, body: str, status: int = 200, more: list[str] | None = None) -> Response:
        out = ([self.set_cookie] if self.set_cookie else []) + (more or [])
        return _html(body, status, out)


def _guarded(where: str, handler: Callable[[], Response]) -> Response:
    try:
        return handler()
    except NotYoursError as err:
        return _html(account_pages.text_page("Session not found", _base(), str(err),
                                             [(f"{_base()}/interviews", "My interviews")], "error-page"), 404)
    except Exception as err:  # a clean page from the one table; unknown errors are logged there
        reply = reply_for(err, where)
        body = account_pages.text_page(reply.title, _base(), reply.text, status_class="error-page")
        return _html(body, reply.status_for_page)


def _refused(p: _Page) -> Response:
    return p.respond(account_pages.text_page(
        "This form has expired", p.base, "The form could not be verified (its security token is missing or "
        "wrong). Go back, reload the page and try again.", status_class="error-page"), 400)


_Form = dict[str, list[str]]


def _posted(p: _Page) -> _Form | None:
    form = _form()
    if not account_session.form_ok(context.services().keys.csrf, _cookie_header(), _secure(), form):
        return None
    return form


def _checked_form(where: str, handler: Callable[[_Page, _Form], Response]) -> Response:
    """A posted account form, guarded as `_guarded`: refused unless its CSRF token is this browser's."""

    def handle() -> Response:
        p = _Page()
        form = _posted(p)
        return _refused(p) if form is None else handler(p, form)

    return _guarded(where, handle)


# ---------------------------------------------------------------------------- sign in / register / out
def _sign_in_page(p: _Page, next_url: str, email: str = "", error: str = "", status: int = 200,
                  notice: str = "") -> Response:
    body = account_pages.form_page(
        "Sign in", p.base, action=f"{p.base}/user/sign-in", csrf=p.csrf, submit="Sign in", error=error,
        notice=notice, hidden={"next": next_url},
        fields=[Input("email", "E-mail address", "email", "username", email),
                Input("password", "Password", "password", "current-password")],
        links=[(f"{p.base}/user/register?next={quote(next_url, safe='')}", "Create an account"),
               (f"{p.base}/user/forgot-password", "Forgot your password?")])
    return p.respond(body, status)


@bp.route("/user/sign-in", methods=["GET"])
def sign_in_form() -> Response:
    return _guarded("sign-in", lambda: _sign_in_page(_Page(), _query().get("next", "")))


@bp.route("/user/sign-in", methods=["POST"], content_types=_FORM)
def sign_in() -> Response:
    def handle(p: _Page, form: _Form) -> Response:
        email, password, next_url = _one(form, "email"), _one(form, "password"), _one(form, "next")
        try:
            signed = _accounts().sign_in(email, password, _client())
        except TooManyAttemptsError as err:
            return _sign_in_page(p, next_url, email, str(err), 429)
        if signed is None:
            return _sign_in_page(p, next_url, email, _SIGN_IN_FAILED, 400)
        return _signed_in_redirect(signed, next_url)

    return _checked_form("sign-in", handle)


def _signed_in_redirect(signed: SignedIn, next_url: str) -> Response:
    return _redirect(account_session.safe_next(next_url, _base()),
                     [account_session.sign_in_cookie(_accounts(), signed, _secure())])


def _register_page(p: _Page, next_url: str, values: Mapping[str, str] | None = None, error: str = "",
                   status: int = 200, field_errors: dict[str, str] | None = None) -> Response:
    values = values or {}
    body = account_pages.form_page(
        "Create an account", p.base, action=f"{p.base}/user/register", csrf=p.csrf, submit="Create account",
        error=error, field_errors=field_errors, hidden={"next": next_url},
        fields=[Input("email", "E-mail address", "email", "username", values.get("email", "")),
                Input("first_name", "First name", "text", "given-name", values.get("first_name", ""), False),
                Input("last_name", "Last name", "text", "family-name", values.get("last_name", ""), False),
                Input("password", "Password", "password", "new-password",
                      hint="At least 10 characters, not a common password.")],
        links=[(f"{p.base}/user/sign-in?next={quote(next_url, safe='')}", "I have an account: sign in")])
    return p.respond(body, status)


@bp.route("/user/register", methods=["GET"])
def register_form() -> Response:
    def handle() -> Response:
        p = _Page()
        query = _query()
        if "confirm" in query:  # the link of a confirmation mail (REGISTER_CONFIRM_EMAIL)
            if _accounts().confirm(query["confirm"]) is None:
                return p.respond(account_pages.text_page(
                    "This link is not valid", p.base, "This confirmation link expired or is not right. "
                    "Register again, or sign in if you confirmed already.",
                    [(f"{p.base}/user/sign-in", "Sign in")], "error-page"), 400)
            return _sign_in_page(p, "", notice="Your e-mail address is confirmed. Sign in to continue.")
        return _register_page(p, query.get("next", ""))

    return _guarded("register", handle)


@bp.route("/user/register", methods=["POST"], content_types=_FORM)
def register() -> Response:
    def handle(p: _Page, form: _Form) -> Response:
        values = {name: _one(form, name)[:254] for name in ("email", "first_name", "last_name")}
        next_url = _one(form, "next")
        try:
            signed = _accounts().register(values["email"], _one(form, "password"), values["first_name"],
                                          values["last_name"], _link_base("/user/register"))
        except AccountError as err:
            text = str(err)
            if "exists" in text:
                text = "This e-mail address cannot be registered. If it is yours, sign in or reset the password."
            field = "password" if "password" in text else "email"
            return _register_page(p, next_url, values, "The account was not created; see below.", 400,
                                  {field: text[:1].upper() + text[1:] + "."})
        if signed is None:
            return p.respond(account_pages.text_page(
                "Check your e-mail", p.base, f"We sent a link to {values['email']}. Open it within an hour to "
                "confirm your address; then you can sign in."))
        return _signed_in_redirect(signed, next_url)

    return _checked_form("register", handle)


@bp.route("/user/sign-out", methods=["GET"])
def sign_out_form() -> Response:
    def handle() -> Response:
        p = _Page()
        body = page.confirm_page("Sign out", "Sign out?", "This browser will forget your sign-in and the "
                                 "interviews it holds. Your saved interviews stay in your account.", p.base,
                                 action_url=f"{p.base}/user/sign-out", csrf=p.csrf, confirm_label="Sign out",
                                 cancel_url=f"{p.base}/interviews", cancel_label="Stay signed in")
        return p.respond(body)

    return _guarded("sign-out", handle)


@bp.route("/user/sign-out", methods=["POST"], content_types=_FORM)
def sign_out() -> Response:
    def handle(p: _Page, form: _Form) -> Response:
        gone = account_session.sign_out_cookies(_cookie_header(), _secure())
        return p.respond(account_pages.text_page("Signed out", p.base, "You are signed out.",
                                                 [(f"{p.base}/user/sign-in", "Sign in again")]), 200, gone)

    return _checked_form("sign-out", handle)


# ---------------------------------------------------------------------------- passwords
def _need_sign_in(path: str) -> Response:
    return _redirect(f"{_base()}/user/sign-in?next={quote(_base() + path, safe='')}")


def _change_page(p: _Page, error: str = "", status: int = 200, field_errors: dict[str, str] | None = None,
                 notice: str = "") -> Response:
    body = account_pages.form_page(
        "Change your password", p.base, action=f"{p.base}/user/change-password", csrf=p.csrf,
        submit="Change password", error=error, notice=notice, field_errors=field_errors,
        intro="Your saved interviews stay readable: their key is kept, under the new password.",
        fields=[Input("old_password", "Current password", "password", "current-password"),
                Input("new_password", "New password", "password", "new-password",
                      hint="At least 10 characters, not a common password.")],
        links=[(f"{p.base}/interviews", "My interviews")])
    return p.respond(body, status)


@bp.route("/user/change-password", methods=["GET"])
def change_password_form() -> Response:
    def handle() -> Response:
        if _current() is None:
            return _need_sign_in("/user/change-password")
        return _change_page(_Page())

    return _guarded("change-password", handle)


@bp.route("/user/change-password", methods=["POST"], content_types=_FORM)
def change_password() -> Response:
    def handle(p: _Page, form: _Form) -> Response:
        signed = _current()
        if signed is None:
            return _need_sign_in("/user/change-password")
        accounts = _accounts()
        try:
            changed = accounts.change_password(signed, _one(form, "old_password"), _one(form, "new_password"),
                                               _client())
        except TooManyAttemptsError as err:
            return _change_page(p, str(err), 429)
        except WeakPasswordError as err:
            return _change_page(p, "The password was not changed; see below.", 400,
                                {"new_password": str(err)[:1].upper() + str(err)[1:] + "."})
        if changed is None:
            return _change_page(p, "The current password is not right; nothing was changed.", 400,
                                {"old_password": "This is not your current password."})
        out = [account_session.sign_in_cookie(accounts, changed, _secure())]
        return p.respond(account_pages.text_page(
            "Password changed", p.base, "Your password is changed. Your saved interviews are still yours to open.",
            [(f"{p.base}/interviews", "My interviews")]), 200, out)

    return _checked_form("change-password", handle)


def _forgot_page(p: _Page, email: str = "", notice: str = "", error: str = "", status: int = 200) -> Response:
    body = account_pages.form_page(
        "Forgot your password?", p.base, action=f"{p.base}/user/forgot-password", csrf=p.csrf,
        submit="Send me a link", notice=notice, error=error,
        intro="We will e-mail you a link to choose a new password. " + _RESET_WARNING,
        fields=[Input("email", "E-mail address", "email", "username", email)],
        links=[(f"{p.base}/user/sign-in", "Sign in")])
    return p.respond(body, status)


def _reset_page(p: _Page, token: str, error: str = "", status: int = 200,
                field_errors: dict[str, str] | None = None) -> Response:
    body = account_pages.form_page(
        "Choose a new password", p.base, action=f"{p.base}/user/forgot-password", csrf=p.csrf,
        submit="Set the new password", error=error, field_errors=field_errors, intro=_RESET_WARNING,
        hidden={"token": token},
        fields=[Input("new_password", "New password", "password", "new-password",
                      hint="At least 10 characters, not a common password.")])
    return p.respond(body, status)


@bp.route("/user/forgot-password", methods=["GET"])
def forgot_password_form() -> Response:
    def handle() -> Response:
        p = _Page()
        token = _query().get("token")
        if token is None:
            return _forgot_page(p)
        if _accounts().reset_target(token) is None:
            return _forgot_page(p, error=_BAD_LINK, status=400)
        return _reset_page(p, token)

    return _guarded("forgot-password", handle)


def _link_base(path: str = "/user/forgot-password") -> str:
    """The absolute address of a page, for a mail: BASE_URL when it is absolute, else this host."""
    settings = context.services().settings
    if settings.base_url.startswith(("https://", "http://")):
        return f"{settings.base_url}{path}"
    host = bp.current_request.headers.get("host", "localhost")
    scheme = "https" if settings.cookie_secure else "http"
    return f"{scheme}://{host}{_base()}{path}"


@bp.route("/user/forgot-password", methods=["POST"], content_types=_FORM)
def forgot_password() -> Response:
    def handle(p: _Page, form: _Form) -> Response:
        accounts = _accounts()
        token = _one(form, "token")
        if token:
            try:
                signed = accounts.reset_password(token, _one(form, "new_password"))
            except WeakPasswordError as err:
                return _reset_page(p, token, "The password was not changed; see below.", 400,
                                   {"new_password": str(err)[:1].upper() + str(err)[1:] + "."})
            if signed is None:
                return _forgot_page(p, error=_BAD_LINK, status=400)
            out = [account_session.sign_in_cookie(accounts, signed, _secure())]
            return p.respond(account_pages.text_page(
                "Password changed", p.base, "Your new password is set and you are signed in. " + _RESET_WARNING,
                [(f"{p.base}/interviews", "My interviews")]), 200, out)
        email = _one(form, "email")[:254]
        try:
            accounts.send_reset_link(email, _client(), _link_base())
        except TooManyAttemptsError as err:
            return _forgot_page(p, email, error=str(err), status=429)
        return _forgot_page(p, notice=_RESET_SENT)

    return _checked_form("forgot-password", handle)


# ---------------------------------------------------------------------------- My interviews
def _owned() -> OwnedSessions:
    return OwnedSessions(context.sessions())


@bp.route("/interviews", methods=["GET"])
def my_interviews() -> Response:
    def handle() -> Response:
        signed = _current()
        if signed is None:
            return _need_sign_in("/interviews")
        query = _query()
        if "resume" in query:
            return _resume(signed, query.get("i", ""), query["resume"])
        p = _Page()
        heads = _owned().listed(signed.user_id)
        return p.respond(account_pages.interviews_page(p.base, email=signed.email, heads=heads, csrf=p.csrf))

    return _guarded("interviews", handle)


def _resume(signed: SignedIn, interview: str, session_id: str) -> Response:
    if not is_session_id(session_id) or not interview:
        raise NotYoursError("This link names no session of yours.")
    ref = _owned().resume(signed.user_id, signed.key, interview, session_id)
    assert ref.secret is not None
    cookie = cookies.session_cookie(interview, ref.session_id, ref.secret, _secure())
    return _redirect(f"{_base()}/interview?i={quote(interview)}", [cookie])


@bp.route("/interviews", methods=["POST"], content_types=_FORM)
def my_interviews_change() -> Response:
    def handle(p: _Page, form: _Form) -> Response:
        signed = _current()
        if signed is None:
            return _need_sign_in("/interviews")
        action = _one(form, "_action")
        owned = _owned()
        if action == "delete":
            session_id, interview = _one(form, "session"), _one(form, "i")
            if not is_session_id(session_id):
                raise NotYoursError("This form names no session of yours.")
            owned.delete(signed.user_id, interview, session_id)
            notice = "The session was deleted."
        elif action == "delete_all":
            count = len(owned.listed(signed.user_id))
            return p.respond(account_pages.confirm_delete_all_page(p.base, count=count, csrf=p.csrf))
        elif action == "delete_all_confirmed":
            count = owned.delete_all(signed.user_id)
            notice = f"{count} session{'s were' if count != 1 else ' was'} deleted."
        else:
            return _redirect(f"{p.base}/interviews")
        heads = owned.listed(signed.user_id)
        return p.respond(account_pages.interviews_page(p.base, email=signed.email, heads=heads, csrf=p.csrf,
                                                       notice=notice))

    return _checked_form("interviews", handle)


# ---------------------------------------------------------------------------- the API's own-account routes
@bp.route("/api/secret", methods=["GET"])
@api
def api_secret(user: User, query: dict[str, str], body: dict[str, Any]) -> Response:
    """The decryption key of a user (any valid API key may ask); 403 with one message on any failure."""
    username, password = query.get("username"), query.get("password")
    if not username or not password:
        raise ApiError(400, "A username and password must be supplied")
    try:
        secret = _accounts().secret(username, password, _client())
    except TooManyAttemptsError as err:
        raise ApiError(429, str(err)) from err
    if secret is None:
        raise ApiError(403, "The username or the password is not right.")
    return _json(secret)


def _json(data: Any, status: int = 200) -> Response:
    import json

    return Response(body=json.dumps(data), status_code=status, headers={"Content-Type": "application/json"})


def _own_items(user: User, query: Mapping[str, str]) -> list[dict[str, Any]]:
    from chalicelib.web.api_routes import _iso

    wanted_interview, wanted_session = query.get("i"), query.get("session")
    return [{"filename": head.interview, "session": head.session_id, "title": head.title,
             "utc_modtime": _iso(head.modified), "utc_starttime": _iso(head.created), "steps": head.step,
             "encrypted": head.encrypted, "user_id": head.owner, "tags": list(head.tags)}
            for head in _owned().listed(user.id)
            if (not wanted_interview or head.interview == wanted_interview)
            and (not wanted_session or head.session_id == wanted_session)]


@bp.route("/api/user/interviews", methods=["GET"])
@api
def api_own_interviews(user: User, query: dict[str, str], body: dict[str, Any]) -> Response:
    """The key owner's own sessions (any key)."""
    return _json({"items": _own_items(user, query), "next_id": None})


@bp.route("/api/user/interviews", methods=["DELETE"])
@api
def api_own_interviews_delete(user: User, query: dict[str, str], body: dict[str, Any]) -> Response:
    """Delete the key owner's own sessions (those `i`/`session` name, else all of them)."""
    owned = _owned()
    for item in _own_items(user, query):
        try:
            owned.delete(user.id, item["filename"], item["session"])
        except NotYoursError:
            continue  # deleted meanwhile
    return Response(body="", status_code=204)
