"""The browser's check-in: POST /checkin?i=NAME (cookie session, CSRF token).

The page's script (static/checkin.js) posts the form's values 100 ms after the
page loads, on every change of a field and every CHECKIN_INTERVAL ms, and applies
the returned commands (flash, refresh, javascript, fields, backgroundresponse):
the reply of the screen's `check in` action (run as a turn over the current
step, see Sessions.checkin) followed by the notifications of finished
background tasks.

A page of a shared (`multi_user`) session checks in with `&session=ID` (see
web.browser_session). Failures are answered from the one table in web.errors,
as JSON {"success": false, "error": ...} with the table's status.
"""

from __future__ import annotations

import json
import random
from typing import Any

from chalice import Blueprint, Response

from chalicelib.runtime.accounts import Accounts
from chalicelib.web import account_session, browser_session, context, cookies, limits
from chalicelib.web.errors import RequestError, reply_for

bp = Blueprint(__name__)


def _json(data: Any, status: int = 200) -> Response:
    return Response(body=json.dumps(data), status_code=status,
                    headers={"Content-Type": "application/json", "Cache-Control": "no-store"})


def _form() -> dict[str, Any]:
    raw = limits.body_bytes(bp.current_request.raw_body, context.services().settings)
    text = raw.decode("utf-8", errors="replace")
    if bp.current_request.headers.get("content-type", "").startswith("application/json"):
        try:
            data = limits.parse_json(text or "{}")
        except ValueError:
            return {}
        return {str(k): v for k, v in data.items()} if isinstance(data, dict) else {}
    return {key: values[-1] for key, values in limits.parse_urlencoded(text).items()}


def _parameters(raw: Any) -> dict[str, Any]:
    """The form's values as the page sent them: JSON of {variable: raw value}."""
    if isinstance(raw, dict):
        return dict(raw)
    try:
        data = limits.parse_json(raw) if isinstance(raw, str) and raw else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


@bp.route("/checkin", methods=["POST"], content_types=["application/x-www-form-urlencoded", "application/json"])
def checkin() -> Response:
    query: dict[str, str] = dict(bp.current_request.query_params or {})
    name = query.get("i", "")
    try:
        return _checkin(name, query)
    except Exception as err:  # answered from the one table; unknown ones are logged with their traceback
        reply = reply_for(err, f"check-in of {name}")
        return _json({"success": False, "error": reply.message}, reply.status)


def _checkin(name: str, query: dict[str, str]) -> Response:
    services = context.services()
    secure = services.settings.cookie_secure
    ref = browser_session.request_ref(name, query, bp.current_request.headers.get("cookie"), secure) \
        if name else None
    if ref is None:
        raise RequestError(400, "no session for this interview in this browser")
    form = _form()
    token = str(form.get("csrf_token") or bp.current_request.headers.get("x-csrf-token") or "")
    if not cookies.csrf_ok(services.keys.csrf, ref.session_id, token):
        raise RequestError(403, "the check-in's security token is missing or wrong")
    parameters = _parameters(form.get("parameters"))
    limits.check_values(parameters, services.settings, "The check-in parameter")
    changed = parameters.pop("_changed", None)
    initial = str(parameters.pop("_initial", "")).lower() in ("true", "1")
    signed = account_session.signed_in(Accounts(services), bp.current_request.headers.get("cookie"), secure)
    commands = context.sessions().checkin(ref, parameters, str(changed) if changed else None, initial,
                                          signed.info() if signed else None)
    return _json({"success": True, "commands": commands,
                  "checkin_code": form.get("checkinCode") or random.randint(0, 10**9)})
