"""The REST API (docassemble-compatible; README.md, "The REST API").

Each route: authenticate, read parameters, call one Sessions use case, shape
the answer. Every failure is JSON {"error": ...} with its status from the one
table in web.errors (4xx for bad input); a stack trace never reaches the
client. Every answer carries `Cache-Control: no-store`: they hold answers.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

from chalice import Blueprint, Response

from chalicelib.engine.errors import UndefinedVariableError
from chalicelib.engine.request import Interface, Request, Upload
from chalicelib.engine.screen import OutcomeKind
from chalicelib.language.blocks import CONTENT_TYPES, DocumentFormat
from chalicelib.library.serialize import jsonable
from chalicelib.runtime import owned_sessions, snapshots, uploads
from chalicelib.runtime.cron import Cron, check_event
from chalicelib.runtime.errors import StashError
from chalicelib.runtime.mail_in import MAIL_FILE_PREFIX
from chalicelib.runtime.sessions import SESSION_ID_LENGTH, SessionRef, TurnResult, VariableChanges, is_session_id
from chalicelib.runtime.stash import Stash
from chalicelib.runtime.user_secret import verified_user_key
from chalicelib.runtime.variables import from_sent
from chalicelib.storage.errors import AccountError, SessionNotFoundError
from chalicelib.storage.records import User
from chalicelib.web import context, limits, openapi
from chalicelib.web.api_auth import ApiError, authenticate, error_response, find_key, require_privilege, user_info
from chalicelib.web.api_json import question_json
from chalicelib.web.errors import reply_for
from chalicelib.web.file_responses import file_response
from chalicelib.web.responses import location, raw_response

log = logging.getLogger(__name__)
bp = Blueprint(__name__)

_BODY_TYPES = ["application/json", "application/x-www-form-urlencoded", "multipart/form-data"]
_JSON_PARAMS = {"variables", "delete_variables", "event_list", "arguments", "url_args", "privileges",
                "file_variables", "data"}
_ARG_NAME = re.compile(r"^[A-Za-z_]")


def _json(data: Any, status: int = 200) -> Response:
    return Response(body=json.dumps(data), status_code=status,
                    headers={"Content-Type": "application/json", "Access-Control-Allow-Origin": "*"})


def _no_content() -> Response:
    return Response(body="", status_code=204, headers={"Access-Control-Allow-Origin": "*"})


# Where `_body` puts the files of a multipart body ({field name: [Upload]}): not a name a client can send.
_FILES = "\x00files"


def _body() -> dict[str, Any]:
    request = bp.current_request
    content_type = request.headers.get("content-type", "")
    multipart = content_type.lower().startswith("multipart/")
    raw = limits.body_bytes(request.raw_body, context.services().settings, uploads=multipart)
    if not raw:
        return {}
    if multipart:
        fields, files = limits.parse_form_files(raw, content_type)
        return {**_form_params({k: v[-1] for k, v in fields.items()}), **({_FILES: files} if files else {})}
    text = raw.decode("utf-8", errors="replace")
    try:
        data = limits.parse_json(text)
        if isinstance(data, dict):
            return data
    except ValueError:
        pass
    if request.headers.get("content-type", "").startswith("application/json"):
        raise ApiError(400, "The request body is not valid JSON.")
    return _form_params({k: v[-1] for k, v in limits.parse_urlencoded(text).items()})


def _form_params(form: dict[str, str]) -> dict[str, Any]:
    """Form parameters, with the object- and list-valued ones read as the JSON they must be."""
    out: dict[str, Any] = dict(form)
    for key in _JSON_PARAMS & set(form):
        try:
            out[key] = limits.parse_json(form[key])
        except ValueError as err:
            raise ApiError(400, f"Malformed {key}: it must be JSON when sent as form data.") from err
    return out


def _flag(value: Any, default: bool = False) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    return str(value).strip().lower() not in ("0", "false", "f")


def api(handler: Callable[[User, dict[str, str], dict[str, Any]], Response]) -> Callable[[], Response]:
    """Authenticate, parse, call, and turn every failure into a JSON error (4xx for bad input)."""

    def wrapper() -> Response:
        try:
            request = bp.current_request
            query = dict(request.query_params or {})
            body = _body() if request.method in ("POST", "PUT", "PATCH") else {}
            limits.check_api_request(query, body, context.services().settings)
            user = authenticate(find_key(query, body, dict(request.headers)))
            response = handler(user, query, body)
        except Exception as err:  # mapped to JSON; unknown ones are logged with their traceback
            reply = reply_for(err, handler.__name__)
            return error_response(reply.status, reply.message)
        response.headers = {**(response.headers or {}), "Cache-Control": "no-store"}
        return response

    wrapper.__name__ = handler.__name__
    return wrapper


def _params(query: Mapping[str, str], body: Mapping[str, Any], *names: str) -> list[Any]:
    return [body.get(n, query.get(n)) for n in names]


def _ref(query: Mapping[str, str], body: Mapping[str, Any]) -> SessionRef:
    interview, session, secret = _params(query, body, "i", "session", "secret")
    if not interview or not session:
        raise ApiError(400, "Parameters i and session are required.")
    _check_session_id(session)
    context.services().loader.path_of(str(interview))
    return SessionRef(str(interview), str(session), str(secret) if secret else None)


def _check_session_id(session: Any) -> None:
    if not isinstance(session, str) or not is_session_id(session):
        raise ApiError(400, f"Parameter session must be a session id: {SESSION_ID_LENGTH} letters and digits, "
                            "as /api/session/new returned it.")


def _request(ref: SessionRef, user: User, **kwargs: Any) -> Request:
    """The API call's request; with the key owner's own secret as `secret`, their user key too (DAStore)."""
    return Request(ref.interview, ref.session_id, user=user_info(user), interface=Interface.API,
                   user_key=verified_user_key(user, ref.secret), **kwargs)


def _question(ref: SessionRef, result: TurnResult) -> Response:
    outcome = result.outcome
    if outcome is None:
        raise ApiError(400, "Nothing to show.")
    if outcome.kind is OutcomeKind.RESPONSE:
        if outcome.url:
            return Response(body="", status_code=302, headers={"Location": location(outcome.url)})
        return raw_response(outcome.body, outcome.content_type, outcome.status)
    if outcome.kind is OutcomeKind.COMMAND:
        return _json({"questionType": outcome.command, "questionText": outcome.url or "",
                      "steps": result.head.step, "message_log": list(outcome.message_log)})
    assert outcome.screen is not None
    title = context.services().loader.load(ref.interview).title
    data = question_json(outcome.screen, outcome, title=title, step=result.head.step)
    for attachment in data.get("attachments", []):
        attachment["url"] = {fmt: f"/api/session/file?i={quote(ref.interview)}&session={ref.session_id}"
                                  f"&file={attachment['file_id']}/{quote(name)}"
                             for fmt, name in attachment["filename_with_extension"].items()}
    return _json(data)


def _undefined(err: UndefinedVariableError) -> Response:
    return _json({"questionType": "undefined_variable", "variable": err.name, "message_log": []})


# ---------------------------------------------------------------------------- sessions
@bp.route("/api/session/new", methods=["GET"])
@api
def session_new(user: User, query: dict[str, str], body: dict[str, Any]) -> Response:
    name = query.get("i")
    if not name:
        raise ApiError(400, "Parameter i is required.")
    url_args = {k: v for k, v in query.items() if k not in ("i", "key", "secret") and _ARG_NAME.match(k)}
    user_key = verified_user_key(user, query.get("secret"))
    if user_key is not None:  # the owner's own secret: a session of theirs, opened by that secret (as signed in)
        ref, result = context.sessions().start(
            name, url_args=url_args, user=user_info(user), interface=Interface.API, user_key=user_key,
            secret_for=lambda session_id: owned_sessions.session_secret(user_key, session_id))
    else:
        ref, result = context.sessions().start(name, secret=query.get("secret"), url_args=url_args,
                                               user=user_info(user), interface=Interface.API)
    data: dict[str, Any] = {"i": ref.interview, "session": ref.session_id, "encrypted": result.head.encrypted}
    if not query.get("secret") and result.head.encrypted:
        data["secret"] = ref.secret
    return _json(data)


@bp.route("/api/session/question", methods=["GET"])
@api
def session_question(user: User, query: dict[str, str], body: dict[str, Any]) -> Response:
    ref = _ref(query, body)
    try:
        result = context.sessions().view(ref, _request(ref, user))
    except UndefinedVariableError as err:
        return _undefined(err)
    return _question(ref, result)


@bp.route("/api/session", methods=["POST"], content_types=_BODY_TYPES)
@api
def session_set(user: User, query: dict[str, str], body: dict[str, Any]) -> Response:
    ref = _ref(query, body)
    variables = body.get("variables", {})
    if not isinstance(variables, dict):
        raise ApiError(400, "Variables data is not a dict.")
    delete = body.get("delete_variables") or []
    events = body.get("event_list") or []
    if not isinstance(delete, list) or not isinstance(events, list):
        raise ApiError(400, "delete_variables and event_list must be lists.")
    question_name = body.get("question_name")
    raw = _flag(body.get("raw"))

    values, files = _file_variables(body, {str(name): value for name, value in variables.items()})
    changes = VariableChanges(
        values=values, delete=[str(name) for name in delete], files=files,
        question_name=str(question_name) if question_name else None, events_done=[str(e) for e in events], raw=raw)
    ask = _flag(body.get("question"), default=True)
    try:
        result = context.sessions().set_variables(ref, _request(ref, user), changes,
                                                  new_step=not _flag(body.get("overwrite")), evaluate=ask)
    except UndefinedVariableError as err:
        return _undefined(err)
    return _question(ref, result) if ask else _no_content()


def _file_variables(body: Mapping[str, Any], values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list[Upload]]]:
    """The uploads of a multipart body by target variable (`file_variables` maps a file field's name to
    it; by default the field's name is the variable); a file field with no file sets its target to None."""
    targets = body.get("file_variables") or {}
    if not isinstance(targets, dict):
        raise ApiError(400, "file_variables must be an object mapping each file field's name to a variable name.")
    limit = context.services().settings.max_upload_bytes
    files: dict[str, list[Upload]] = {}
    for field_name, posted in (body.get(_FILES) or {}).items():
        target = str(targets.get(field_name, field_name))
        chosen = [u for u in posted if u.data]
        for upload in chosen:
            message = uploads.too_large(upload, limit)
            if message:
                raise ApiError(413, message)
        if chosen:
            files[target] = chosen
        else:
            values[target] = None
    return values, files


@bp.route("/api/session", methods=["GET"])
@api
def session_get(user: User, query: dict[str, str], body: dict[str, Any]) -> Response:
    ref = _ref(query, body)
    return _json(jsonable(context.sessions().read(ref).variables()))


@bp.route("/api/session", methods=["DELETE"])
@api
def session_delete(user: User, query: dict[str, str], body: dict[str, Any]) -> Response:
    """Needs the session's secret (an encrypted session), unless the key has the admin privilege."""
    ref = _ref(query, body)
    try:
        context.sessions().delete(ref, verify="admin" not in user.privileges)
    except SessionNotFoundError:
        pass  # as docassemble: 204 even when there was nothing to delete
    return _no_content()


@bp.route("/api/session/action", methods=["POST"], content_types=_BODY_TYPES)
@api
def session_action(user: User, query: dict[str, str], body: dict[str, Any]) -> Response:
    interview, session, action = _params(query, body, "i", "session", "action")
    if not interview or not session or not action:
        raise ApiError(400, "Parameters i, session, and action are required.")
    ref = _ref(query, body)
    arguments = body.get("arguments", {})
    if not isinstance(arguments, dict):
        raise ApiError(400, "Arguments data is not a dict.")
    request = _request(ref, user, action=str(action), arguments=arguments,
                       persistent_action=_flag(body.get("persistent")))
    try:
        result = context.sessions().run_action(ref, request, new_step=not _flag(body.get("overwrite")))
    except UndefinedVariableError:
        return _no_content()
    if result.outcome is not None and result.outcome.kind is OutcomeKind.RESPONSE:
        return raw_response(result.outcome.body, result.outcome.content_type, 200)
    return _no_content()


@bp.route("/api/session/back", methods=["POST"], content_types=_BODY_TYPES)
@api
def session_back(user: User, query: dict[str, str], body: dict[str, Any]) -> Response:
    ref = _ref(query, body)
    sessions = context.sessions()
    sessions.back(ref)
    if not _flag(body.get("question"), default=True):
        return _no_content()
    try:
        result = sessions.view(ref, _request(ref, user))
    except UndefinedVariableError as err:
        return _undefined(err)
    return _question(ref, result)


@bp.route("/api/session/file", methods=["GET"])
@api
def session_file(user: User, query: dict[str, str], body: dict[str, Any]) -> Response:
    """An assembled document of the session: `file` is `<file id>/<filename>.<format>`; or the attachment
    of a mail it received (`DAEmailAttachment.url`), of any type, sent as application/octet-stream."""
    ref = _ref(query, body)
    name = query.get("file", "")
    file_id, _, filename = name.partition("/")
    fmt = filename.rsplit(".", 1)[-1] if "." in filename else ""
    if file_id.startswith(uploads.UPLOAD_PREFIX) and file_id.isalnum() and filename and "/" not in filename:
        data = context.sessions().upload(ref, name)
        if data is None:
            raise ApiError(404, "No such file in this session.")
        return file_response(data, filename)
    mail_file = file_id.startswith(MAIL_FILE_PREFIX) and bool(filename)
    if not file_id.isalnum() or (fmt not in CONTENT_TYPES and not mail_file) or "/" in filename \
            or '"' in filename:
        formats = " or ".join(f"'.{f.value}'" for f in DocumentFormat)
        raise ApiError(400, f"Parameter file must be '<file id>/<filename>' with {formats}, as in the question's "
                            "attachments.")
    data = context.sessions().document(ref, name)
    if data is None:
        raise ApiError(404, "No such file in this session.")
    content_type = "application/octet-stream" if mail_file else CONTENT_TYPES[fmt]
    return Response(body=data, status_code=200, headers={
        "Content-Type": content_type, "Content-Disposition": f'attachment; filename="{filename}"',
        "X-Content-Type-Options": "nosniff"})


# ---------------------------------------------------------------------------- tasks and check-in
@bp.route("/api/session/tasks", methods=["GET"])
@api
def session_tasks(user: User, query: dict[str, str], body: dict[str, Any]) -> Response:
    ref = _ref(query, body)
    tasks, unsent = context.sessions().task_report(ref)
    # An e-mail or SMS of a turn that could not be sent is listed as a failed "send_email"/"send_sms"
    return _json([{"id": t.task_id, "action": t.action, "status": t.status, "created": _iso(t.created),
                   "finished": _iso(t.finished) if t.finished else None, "attempts": t.attempts,
                   **({"reason": t.reason} if t.reason else {})}
                  for t in tasks] +
                 [{"id": f"send-{s.key}", "action": f"send_{s.kind}", "status": "failed", "created": _iso(s.created),
                   "finished": None, "attempts": s.attempts + 1, "reason": s.reason} for s in unsent])


@bp.route("/api/session/effects", methods=["GET"])
@api
def session_effects(user: User, query: dict[str, str], body: dict[str, Any]) -> Response:
    """The changes the session asked for in other sessions (create_session, set_session_variables,
    run_action_in_session) and how each went; no values, only where and what."""
    ref = _ref(query, body)
    return _json([{"key": e.key, "kind": e.kind, "i": e.target_interview, "session": e.target_session,
                   "status": e.status, "created": _iso(e.created),
                   "finished": _iso(e.finished) if e.finished else None, **({"reason": e.reason} if e.reason else {})}
                  for e in context.sessions().effect_list(ref)])


@bp.route("/api/session/checkin", methods=["POST"], content_types=_BODY_TYPES)
@api
def session_checkin(user: User, query: dict[str, str], body: dict[str, Any]) -> Response:
    ref = _ref(query, body)
    parameters = body.get("parameters", {})
    if not isinstance(parameters, dict):
        raise ApiError(400, "parameters must be an object of variable names to raw string values.")
    changed = body.get("changed")
    commands = context.sessions().checkin(ref, parameters, str(changed) if changed else None,
                                          _flag(body.get("initial")), user_info(user))
    return _json({"commands": commands})


# ---------------------------------------------------------------------------- session lists
def _interview_items(user: User, query: Mapping[str, str]) -> list[dict[str, Any]]:
    require_privilege(user, "admin", "advocate")
    wanted_session = query.get("session")
    if wanted_session:
        _check_session_id(wanted_session)
    return [{"filename": head.interview, "session": head.session_id, "title": head.title,
             "utc_modtime": _iso(head.modified), "utc_starttime": _iso(head.created), "steps": head.step,
             "encrypted": head.encrypted, "user_id": head.owner or None, "tags": list(head.tags)}
            for head in context.sessions().list_sessions(query.get("i") or None, wanted_session or None)]


def _iso(stamp: float) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(stamp, tz=dt.UTC).isoformat()


@bp.route("/api/interviews", methods=["GET"])
@api
def interviews_list(user: User, query: dict[str, str], body: dict[str, Any]) -> Response:
    return _json({"items": _interview_items(user, query), "next_id": None})


@bp.route("/api/interviews", methods=["DELETE"])
@api
def interviews_delete(user: User, query: dict[str, str], body: dict[str, Any]) -> Response:
    sessions = context.sessions()
    for item in _interview_items(user, query):
        sessions.delete(SessionRef(item["filename"], item["session"]), verify=False)
    return _no_content()


# ---------------------------------------------------------------------------- stashed data
@bp.route("/api/stash_data", methods=["POST"], content_types=_BODY_TYPES)
@api
def stash_data(user: User, query: dict[str, str], body: dict[str, Any]) -> Response:
    """Keep `data` outside any session (runtime.stash); the key and the secret that open it."""
    if "data" not in body:
        raise ApiError(400, "Data must be provided.")
    limits.check_values({"data": body["data"]}, context.services().settings, "data")  # size and depth bounded
    data = body["data"] if _flag(body.get("raw")) else _dates_read(body["data"])
    key, secret = Stash(context.services()).put(data, body.get("expire"))
    return _json({"stash_key": key, "secret": secret})


def _dates_read(value: Any) -> Any:
    """As `variables` are read: text that begins with an ISO date, at any depth, becomes a date."""
    if isinstance(value, dict):
        return {k: _dates_read(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_dates_read(v) for v in value]
    return from_sent(value)


@bp.route("/api/retrieve_stashed_data", methods=["GET"])
@api
def retrieve_stashed_data(user: User, query: dict[str, str], body: dict[str, Any]) -> Response:
    key, secret = _params(query, body, "stash_key", "secret")
    if not key or not secret:
        raise ApiError(400, "The stash key and secret parameters are required.")
    refresh = query.get("refresh")
    try:
        data = Stash(context.services()).get(str(key), str(secret), _flag(query.get("delete")),
                                             int(refresh) if refresh and refresh.isdigit() else False)
    except StashError as err:
        raise ApiError(400, f"The stashed data could not be retrieved: {err}.") from err
    return _json(jsonable(data))


# ---------------------------------------------------------------------------- users
# The privileges an account can be given (docassemble's, but `cron`, which only the cron user holds).
GRANTABLE_PRIVILEGES = ("user", "admin", "developer", "advocate", "customer", "trainer")
_GENERATED_PASSWORD_BYTES = 12  # 16 characters


@bp.route("/api/user/new", methods=["POST"], content_types=_BODY_TYPES)
@api
def user_new(user: User, query: dict[str, str], body: dict[str, Any]) -> Response:
    """Create an account (admin only): `{"user_id", "password"}`, the password made if none was sent."""
    require_privilege(user, "admin")
    email = body.get("username") or body.get("email")
    if not isinstance(email, str) or not email.strip():
        raise ApiError(400, "An e-mail address must be supplied as username.")
    privileges = body.get("privileges", ["user"])
    if isinstance(privileges, str):
        privileges = [privileges]
    if not isinstance(privileges, list) or not all(isinstance(p, str) for p in privileges):
        raise ApiError(400, "List of privileges must be a string or a list.")
    unknown = [p for p in privileges if p not in GRANTABLE_PRIVILEGES]
    if unknown:
        raise ApiError(400, f"Invalid privilege name {unknown[0]!r}; expected one of "
                            f"{', '.join(GRANTABLE_PRIVILEGES)}.")
    password = body.get("password") or secrets.token_urlsafe(_GENERATED_PASSWORD_BYTES)
    names = [body.get(n) for n in ("first_name", "last_name")]
    if not isinstance(password, str) or not all(n is None or isinstance(n, str) for n in names):
        raise ApiError(400, "password, first_name and last_name must be text.")
    try:
        made = context.services().accounts.create_user(email, password, privileges or ["user"],
                                                       first_name=names[0] or "", last_name=names[1] or "")
    except AccountError as err:
        raise ApiError(400, f"The user could not be created: {err}.") from err
    return _json({"user_id": made.id, "password": password})


# ---------------------------------------------------------------------------- scheduled passes
@bp.route("/api/cron", methods=["POST"], content_types=_BODY_TYPES)
@api
def cron_pass(user: User, query: dict[str, str], body: dict[str, Any]) -> Response:
    """Run a scheduled pass now, as its EventBridge schedule would (admin only)."""
    require_privilege(user, "admin")
    (event,) = _params(query, body, "type")
    if event is None:
        raise ApiError(400, "Parameter type is required: the event to run, such as 'cron_daily'.")
    return _json({"queued": Cron(context.sessions()).scheduled_pass(check_event(event))})


# ---------------------------------------------------------------------------- variable snapshots
@bp.route("/api/snapshots", methods=["GET"])
@api
def snapshot_list(user: User, query: dict[str, str], body: dict[str, Any]) -> Response:
    """The snapshots of an interview (store_variables_snapshot), a page at a time (admin only)."""
    require_privilege(user, "admin")
    interview, session, tag, secret, limit, start = _params(query, body, "i", "session", "tag", "secret", "limit",
                                                            "next")
    if not interview:
        raise ApiError(400, "Parameter i is required: the interview whose snapshots to list.")
    if session:
        _check_session_id(session)
    if limit is not None and not str(limit).isdigit():
        raise ApiError(400, f"Parameter limit must be a whole number from 1 to {snapshots.MAX_PAGE}; found {limit!r}.")
    try:
        wanted = snapshots.SnapshotQuery(str(interview), session or "", tag, secret or "",
                                         int(limit) if limit is not None else 50, start or "")
    except ValueError as err:
        raise ApiError(400, f"{err}.") from err
    return _json(snapshots.read(context.services(), wanted))


# ---------------------------------------------------------------------------- the description
@bp.route("/api/openapi.json", methods=["GET"])
def openapi_json() -> Response:
    """The OpenAPI 3.1 description of every /api route (web.openapi); public, like README's API section.
    Its server is `../`: the document's own folder's parent, so it holds behind an API Gateway stage too."""
    return Response(body=json.dumps(openapi.document("../")), status_code=200,
                    headers={"Content-Type": "application/json", "Access-Control-Allow-Origin": "*",
                             "Cache-Control": "public, max-age=300"})


# ---------------------------------------------------------------------------- unknown endpoints
_ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def _unknown_endpoint() -> Response:
    request = bp.current_request
    path = str((request.context or {}).get("resourcePath", "")) or "this path"
    return error_response(404, f"Unknown API endpoint {request.method} {request.path or path}; "
                               "see README.md, 'The REST API', for the endpoints.")


@bp.route("/api/{name}", methods=_ALL_METHODS, content_types=_BODY_TYPES)
def unknown_endpoint(name: str) -> Response:
    return _unknown_endpoint()


@bp.route("/api/{name}/{part}", methods=_ALL_METHODS, content_types=_BODY_TYPES)
def unknown_sub_endpoint(name: str, part: str) -> Response:
    return _unknown_endpoint()
