"""The OpenAPI 3.1 description of the REST API, served at `GET /api/openapi.json`.

This table is the one description of every `/api` route: its parameters, its body, and
each status it can answer with. A test compares it with the routes the app registers
(no route undocumented, no documented route missing), and the API fuzzer
(tests/functional/api/test_openapi_fuzz.py) checks the running local stack against it.
When you add or change an API route, change its `Operation` here too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Schema = dict[str, Any]

VERSION = "1.0.0"

_TEXT: Schema = {"type": "string"}
_FLAG: Schema = {"type": ["boolean", "integer", "string"],
                 "description": "true/false; also 1/0 and the text 'true'/'false'"}
_OBJECT: Schema = {"type": "object"}
_ANY: Schema = {}
_NULLABLE_TEXT: Schema = {"type": ["string", "null"]}


@dataclass(frozen=True)
class Param:
    """A query parameter."""

    name: str
    description: str
    required: bool = False
    schema: Schema = field(default_factory=lambda: dict(_TEXT))


@dataclass(frozen=True)
class Reply:
    """One status an operation answers with; `content` maps media types to schemas (none: no body)."""

    status: int
    description: str
    content: Mapping[str, Schema] = field(default_factory=dict)
    links: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # OpenAPI links to later calls


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    summary: str
    description: str = ""
    params: Sequence[Param] = ()
    body: Schema | None = None  # the JSON body's schema (form encodings are accepted too)
    body_required: Sequence[str] = ()
    replies: Sequence[Reply] = ()
    public: bool = False  # no API key needed


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: Schema) -> dict[str, Schema]:
    return {"application/json": schema}


SCHEMAS: dict[str, Schema] = {
    "Error": {"type": "object", "required": ["error"], "properties": {"error": _TEXT},
              "description": "Every error: a message that says what was expected and what to do."},
    "NewSession": {
        "type": "object", "required": ["i", "session", "encrypted"],
        "properties": {"i": _TEXT, "session": _TEXT, "encrypted": {"type": "boolean"},
                       "secret": {"type": "string", "description": "only when the server chose it"}}},
    "Question": {
        "type": "object", "required": ["questionType"],
        "description": "The current screen (docassemble's shape); `questionType` says which kind, "
                       "`undefined_variable` when the interview needs a variable no block defines.",
        "properties": {"questionType": _TEXT, "questionText": _TEXT, "subquestionText": _TEXT,
                       "fields": {"type": "array"}, "attachments": {"type": "array"},
                       "steps": {"type": "integer"}, "message_log": {"type": "array"},
                       "variable": _TEXT}},
    "Task": {
        "type": "object", "required": ["id", "action", "status", "created", "finished"],
        "properties": {"id": _TEXT, "action": _TEXT,
                       "status": {"enum": ["queued", "running", "done", "failed"]},
                       "created": {"type": "string", "format": "date-time"},
                       "finished": {"type": ["string", "null"], "format": "date-time"},
                       "attempts": {"type": "integer"}, "reason": _TEXT}},
    "Effect": {
        "type": "object", "required": ["key", "kind", "i", "session", "status", "created", "finished"],
        "properties": {"key": _TEXT, "kind": {"enum": ["create", "set", "action"]}, "i": _TEXT, "session": _TEXT,
                       "status": {"enum": ["pending", "applied", "failed"]},
                       "created": {"type": "string", "format": "date-time"},
                       "finished": {"type": ["string", "null"], "format": "date-time"}, "reason": _TEXT}},
    "Commands": {
        "type": "object", "required": ["commands"],
        "properties": {"commands": {"type": "array", "items": {
            "type": "object", "required": ["action"],
            "properties": {"action": _TEXT, "value": _ANY, "extra": _ANY}}}}},
    "SessionList": {
        "type": "object", "required": ["items", "next_id"],
        "properties": {"next_id": _NULLABLE_TEXT, "items": {"type": "array", "items": {
            "type": "object", "required": ["filename", "session"],
            "properties": {"filename": _TEXT, "session": _TEXT, "title": _TEXT,
                           "utc_modtime": _TEXT, "utc_starttime": _TEXT, "steps": {"type": "integer"},
                           "encrypted": {"type": "boolean"}, "user_id": {"type": ["integer", "string", "null"]},
                           "tags": {"type": "array", "items": _TEXT}}}}}},
    "Stashed": {"type": "object", "required": ["stash_key", "secret"],
                "properties": {"stash_key": _TEXT, "secret": _TEXT}},
    "NewUser": {"type": "object", "required": ["user_id", "password"],
                "properties": {"user_id": {"type": ["integer", "string"]}, "password": _TEXT}},
    "Snapshots": {
        "type": "object", "required": ["items", "next"],
        "properties": {"next": _NULLABLE_TEXT, "items": {"type": "array", "items": {
            "type": "object", "required": ["session", "key", "data"],
            "properties": {"session": _TEXT, "key": _TEXT, "persistent": {"type": "boolean"},
                           "encrypted": {"type": "boolean"}, "modified": _ANY, "data": _ANY, "note": _TEXT}}}}},
    "Queued": {"type": "object", "required": ["queued"], "properties": {"queued": {"type": "integer"}}},
}

_ERROR = _json(_ref("Error"))
_BAD = Reply(400, "Missing or invalid parameters", _ERROR)
_DENIED = Reply(403, "No valid API key, a wrong secret, or a key without the privilege", _ERROR)
_MISSING = Reply(404, "Unknown interview or session", _ERROR)
_CONFLICT = Reply(409, "Other writers kept changing the session; nothing was written", _ERROR)
_TOO_BIG = Reply(413, "The request or one of its values is over its size limit", _ERROR)
_ERRORS = (_BAD, _DENIED, _MISSING, _TOO_BIG)
_TURN_ERRORS = (*_ERRORS, _CONFLICT)
_REDIRECT = Reply(302, "The interview answered with a redirect (`response(url=...)`)")
_RAW = {"*/*": _ANY}  # what the interview's `response()` returned, in its own type
_QUESTION = Reply(200, "The current screen, or what the interview's `response()` returned",
                  {**_json(_ref("Question")), **_RAW})
_NO_CONTENT = Reply(204, "Done")

_INTERVIEW: Schema = {"type": "string", "examples": ["actions.yml"]}
_I = Param("i", "The interview's file name, as on the interview path (e.g. actions.yml)", required=True,
           schema=_INTERVIEW)
_SESSION = Param("session", "The session id that /api/session/new returned", required=True)
_SECRET = Param("secret", "The session's secret (an encrypted session)")
_SESSION_PARAMS = (_I, _SESSION, _SECRET)
_SESSION_BODY: dict[str, Schema] = {"i": _INTERVIEW, "session": _TEXT, "secret": _TEXT}


def _session_link(operation_id: str) -> dict[str, Any]:
    """A link from /api/session/new's answer to an operation on that session (query parameters)."""
    return {"operationId": operation_id, "parameters": {
        "i": "$response.body#/i", "session": "$response.body#/session", "secret": "$response.body#/secret"}}


_NEW_SESSION_LINKS = {name: _session_link(op_id) for name, op_id in (
    ("Question", "get_session_question"), ("Variables", "get_session"), ("Tasks", "get_session_tasks"),
    ("File", "get_session_file"), ("Effects", "get_session_effects"), ("Delete", "delete_session"))}
_STASH_LINKS = {"Retrieve": {"operationId": "get_retrieve_stashed_data", "parameters": {
    "stash_key": "$response.body#/stash_key", "secret": "$response.body#/secret"}}}


def _body(**properties: Schema) -> Schema:
    return {"type": "object", "properties": {**_SESSION_BODY, **properties}}


OPERATIONS: tuple[Operation, ...] = (
    Operation("GET", "/api/session/new", "Start a session",
              "Other query parameters become the session's url_args.",
              (_I, Param("secret", "Your own secret for the new session (16 characters or more)")),
              replies=(Reply(200, "The new session", _json(_ref("NewSession")), _NEW_SESSION_LINKS), *_ERRORS)),
    Operation("GET", "/api/session/question", "The current screen", params=_SESSION_PARAMS,
              replies=(_QUESTION, _REDIRECT, *_TURN_ERRORS)),
    Operation("POST", "/api/session", "Set variables, then (by default) return the next screen",
              "Files: send multipart/form-data with the files as parts and `file_variables` (JSON: part name -> "
              "variable name), as docassemble's API; each becomes a DAFileList.",
              body=_body(variables=_OBJECT, delete_variables={"type": "array", "items": _TEXT},
                         event_list={"type": "array", "items": _TEXT}, question_name=_TEXT,
                         raw=_FLAG, question=_FLAG, overwrite=_FLAG),
              body_required=("i", "session"),
              replies=(_QUESTION, _NO_CONTENT, _REDIRECT, *_TURN_ERRORS)),
    Operation("GET", "/api/session", "The session's variables as JSON", params=_SESSION_PARAMS,
              replies=(Reply(200, "The variables", _json(_OBJECT)), *_TURN_ERRORS)),
    Operation("DELETE", "/api/session", "Delete a session",
              "Needs the session's secret for an encrypted session unless the key is an admin's.",
              params=_SESSION_PARAMS, replies=(_NO_CONTENT, *_TURN_ERRORS)),
    Operation("POST", "/api/session/action", "Run an action in the session",
              body=_body(action=_TEXT, arguments=_OBJECT, persistent=_FLAG, overwrite=_FLAG),
              body_required=("i", "session", "action"),
              replies=(Reply(200, "What the action's `response()` returned", _RAW), _NO_CONTENT, *_TURN_ERRORS)),
    Operation("POST", "/api/session/back", "Go back one step", body=_body(question=_FLAG),
              body_required=("i", "session"), replies=(_QUESTION, _NO_CONTENT, _REDIRECT, *_TURN_ERRORS)),
    Operation("GET", "/api/session/file", "Download an assembled document or a received mail's attachment",
              params=(*_SESSION_PARAMS, Param("file", "<file id>/<filename>, as in the question's attachments",
                                               required=True)),
              replies=(Reply(200, "The file, in the type its bytes show (PDF, DOCX, an image, text, …)",
                             {"*/*": _ANY}), *_TURN_ERRORS)),
    Operation("GET", "/api/session/tasks", "The session's background tasks", params=_SESSION_PARAMS,
              replies=(Reply(200, "The tasks", _json({"type": "array", "items": _ref("Task")})), *_TURN_ERRORS)),
    Operation("GET", "/api/session/effects", "The changes the session asked for in other sessions",
              "Also applies any change still pending a minute after its step was saved.", params=_SESSION_PARAMS,
              replies=(Reply(200, "The changes", _json({"type": "array", "items": _ref("Effect")})), *_TURN_ERRORS)),
    Operation("POST", "/api/session/checkin", "Run the current screen's check-in, as the browser would",
              body=_body(parameters=_OBJECT, changed=_NULLABLE_TEXT, initial=_FLAG),
              body_required=("i", "session"),
              replies=(Reply(200, "Commands for the client", _json(_ref("Commands"))), *_TURN_ERRORS)),
    Operation("GET", "/api/interviews", "List sessions (admin or advocate)",
              params=(Param("i", "Only sessions of this interview"), Param("session", "Only this session")),
              replies=(Reply(200, "The sessions", _json(_ref("SessionList"))), *_ERRORS)),
    Operation("DELETE", "/api/interviews", "Delete the listed sessions (admin or advocate)",
              params=(Param("i", "Only sessions of this interview"), Param("session", "Only this session")),
              replies=(_NO_CONTENT, *_TURN_ERRORS)),
    Operation("POST", "/api/stash_data", "Keep data outside any session",
              body={"type": "object", "properties": {
                  "data": _ANY, "expire": {"type": ["integer", "string", "null"],
                                           "description": "seconds until it is deleted"}, "raw": _FLAG}},
              body_required=("data",),
              replies=(Reply(200, "The key and the secret that open it", _json(_ref("Stashed")), _STASH_LINKS),
                       *_ERRORS)),
    Operation("GET", "/api/retrieve_stashed_data", "Read stashed data",
              params=(Param("stash_key", "As /api/stash_data returned it", required=True),
                      Param("secret", "As /api/stash_data returned it", required=True),
                      Param("delete", "Delete it once read", schema=dict(_FLAG)),
                      Param("refresh", "Keep it this many more seconds")),
              replies=(Reply(200, "The data", _json(_ANY)), *_ERRORS)),
    Operation("POST", "/api/user/new", "Create an account (admin)",
              body={"type": "object", "properties": {
                  "username": _TEXT, "email": _TEXT, "password": _TEXT, "first_name": _TEXT, "last_name": _TEXT,
                  "privileges": {"type": ["string", "array"], "items": _TEXT}}},
              body_required=("username",),
              replies=(Reply(200, "The new user's id and password", _json(_ref("NewUser"))), *_ERRORS)),
    Operation("GET", "/api/secret", "A user's secret: the key that opens their encrypted sessions and stores",
              "Limited to a few attempts per account and per client in 15 minutes (429 beyond). Sent as"
              " `secret` with an API key of the same user, it also reads and stores their encrypted"
              " DAStore values.",
              params=(Param("username", "The user's e-mail address", required=True),
                      Param("password", "The user's password", required=True)),
              replies=(Reply(200, "The secret", _json(_TEXT)), *_ERRORS,
                       Reply(429, "Too many attempts; try again later", _ERROR))),
    Operation("GET", "/api/user/interviews", "The API key owner's own sessions",
              params=(Param("i", "Only sessions of this interview"), Param("session", "Only this session")),
              replies=(Reply(200, "The sessions", _json(_ref("SessionList"))), *_ERRORS)),
    Operation("DELETE", "/api/user/interviews", "Delete the API key owner's own sessions (those listed)",
              params=(Param("i", "Only sessions of this interview"), Param("session", "Only this session")),
              replies=(_NO_CONTENT, *_TURN_ERRORS)),
    Operation("GET", "/api/snapshots", "An interview's variable snapshots, a page at a time (admin)",
              params=(Param("i", "The interview", required=True, schema=_INTERVIEW),
                      Param("session", "Only this session's"), Param("tag", "Only snapshots stored under this key"),
                      Param("secret", "With session: opens that session's encrypted snapshots"),
                      Param("limit", "At most this many (1 to 100; default 50)"),
                      Param("next", "The `next` of the previous page")),
              replies=(Reply(200, "A page of snapshots", _json(_ref("Snapshots"))), *_ERRORS)),
    Operation("POST", "/api/cron", "Run a scheduled pass now (admin)",
              body={"type": "object", "properties": {
                  "type": {"enum": ["cron_hourly", "cron_daily", "cron_weekly", "cron_monthly"]}},
                  "examples": [{"type": "cron_hourly"}]},
              body_required=("type",),
              replies=(Reply(200, "How many session runs were queued", _json(_ref("Queued"))), *_ERRORS)),
    Operation("GET", "/api/openapi.json", "This description", public=True,
              replies=(Reply(200, "The OpenAPI 3.1 document", _json(_OBJECT)),)),
)


def _operation(op: Operation) -> dict[str, Any]:
    out: dict[str, Any] = {"summary": op.summary, "operationId": _operation_id(op)}
    if op.description:
        out["description"] = op.description
    if op.params:
        out["parameters"] = [{"name": p.name, "in": "query", "required": p.required, "description": p.description,
                              "schema": p.schema} for p in op.params]
    if op.body is not None:
        schema = {**op.body, "required": list(op.body_required)} if op.body_required else op.body
        out["requestBody"] = {
            "required": bool(op.body_required),
            "description": "JSON; application/x-www-form-urlencoded and multipart/form-data are accepted too, "
                           "with object and list values sent as JSON text.",
            "content": {"application/json": {"schema": schema}}}
    out["responses"] = {str(r.status): _reply(r) for r in op.replies}
    out["security"] = [] if op.public else [{"header": []}, {"query": []}, {"bearer": []}]
    return out


def _reply(reply: Reply) -> dict[str, Any]:
    out: dict[str, Any] = {"description": reply.description}
    if reply.content:
        out["content"] = {media: {"schema": schema} for media, schema in reply.content.items()}
    if reply.links:
        out["links"] = dict(reply.links)
    return out


def _operation_id(op: Operation) -> str:
    words = op.path.removeprefix("/api/").replace(".json", "").replace("/", "_")
    return f"{op.method.lower()}_{words}"


def document(server_url: str = "/") -> dict[str, Any]:
    """The OpenAPI document; `server_url` is where the API is served (its base path)."""
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {"title": "serverless-interviews REST API", "version": VERSION,
                 "description": "docassemble-compatible interview sessions; every error is JSON "
                                "{\"error\": message} with a 4xx status. See README.md, 'The REST API'."},
        "servers": [{"url": server_url}],
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "header": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
                "query": {"type": "apiKey", "in": "query", "name": "key"},
                "bearer": {"type": "http", "scheme": "bearer"}}},
    }


def documented_routes() -> set[tuple[str, str]]:
    """(method, path) of every documented operation."""
    return {(op.method, op.path) for op in OPERATIONS}
