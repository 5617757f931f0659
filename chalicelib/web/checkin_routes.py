"""The browser's check-in: POST /checkin?i=NAME (cookie session, CSRF token).

The page's script (static/checkin.js) posts the form's values 100 ms after the
page loads, on every change of a field and every CHECKIN_INTERVAL ms, and applies
the returned commands (flash, refresh, javascript, fields, backgroundresponse):
the reply of the screen's `check in` action (run as a turn over the current
step, see Sessions.checkin) followed by the notifications of finished
background tasks.
"""

from __future__ import annotations

import json
import logging
import random
from typing import Any
from urllib.parse import parse_qs

from chalice import Blueprint, Response

from chalicelib.runtime.sessions import SessionRef
from chalicelib.storage.errors import SessionNotFoundError, StorageError
from chalicelib.web import context, cookies

log = logging.getLogger(__name__)
bp = Blueprint(__name__)


def _json(data: Any, status: int = 200) -> Response:
    return Response(body=json.dumps(data), status_code=status,
                    headers={"Content-Type": "application/json", "Cache-Control": "no-store"})


def _form() -> dict[str, Any]:
    raw = bp.current_request.raw_body or b""
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    if bp.current_request.headers.get("content-type", "").startswith("application/json"):
        try:
            data = json.loads(text or "{}")
        except ValueError:
            return {}
        return {str(k): v for k, v in data.items()} if isinstance(data, dict) else {}
    return {key: values[-1] for key, values in parse_qs(text, keep_blank_values=True).items()}


def _parameters(raw: Any) -> dict[str, Any]:
    """The form's values as the page sent them: JSON of {variable: raw value}."""
    if isinstance(raw, dict):
        return dict(raw)
    try:
        data = json.loads(raw) if isinstance(raw, str) and raw else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


@bp.route("/checkin", methods=["POST"], content_types=["application/x-www-form-urlencoded", "application/json"])
def checkin() -> Response:
    query: dict[str, str] = dict(bp.current_request.query_params or {})
    name = query.get("i", "")
    held = cookies.read_session_cookie(bp.current_request.headers.get("cookie"), name) if name else None
    if held is None:
        return _json({"success": False, "error": "no session for this interview in this browser"}, 400)
    form = _form()
    services = context.services()
    token = str(form.get("csrf_token") or bp.current_request.headers.get("x-csrf-token") or "")
    if not cookies.csrf_ok(services.keys.csrf, held[0], token):
        return _json({"success": False, "error": "the check-in's security token is missing or wrong"}, 403)
    parameters = _parameters(form.get("parameters"))
    changed = parameters.pop("_changed", None)
    initial = str(parameters.pop("_initial", "")).lower() in ("true", "1")
    try:
        commands = context.sessions().checkin(SessionRef(name, held[0], held[1]), parameters,
                                              str(changed) if changed else None, initial)
    except SessionNotFoundError:
        return _json({"success": False, "error": "the session is gone"}, 404)
    except StorageError as err:
        log.warning("check-in of %s refused: %s", name, err)
        return _json({"success": False, "error": "the session cannot be opened"}, 403)
    return _json({"success": True, "commands": commands,
                  "checkin_code": form.get("checkinCode") or random.randint(0, 10**9)})
