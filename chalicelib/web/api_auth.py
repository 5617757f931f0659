"""API key lookup, in docassemble's order, and the JSON error responses.

A key is looked for in the `key` query parameter, a `key` field of the body, an
`X-API-Key` cookie, an `X-API-Key` header, then `Authorization: Bearer`; whose it
is, runtime.api_keys says (keys are stored only as hashes, lookups are cached).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from http.cookies import SimpleCookie
from typing import Any

from chalice import Response

from chalicelib.engine.request import UserInfo
from chalicelib.runtime import api_keys
from chalicelib.storage.records import User
from chalicelib.web import context
from chalicelib.web.errors import RequestError


class ApiError(RequestError):
    """An error answered as JSON {"error": message} with an HTTP status."""


def error_response(status: int, message: str) -> Response:
    return Response(body=json.dumps({"error": message}), status_code=status,
                    headers={"Content-Type": "application/json", "Access-Control-Allow-Origin": "*",
                             "Cache-Control": "no-store"})


def find_key(query: Mapping[str, str], body: Mapping[str, Any], headers: Mapping[str, str]) -> str | None:
    if query.get("key"):
        return str(query["key"])
    if isinstance(body, Mapping) and body.get("key"):
        return str(body["key"])
    cookie_header = headers.get("cookie")
    if cookie_header:
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(cookie_header)
            if "X-API-Key" in jar:
                return jar["X-API-Key"].value
        except Exception:  # a malformed cookie header holds no key
            pass
    if headers.get("x-api-key"):
        return str(headers["x-api-key"])
    auth = headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    return None


def authenticate(key: str | None) -> User:
    if not key:
        raise ApiError(403, "Access denied.")
    user = api_keys.user_for_key(context.services(), key)
    if user is None or not user.active:
        raise ApiError(403, "Access denied.")
    return user


def clear_cache() -> None:
    api_keys.clear_cache()


def user_info(user: User) -> UserInfo:
    return UserInfo(id=user.id, email=user.email, first_name=user.first_name or "", last_name=user.last_name or "",
                    privileges=tuple(user.privileges), logged_in=True)


def require_privilege(user: User, *names: str) -> None:
    if not set(names) & set(user.privileges):
        raise ApiError(403, "Access denied.")
