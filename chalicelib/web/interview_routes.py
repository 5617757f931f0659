"""Browser routes: GET/POST /interview, the static files, and the error pages.

GET shows the current screen (one evaluation, saved over the current step).
POST applies the answer as a new step without evaluating and redirects to GET
(post-redirect-get), so each page the user sees is exactly one evaluation and a
browser refresh never re-submits an answer.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

from chalice import Blueprint, Response

from chalicelib.engine.answers import Answer, apply_answer, current_screen
from chalicelib.engine.documents import safe_filename
from chalicelib.engine.errors import EngineError, InterviewCodeError
from chalicelib.engine.evaluator import Request
from chalicelib.engine.screen import Outcome, OutcomeKind, ScreenView
from chalicelib.language.errors import InterviewNotFoundError, InterviewSyntaxError
from chalicelib.library.functions import decode_action
from chalicelib.runtime.documents import CONTENT_TYPES, file_name, load_document
from chalicelib.runtime.errors import ConflictError, NoPreviousStepError
from chalicelib.runtime.sessions import SessionRef, TurnResult
from chalicelib.storage.errors import SessionNotFoundError, TamperedDataError, WrongSecretError
from chalicelib.web import context, cookies, page
from chalicelib.web.responses import raw_response

log = logging.getLogger(__name__)
bp = Blueprint(__name__)

RESERVED_ARGS = {"i", "json", "js_target", "from_list", "session", "cache", "reset", "new_session", "action"}
_STATIC = Path(__file__).resolve().parent / "static"
_STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "application/javascript; charset=utf-8",
                 ".svg": "image/svg+xml"}
_HTML = {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store",
         "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin", "X-Frame-Options": "SAMEORIGIN"}


def base_path() -> str:
    """The path prefix of the deployed stage ('' locally, '/api' behind API Gateway)."""
    configured = context.services().settings.base_url
    if configured:
        return configured
    ctx = bp.current_request.context or {}
    path, resource = str(ctx.get("path", "")), str(ctx.get("resourcePath", ""))
    return path[: -len(resource)] if resource and path.endswith(resource) else ""


def _html(body: str, status: int = 200, headers: Mapping[str, Any] | None = None) -> Response:
    return Response(body=body, status_code=status, headers={**_HTML, **(headers or {})})


def _redirect(location: str, headers: Mapping[str, Any] | None = None, status: int = 303) -> Response:
    return Response(body="", status_code=status, headers={"Location": location, "Cache-Control": "no-store",
                                                           **(headers or {})})


def _interview_url(base: str, name: str) -> str:
    return f"{base}/interview?i={quote(name)}"


def _error_page(status: int, heading: str, text: str, name: str | None = None) -> Response:
    base = base_path()
    body = page.message_page(heading, heading, text, base, status_class="error-page")
    if name:
        body = body.replace("</main>", f'<p><a href="{_interview_url(base, name)}&amp;new_session=1">'
                                       "Start over</a></p></main>")
    return _html(body, status)


@bp.route("/static/{name}", methods=["GET"])
def static_file(name: str) -> Response:
    path = (_STATIC / name).resolve()
    if path.parent != _STATIC or not path.is_file() or path.suffix not in _STATIC_TYPES:
        return _html("Not found", 404)
    return Response(body=path.read_text(encoding="utf-8"), status_code=200,
                    headers={"Content-Type": _STATIC_TYPES[path.suffix], "Cache-Control": "public, max-age=300"})


@bp.route("/interview/file/{file_id}/{name}", methods=["GET"])
def interview_file(file_id: str, name: str) -> Response:
    """A document of the browser's session (assembled attachments), as a download."""
    params = dict(bp.current_request.query_params or {})
    interview = params.get("i", "")
    fmt = name.rsplit(".", 1)[-1] if "." in name else ""
    if not interview or fmt not in CONTENT_TYPES or not file_id.isalnum():
        return _error_page(404, "File not found", "This link does not name a document.")

    def download() -> Response:
        ref = _cookie_ref(interview)
        if ref is None:
            return _error_page(403, "This file is not yours", "Open the interview in this browser first.")
        sessions = context.sessions()
        key = sessions.key_for(ref)
        data = load_document(sessions.services, ref.session_id, key, file_name(file_id, name))
        if data is None:
            return _error_page(404, "File not found", "This document is not (or no longer) stored.")
        return Response(body=data, status_code=200, headers={
            "Content-Type": CONTENT_TYPES[fmt], "Cache-Control": "private, no-store",
            "Content-Disposition": f'attachment; filename="{safe_filename(name.rsplit(".", 1)[0])}.{fmt}"'})

    return _guarded(interview, download)


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
    except InterviewNotFoundError as err:
        return _error_page(404, "Interview not found", str(err))
    except InterviewSyntaxError as err:
        log.error("interview %s has an error: %s", name, err)
        return _error_page(500, "This interview has an error", str(err))
    except (WrongSecretError, TamperedDataError) as err:
        log.warning("refused a session of %s: %s", name, err)
        return _error_page(403, "This session cannot be opened",
                           "Your browser's key does not open this session.", name)
    except ConflictError as err:
        return _error_page(409, "Please try again", str(err), name)
    except InterviewCodeError as err:
        log.error("error in interview code of %s at %s\n%s", name, err.where, err.trace)
        return _code_error_page(name)
    except EngineError as err:
        log.exception("interview %s could not continue: %s", name, err)
        return _code_error_page(name)
    except Exception:  # the last line of defence: log it, show a clean page
        log.exception("unexpected error serving interview %s", name)
        return _code_error_page(name)


def _code_error_page(name: str) -> Response:
    base = base_path()
    ref = _cookie_ref(name)
    csrf = cookies.csrf_token(context.services().keys.csrf, ref.session_id) if ref else ""
    body = page.message_page("Error", "Sorry, something went wrong",
                             "This step of the interview could not be completed. The problem has been logged. "
                             "You can go back and try again.", base,
                             back_url=_interview_url(base, name) if ref else None, csrf=csrf,
                             status_class="error-page")
    return _html(body, 500)


def _cookie_ref(name: str) -> SessionRef | None:
    held = cookies.read_session_cookie(bp.current_request.headers.get("cookie"), name)
    return SessionRef(name, held[0], held[1]) if held else None


def _request(ref: SessionRef, base: str, **kwargs: Any) -> Request:
    return Request(ref.interview, ref.session_id, base_url=base, interface="web", **kwargs)


def _show(name: str, params: Mapping[str, str]) -> Response:
    sessions = context.sessions()
    settings = sessions.services.settings
    base = base_path()
    url_args = {k: v for k, v in params.items() if k not in RESERVED_ARGS}
    ref = _cookie_ref(name)
    set_cookie: list[str] = []
    if "session" in params and (ref is None or ref.session_id != params["session"]):
        ref = SessionRef(name, params["session"], None)  # a shared (multi_user) session
    if ref is None or params.get("new_session") or params.get("reset"):
        ref, _ = sessions.start(name, url_args=url_args, base_url=base, evaluate=False)
        assert ref.secret is not None
        set_cookie.append(cookies.session_cookie(name, ref.session_id, ref.secret, settings.cookie_secure))
    headers = {"Set-Cookie": set_cookie} if set_cookie else {}
    if "action" in params:
        try:
            action, arguments = decode_action(params["action"])
        except ValueError as err:
            return _error_page(400, "That link is not valid", str(err))
        result = sessions.run_action(ref, _request(ref, base, action=action, arguments=arguments,
                                                   url_args=url_args))
        if result.outcome is None or result.outcome.kind is OutcomeKind.SCREEN:
            return _redirect(_interview_url(base, name), headers)
        return _outcome_response(ref, result, base, headers)
    try:
        result = sessions.view(ref, _request(ref, base, url_args=url_args))
    except SessionNotFoundError:
        ref, result = sessions.start(name, url_args=url_args, base_url=base)
        assert ref.secret is not None
        headers = {"Set-Cookie": [cookies.session_cookie(name, ref.session_id, ref.secret,
                                                         settings.cookie_secure)]}
    return _outcome_response(ref, result, base, headers)


def _outcome_response(ref: SessionRef, result: TurnResult, base: str,
                      headers: dict[str, Any], errors: Mapping[str, str] | None = None) -> Response:
    outcome = result.outcome
    if outcome is None:
        return _redirect(_interview_url(base, ref.interview), headers)
    if outcome.kind is OutcomeKind.SCREEN and outcome.screen is not None:
        return _screen_response(ref, result, outcome.screen, base, headers, errors)
    if outcome.kind is OutcomeKind.RESPONSE:
        if outcome.url:
            return _redirect(outcome.url, headers, status=302)
        return raw_response(outcome.body, outcome.content_type, outcome.status, headers)
    if outcome.kind is OutcomeKind.COMMAND:
        return _command(ref, outcome, base, headers)
    return _code_error_page(ref.interview)


def _screen_response(ref: SessionRef, result: TurnResult, view: ScreenView, base: str,
                     headers: dict[str, Any], errors: Mapping[str, str] | None) -> Response:
    services = context.services()
    interview = services.loader.load(ref.interview)
    body = page.screen_page(
        view, title=interview.title or "Interview", action_url=_interview_url(base, ref.interview), base=base,
        file_url=lambda file_id, name: f"{base}/interview/file/{file_id}/{quote(name)}?i={quote(ref.interview)}",
        csrf=cookies.csrf_token(services.keys.csrf, ref.session_id),
        can_go_back=result.head.step > 1, errors=errors, checkin_interval=services.settings.checkin_interval,
        checkin_url=f"{base}/checkin?i={quote(ref.interview)}",
        messages=result.outcome.message_log if result.outcome else (),
    )
    return _html(body, 200, headers)


def _command(ref: SessionRef, outcome: Outcome, base: str, headers: dict[str, Any]) -> Response:
    sessions = context.sessions()
    kind = outcome.command
    here = _interview_url(base, ref.interview)
    if kind in ("exit", "exit_logout", "logout"):
        if kind != "logout":
            sessions.delete(ref)
        clear = {"Set-Cookie": [cookies.clear_cookie(ref.interview)]}
        if outcome.url:
            return _redirect(outcome.url, clear, status=302)
        return _html(page.message_page("Goodbye", "You have left the interview",
                                       "Your answers have been deleted.", base), 200, clear)
    if kind == "leave":
        if outcome.url:
            return _redirect(outcome.url, headers, status=302)
        return _html(page.message_page("Goodbye", "You have left the interview",
                                       "You can come back to it later.", base), 200, headers)
    if kind == "restart":
        sessions.restart(ref)
        return _redirect(here, headers)
    if kind == "new_session":
        return _redirect(here + "&new_session=1", headers)
    if kind == "wait":
        seconds = outcome.sleep or 4
        return _html(page.message_page("Please wait", "Please wait", "This page will refresh by itself.",
                                       base, refresh=seconds), 200, headers)
    return _redirect(here, headers)


def _form() -> dict[str, list[str]]:
    request = bp.current_request
    raw = _raw_bytes(request.raw_body)
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        return _multipart(raw, content_type)
    return parse_qs(raw.decode("utf-8", errors="replace"), keep_blank_values=True)


def _raw_bytes(raw: str | bytes | None) -> bytes:
    if raw is None:
        return b""
    return raw.encode("utf-8") if isinstance(raw, str) else raw


def _multipart(raw: bytes, content_type: str) -> dict[str, list[str]]:
    from email.parser import BytesParser
    from email.policy import HTTP

    message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + raw)
    out: dict[str, list[str]] = {}
    for part in message.iter_parts() if message.is_multipart() else []:
        name = part.get_param("name", header="content-disposition")
        if name:
            payload = part.get_payload(decode=True)
            text = payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else ""
            out.setdefault(str(name), []).append(text)
    return out


def _submit(name: str) -> Response:
    sessions = context.sessions()
    base = base_path()
    here = _interview_url(base, name)
    ref = _cookie_ref(name)
    form = _form()
    if ref is None:
        return _redirect(here)
    if not cookies.csrf_ok(sessions.services.keys.csrf, ref.session_id, (form.get("_csrf") or [""])[0]):
        return _error_page(400, "This form has expired",
                           "The form could not be verified (its security token is missing or wrong). "
                           "Reload the page and answer again.", name)
    if form.get("_back"):
        try:
            sessions.back(ref)
        except NoPreviousStepError:
            pass
        return _redirect(here)
    screen_token = (form.get("_screen") or [""])[0]
    button = (form.get("_button") or [""])[0] or None
    stale: list[bool] = []

    def mutate(answers: dict[str, Any]) -> Any:
        view = current_screen(answers.get("_internal", {}))
        if view is None or view.block != screen_token:
            stale.append(True)
            return None
        return apply_answer(answers, Answer(_values_by_variable(view, form), button))

    result = sessions.set_variables(ref, _request(ref, base), mutate, new_step=True, evaluate=False)
    if stale:
        return _redirect(here)
    if result.errors:
        errors = {e.variable: e.message for e in result.errors}
        return _outcome_response(ref, result, base, {}, errors)
    if result.command is not None:
        return _button_command(ref, str(result.command), base)
    return _redirect(here)


def _button_command(ref: SessionRef, value: str, base: str) -> Response:
    kind = value if value in ("exit", "leave", "restart", "new_session", "refresh", "continue") else "leave"
    url = None if kind == value else value
    return _command(ref, Outcome(OutcomeKind.COMMAND, command=kind, url=url), base, {})


def _values_by_variable(view: ScreenView, form: Mapping[str, list[str]]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for index, field in enumerate(view.fields):
        if field.variable is None:
            continue
        raw = form.get(f"_f{index}")
        if field.datatype == "checkboxes":
            values[field.variable] = raw or []
        elif raw is not None:
            values[field.variable] = raw[-1]
        elif field.datatype in ("yesno", "noyes", "yesnowide", "noyeswide"):
            values[field.variable] = "False"
    return values
