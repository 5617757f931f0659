"""Browser routes: GET/POST /interview, the static files, and the error pages.

GET shows the current screen: one read, and a write only if the evaluation changed
something. POST saves the answer together with the screen that follows as a new step
and answers with that screen's page, as the GET would show it (no redirect, no second
read); the page replaces its history entry (app.js), so a refresh is a GET and never
re-submits the answer. Where the answer does not lead to a screen (a command, a
response, an error, a stale form), POST redirects (303) to the GET.

A GET changes nothing the user did not ask for: `action=` runs only with a
signature made for this session (runtime.links), and `new_session=1`/`reset=1`
over a session the browser already holds asks first (the button POSTs, with the
CSRF token). Failures are answered from the one table in web.errors.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from chalice import Blueprint, Response

from chalicelib.engine.request import FormAnswer, Interface, Request, Upload
from chalicelib.engine.screen import Outcome, OutcomeKind, ScreenView
from chalicelib.engine.signals import BUTTON_COMMANDS, Command
from chalicelib.language.blocks import CONTENT_TYPES
from chalicelib.runtime import direct_uploads, links, uploads
from chalicelib.runtime.accounts import Accounts, SignedIn
from chalicelib.runtime.documents import download_name, file_name
from chalicelib.runtime.errors import InvalidLinkError, NoPreviousStepError
from chalicelib.runtime.owned_sessions import OwnedSessions, session_secret
from chalicelib.runtime.sessions import AnswerStatus, SessionRef, TurnResult
from chalicelib.storage.errors import SessionNotFoundError
from chalicelib.web import account_pages, account_session, browser_session, context, cookies, limits, page, responses
from chalicelib.web.errors import INTERNAL, Reply, RequestError, reply_for
from chalicelib.web.file_responses import file_response
from chalicelib.web.responses import raw_response

log = logging.getLogger(__name__)
bp = Blueprint(__name__)

RESERVED_ARGS = {"i", "json", "js_target", "from_list", "session", "cache", "reset", "new_session", "action", "sig"}
_STATIC = Path(__file__).resolve().parent / "static"
_STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "application/javascript; charset=utf-8",
                 ".svg": "image/svg+xml"}
_HSTS = {"Strict-Transport-Security": "max-age=31536000"}  # with COOKIE_SECURE: the site is served over HTTPS


def base_path() -> str:
    """The path prefix of the deployed stage ('' locally, '/api' behind API Gateway)."""
    configured = context.services().settings.base_url
    if configured:
        return configured
    ctx = bp.current_request.context or {}
    path, resource = str(ctx.get("path", "")), str(ctx.get("resourcePath", ""))
    return path[: -len(resource)] if resource and path.endswith(resource) else ""


def _secure() -> bool:
    return context.services().settings.cookie_secure


def _signed_in() -> SignedIn | None:
    """Who the browser is signed in as (the sign-in cookie), or None."""
    return account_session.signed_in(Accounts(context.services()), bp.current_request.headers.get("cookie"),
                                     _secure())


def _with_nav(body: str) -> str:
    """The page with its account links (Sign in, or My interviews) below the content."""
    signed = _signed_in()
    request = bp.current_request
    query: dict[str, str] = dict(request.query_params or {})
    here = f"{base_path()}/interview?i={quote(query['i'])}" if request.path == "/interview" and query.get("i") else ""
    nav = account_pages.nav(base_path(), signed.email if signed else None, here)
    head, found, tail = body.rpartition("</main>")  # after the content: Tab reaches the question first
    return head + found + nav + tail if found else body


def _html(body: str, status: int = 200, headers: Mapping[str, Any] | None = None) -> Response:
    body = _with_nav(body)
    return Response(body=body, status_code=status,
                    headers={**page.HTML_HEADERS, **(_HSTS if _secure() else {}), **(headers or {})})


def _redirect(location: str, headers: Mapping[str, Any] | None = None, status: int = 303) -> Response:
    return Response(body="", status_code=status, headers={"Location": responses.location(location),
                                                           "Cache-Control": "no-store",
                                                           **(_HSTS if _secure() else {}), **(headers or {})})


def _interview_url(base: str, name: str) -> str:
    return f"{base}/interview?i={quote(name)}"


def _here(base: str, ref: SessionRef) -> str:
    """The interview's URL for this session: a shared session's keeps naming it."""
    return _interview_url(base, ref.interview) + browser_session.session_query(ref)


def _csrf_for(session_id: str) -> str:
    return cookies.csrf_token(context.services().keys.csrf, session_id)


def _error_page(status: int, heading: str, text: str, name: str | None = None) -> Response:
    base = base_path()
    body = page.message_page(heading, heading, text, base, status_class="error-page")
    if name:
        body = body.replace("</main>", f"{_start_over(base, name)}</main>")
    return _html(body, status)


def _start_over(base: str, name: str) -> str:
    """A new session of the interview: a POST over the session the browser holds, else a plain link."""
    own = _cookie_ref(name)
    if own is None:
        return f'<p><a href="{_interview_url(base, name)}&amp;new_session=1">Start over</a></p>'
    return page.start_over_form(_interview_url(base, name), _csrf_for(own.session_id))


@bp.route("/static/{name}", methods=["GET"])
def static_file(name: str) -> Response:
    path = (_STATIC / name).resolve()
    if path.parent != _STATIC or not path.is_file() or path.suffix not in _STATIC_TYPES:
        return _html("Not found", 404)
    return Response(body=path.read_text(encoding="utf-8"), status_code=200,
                    headers={"Content-Type": _STATIC_TYPES[path.suffix], "Cache-Control": "public, max-age=300"})


@bp.route("/interview/file/{file_id}/{name}", methods=["GET"])
def interview_file(file_id: str, name: str) -> Response:
    """A document of the browser's session (or of the shared session `session=ID` names), as a download."""
    params = dict(bp.current_request.query_params or {})
    interview = params.get("i", "")
    fmt = name.rsplit(".", 1)[-1] if "." in name else ""
    if not interview or fmt not in CONTENT_TYPES or not file_id.isalnum():
        return _error_page(404, "File not found", "This link does not name a document.")

    def download() -> Response:
        ref = _request_ref(interview)
        if ref is None:
            return _error_page(403, "This file is not yours", "Open the interview in this browser first.")
        sessions = context.sessions()
        data = sessions.document(ref, file_name(file_id, name))
        if data is None:
            return _error_page(404, "File not found", "This document is not (or no longer) stored.")
        return Response(body=data, status_code=200, headers={
            "Content-Type": CONTENT_TYPES[fmt], "Cache-Control": "private, no-store",
            "Content-Disposition": f'attachment; filename="{download_name(name.rsplit(".", 1)[0], fmt)}"'})

    return _guarded(interview, download)


@bp.route("/interview/upload/{file_id}/{name}", methods=["GET"])
def interview_upload(file_id: str, name: str) -> Response:
    """An uploaded file, for the session's users only: the browser holding the session (`session=ID`
    names it; a shared session opens without a secret, as its pages do). Others get 403."""
    params = dict(bp.current_request.query_params or {})
    interview = params.get("i", "")
    if not interview or not file_id.startswith("u") or not file_id[1:].isalnum() or "/" in name:
        return _error_page(404, "File not found", "This link does not name an uploaded file.")

    def download() -> Response:
        ref = _file_holder(interview)
        if ref is None:
            return _error_page(403, "This file is not yours", "Open the interview in this browser first.")
        data = context.sessions().upload(ref, f"{file_id}/{name}")
        if data is None:
            return _error_page(404, "File not found", "This file is not (or no longer) stored.")
        return file_response(data, name)

    return _guarded(interview, download)


def _file_holder(interview: str) -> SessionRef | None:
    """Who may read a session's uploaded files: the session this request holds (its cookie, or the
    shared session `session=ID` names). The one place that decides it for the browser."""
    return _request_ref(interview)


@bp.route("/interview/upload-slot", methods=["POST"], content_types=["application/json"])
def upload_slot() -> Response:
    """A presigned POST for one file the page sends straight to S3 (runtime.direct_uploads), for the
    session this request holds, with its CSRF token (header X-CSRF-Token); JSON {"url", "fields", "value"}
    or {"error"}."""
    services = context.services()
    interview = dict(bp.current_request.query_params or {}).get("i", "")
    try:
        ref = _file_holder(interview) if interview else None
        token = str(bp.current_request.headers.get("x-csrf-token") or "")
        if ref is None or services.direct is None or not cookies.csrf_ok(services.keys.csrf, ref.session_id, token):
            return _json_reply({"error": "This page cannot send files now. Reload it and try again."}, 403)
        body = limits.parse_json(limits.body_bytes(bp.current_request.raw_body, services.settings).decode())
        name = str(body.get("name") or "") if isinstance(body, dict) else ""
        size = body.get("size") if isinstance(body, dict) else None
        if not isinstance(size, int) or not 0 < size or not name or len(name) > 255:
            return _json_reply({"error": "Send the file's name and size."}, 400)
        limit = services.settings.max_upload_bytes
        if size > limit:
            return _json_reply({"error": f"The file {name[:80]!r} is too large: {size:,} bytes, but at most {limit:,} "
                                         "bytes are accepted (MAX_UPLOAD_BYTES). Choose a smaller file."}, 413)
        context.sessions().key_for(ref)  # only a holder of the session gets a slot in it
        slot_token = direct_uploads.new_token()
        slot = services.direct.slot(direct_uploads.incoming_key(ref.session_id, slot_token), limit)
        return _json_reply({**slot, "value": f"s3:{slot_token}/{name}"})
    except Exception as err:  # the same table as every route, as JSON for the script
        reply = reply_for(err, f"upload slot of {interview}")
        return _json_reply({"error": reply.message}, reply.status)


def _json_reply(data: Mapping[str, Any], status: int = 200) -> Response:
    return Response(body=json.dumps(data), status_code=status,
                    headers={"Content-Type": "application/json", "Cache-Control": "no-store"})


def _direct_files(ref: SessionRef, form: dict[str, list[str]]) -> dict[str, list[Upload]]:
    """The files the page sent straight to S3, named in the form as `s3:<token>/<name>`, taken from
    the session's incoming objects (checked for size before they are read, then deleted)."""
    services = context.services()
    files: dict[str, list[Upload]] = {}
    if services.direct is None:
        return files
    for name, values in form.items():
        for value in values:
            found = direct_uploads.DIRECT_VALUE.fullmatch(value)
            if not name.startswith("_f") or found is None:
                continue
            try:
                data = services.direct.take(direct_uploads.incoming_key(ref.session_id, found["token"]),
                                            services.settings.max_upload_bytes)
            except direct_uploads.DirectUploadError as err:
                raise RequestError(413, f"The file {found['name'][:80]!r} is too large: {err}.",
                                   "Too much to send") from err
            if data:
                files.setdefault(name, []).append(Upload(found["name"], data))
    return files


@bp.route("/file/{session_id}/{file_id}/{name}", methods=["GET"])
def public_file(session_id: str, file_id: str, name: str) -> Response:
    """A file set `private=False`, for anyone with its signed link (DAFile.url_for())."""
    signature = dict(bp.current_request.query_params or {}).get("sig")
    stored = f"{file_id}/{name}"
    if not links.signature_ok(context.services().keys.links, f"file:{session_id}", stored, {}, signature):
        return _error_page(403, "This link is not valid", "The link to this file is wrong or incomplete.")
    try:
        data = uploads.read_public(context.services(), session_id, stored)
    except Exception as err:  # a tampered object: the same clean page as every failure
        reply = reply_for(err, f"public file of {session_id}")
        return _error_page(reply.status_for_page, reply.title, reply.text)
    if data is None:
        return _error_page(404, "File not found", "This file is not (or no longer) stored.")
    return file_response(data, name, cache="public, max-age=300")


@bp.route("/goto", methods=["GET"])
def goto() -> Response:
    """A temporary link (`interview_url(temporary=…)`): to the interview address it signs, until it expires."""
    params = dict(bp.current_request.query_params or {})
    try:
        target = links.temporary_target(context.services().keys.links, params.get("u", ""), params.get("e", ""),
                                        params.get("sig"), time.time())
    except InvalidLinkError as err:
        return _error_page(400, err.title, str(err))
    return _redirect(base_path() + target)


@bp.route("/interview", methods=["GET"])
def interview_get() -> Response:
    params = dict(bp.current_request.query_params or {})
    name = params.get("i", "")
    if not name:
        return _error_page(400, "Which interview?", "Add ?i=NAME to the address, e.g. ?i=actions.yml.")
    return _guarded(name, lambda: _show(name, params))


@bp.route("/interview", methods=["POST"],
          content_types=["application/x-www-form-urlencoded", "multipart/form-data"])
def interview_post() -> Response:
    params = dict(bp.current_request.query_params or {})
    name = params.get("i", "")
    if not name:
        return _error_page(400, "Which interview?", "The form was posted without ?i=NAME.")
    return _guarded(name, lambda: _submit(name))


def _guarded(name: str, handler: Any) -> Response:
    try:
        response: Response = handler()
        return response
    except Exception as err:  # every failure is answered from the one table: a clean page, logged
        reply = reply_for(err, f"interview {name}")
        if reply.offer_back:
            return _code_error_page(name, reply)
        return _error_page(reply.status_for_page, reply.title, reply.text, name if reply.offer_start_over else None)


def _code_error_page(name: str, reply: Reply) -> Response:
    base = base_path()
    ref = _ref_if_valid(name)
    csrf = _csrf_for(ref.session_id) if ref else ""
    body = page.message_page("Error", reply.title, reply.text, base,
                             back_url=_here(base, ref) if ref else None, csrf=csrf,
                             status_class="error-page")
    return _html(body, reply.status_for_page)


def _cookie_ref(name: str) -> SessionRef | None:
    return browser_session.own_ref(name, bp.current_request.headers.get("cookie"), _secure())


def _request_ref(name: str) -> SessionRef | None:
    """The session this request is for (`?session=ID` or the cookie's); 400 for a malformed id."""
    query = dict(bp.current_request.query_params or {})
    return browser_session.request_ref(name, query, bp.current_request.headers.get("cookie"), _secure())


def _ref_if_valid(name: str) -> SessionRef | None:
    try:
        return _request_ref(name)
    except RequestError:
        return None


def _request(ref: SessionRef, base: str, **kwargs: Any) -> Request:
    signed = _signed_in()
    if signed is not None:
        kwargs["user"] = signed.info()
        kwargs["user_key"] = signed.key
    return Request(ref.interview, ref.session_id, base_url=base, interface=Interface.WEB, **kwargs)


def _show(name: str, params: Mapping[str, str]) -> Response:
    sessions = context.sessions()
    settings = sessions.services.settings
    base = base_path()
    limits.check_values(params, settings, "The URL argument")
    url_args = {k: v for k, v in params.items() if k not in RESERVED_ARGS}
    ref = _request_ref(name)  # a shared (multi_user) session if ?session= names another than the cookie's
    headers: dict[str, Any] = {}
    anew = bool(params.get("new_session") or params.get("reset"))
    if anew and _cookie_ref(name) is not None:
        return _confirm_new_session(name, url_args, base)
    if "action" in params:
        return _link_action(None if anew else ref, params["action"], params.get("sig"), url_args, base)
    if ref is None or anew:
        ref, _, headers = _new_session(name, base, url_args, evaluate=False)
    try:
        result = sessions.view(ref, _request(ref, base, url_args=url_args))
    except SessionNotFoundError:
        ref, result, headers = _new_session(name, base, url_args)
    signed = _signed_in()
    if signed is not None and not result.head.owner and not browser_session.is_shared(ref):
        # signed in with an anonymous session in hand: it becomes the user's (kept, answers and all)
        head = OwnedSessions(sessions).adopt(ref, result.head, signed.user_id, signed.key)
        result = replace(result, head=head)
    return _outcome_response(ref, result, base, headers)


def _new_session(name: str, base: str, url_args: Mapping[str, Any],
                 evaluate: bool = True) -> tuple[SessionRef, TurnResult, dict[str, Any]]:
    """A new session of `name`, and the headers that hand its cookie to the browser."""
    signed = _signed_in()
    ref, result = context.sessions().start(
        name, url_args=url_args, base_url=base, evaluate=evaluate, user=signed.info() if signed else None,
        user_key=signed.key if signed else None,
        secret_for=(lambda session_id: session_secret(signed.key, session_id)) if signed else None)
    assert ref.secret is not None
    return ref, result, {"Set-Cookie": [cookies.session_cookie(name, ref.session_id, ref.secret, _secure())]}


def _link_action(ref: SessionRef | None, blob: str, signature: str | None, url_args: Mapping[str, Any],
                 base: str) -> Response:
    """Run the action of a url_action() link, if it was made for the session this request is for."""
    try:
        action, arguments = links.read_link(context.services().keys.links, ref.session_id if ref else None, blob,
                                            signature)
    except InvalidLinkError as err:
        raise RequestError(400, str(err), err.title) from err
    assert ref is not None
    sessions = context.sessions()
    result = sessions.run_action(ref, _request(ref, base, action=action, arguments=arguments, url_args=url_args))
    if result.outcome is None or result.outcome.kind is OutcomeKind.SCREEN:
        return _redirect(_here(base, ref))
    return _outcome_response(ref, result, base, {})


def _confirm_new_session(name: str, url_args: Mapping[str, str], base: str) -> Response:
    """`new_session=1`/`reset=1` over a session this browser holds: ask, and start anew only on the POST."""
    own = _cookie_ref(name)
    assert own is not None
    action_url = _interview_url(base, name) + (f"&{urlencode(url_args)}" if url_args else "")
    title = context.services().loader.load(name).title or "Interview"
    body = page.confirm_page(
        title, "Start a new session?",
        "You already have answers in this interview in this browser. A new session starts from the "
        "beginning, and this browser will no longer open your current answers.", base,
        action_url=action_url, csrf=_csrf_for(own.session_id), fields={"_new_session": "1"},
        confirm_label="Start a new session", cancel_url=_interview_url(base, name),
        cancel_label="Keep my answers")
    return _html(body)


def _start_anew(name: str, base: str) -> Response:
    """The confirmed new session: started, held in the cookie, shown."""
    query = dict(bp.current_request.query_params or {})
    url_args = {k: v for k, v in query.items() if k not in RESERVED_ARGS}
    _, _, headers = _new_session(name, base, url_args, evaluate=False)
    return _redirect(_interview_url(base, name), headers)


def _outcome_response(ref: SessionRef, result: TurnResult, base: str,
                      headers: dict[str, Any], errors: Mapping[str, str] | None = None) -> Response:
    outcome = result.outcome
    if outcome is None:
        return _redirect(_here(base, ref), headers)
    if outcome.kind is OutcomeKind.SCREEN and outcome.screen is not None:
        return _screen_response(ref, result, outcome.screen, base, headers, errors)
    if outcome.kind is OutcomeKind.RESPONSE:
        if outcome.url:
            return _redirect(outcome.url, headers, status=302)
        return raw_response(outcome.body, outcome.content_type, outcome.status, headers)
    if outcome.kind is OutcomeKind.COMMAND:
        return _command(ref, outcome, base, headers)
    log.error("interview %s: the turn ended in %s, which the browser cannot show", ref.interview, outcome.kind)
    return _code_error_page(ref.interview, INTERNAL)


def _screen_response(ref: SessionRef, result: TurnResult, view: ScreenView, base: str,
                     headers: dict[str, Any], errors: Mapping[str, str] | None) -> Response:
    services = context.services()
    interview = services.loader.load(ref.interview)
    direct = None
    if services.direct is not None and page.has_uploads(view):
        direct = (f"{base}/interview/upload-slot?i={quote(ref.interview)}{browser_session.session_query(ref)}",
                  services.settings.direct_upload_bytes)
    body = page.screen_page(
        view, title=interview.title or "Interview", action_url=_here(base, ref), base=base,
        file_url=lambda file_id, name: f"{base}/interview/file/{file_id}/{quote(name)}?i={quote(ref.interview)}"
                                       f"{browser_session.session_query(ref)}",
        csrf=_csrf_for(ref.session_id),
        can_go_back=result.head.step > 1, errors=errors, checkin_interval=services.settings.checkin_interval,
        checkin_url=f"{base}/checkin?i={quote(ref.interview)}{browser_session.session_query(ref)}",
        messages=result.outcome.message_log if result.outcome else (),
        direct_upload=direct,
    )
    if direct is not None and services.direct is not None:
        headers = {**headers, "Content-Security-Policy": page.policy_connecting_to(services.direct.origin())}
    return _html(body, 200, headers)


def _command(ref: SessionRef, outcome: Outcome, base: str, headers: dict[str, Any]) -> Response:
    sessions = context.sessions()
    kind = outcome.command
    here = _here(base, ref)
    if kind in (Command.EXIT, Command.EXIT_LOGOUT, Command.LOGOUT):
        if kind != Command.LOGOUT:
            sessions.delete(ref)
        clear = {"Set-Cookie": [cookies.clear_cookie(ref.interview, _secure())]}
        if outcome.url:
            return _redirect(outcome.url, clear, status=302)
        return _html(page.message_page("Goodbye", "You have left the interview",
                                       "Your answers have been deleted.", base), 200, clear)
    if kind == Command.LEAVE:
        if outcome.url:
            return _redirect(outcome.url, headers, status=302)
        return _html(page.message_page("Goodbye", "You have left the interview",
                                       "You can come back to it later.", base), 200, headers)
    if kind == Command.RESTART:
        sessions.restart(ref)
        return _redirect(here, headers)
    if kind == Command.NEW_SESSION:  # the interview asked for it: no confirmation
        _, _, fresh = _new_session(ref.interview, base, {}, evaluate=False)
        return _redirect(_interview_url(base, ref.interview), {**headers, **fresh})
    if kind == Command.WAIT:
        seconds = outcome.sleep or 4
        return _html(page.message_page("Please wait", "Please wait", "This page will refresh by itself.",
                                       base, refresh=seconds), 200, headers)
    return _redirect(here, headers)


def _form() -> tuple[dict[str, list[str]], dict[str, list[Upload]]]:
    request = bp.current_request
    content_type = request.headers.get("content-type", "")
    raw = limits.body_bytes(request.raw_body, context.services().settings,
                            uploads=content_type.lower().startswith("multipart/"))
    return limits.parse_form_files(raw, content_type, _FORM_FIELDS)


def _submit(name: str) -> Response:
    sessions = context.sessions()
    base = base_path()
    ref = _request_ref(name)  # a shared session's form posts with ?session=ID
    form, files = _form()
    anew = bool(form.get("_new_session"))  # the confirmed new_session/reset, or an error page's "Start over"
    if anew:
        ref = _cookie_ref(name)  # the session to leave is the browser's own: its token must match
    if ref is None:
        return _start_anew(name, base) if anew else _redirect(_interview_url(base, name))
    here = _here(base, ref)
    if not cookies.csrf_ok(context.services().keys.csrf, ref.session_id, (form.get("_csrf") or [""])[0]):
        return _error_page(400, "This form has expired",
                           "The form could not be verified (its security token is missing or wrong). "
                           "Reload the page and answer again.", name)
    if anew:
        return _start_anew(name, base)
    if form.get("_back"):
        try:
            sessions.back(ref)
        except NoPreviousStepError:
            pass
        return _redirect(here)
    for name, sent in _direct_files(ref, form).items():
        files.setdefault(name, []).extend(sent)
    posted = FormAnswer(screen=(form.get("_screen") or [""])[0], positions=_positions({**form, **files}),
                        button=(form.get("_button") or [""])[0] or None)
    answered = sessions.answer_screen(ref, _request(ref, base), posted)
    if answered.status is AnswerStatus.INVALID:
        errors = {e.variable: e.message for e in answered.result.errors}
        return _outcome_response(ref, answered.result, base, {}, errors)
    if answered.status is AnswerStatus.COMMAND:
        return _button_command(ref, str(answered.result.command), base)
    outcome = answered.result.outcome
    if answered.status is AnswerStatus.SAVED and outcome is not None and outcome.kind is OutcomeKind.SCREEN:
        return _outcome_response(ref, answered.result, base, {})  # the next screen, saved with the answer
    return _redirect(here)  # no screen reached, or an answer to a screen no longer current: show what is current


def _button_command(ref: SessionRef, value: str, base: str) -> Response:
    kind = value if value in BUTTON_COMMANDS else Command.LEAVE
    url = None if kind == value else value
    return _command(ref, Outcome(OutcomeKind.COMMAND, command=kind, url=url), base, {})


# What a screen's form posts: its fields by position (_f0, _f1, ...) and the controls this route reads.
# Anything else is dropped unread (a form post may only set the current screen's variables).
_FORM_FIELDS = re.compile(r"_f\d{1,6}|_csrf|_screen|_button|_back|_continue|_new_session")


def _positions(form: Mapping[str, Sequence[str | Upload]]) -> dict[int, list[str | Upload]]:
    """The posted field values (and files) by their position on the screen (the page names them _f0, _f1, ...)."""
    positions: dict[int, list[str | Upload]] = {}
    for name, values in form.items():
        if name.startswith("_f") and name[2:].isdigit() and len(name) <= 8:
            positions[int(name[2:])] = list(values)
    return positions
