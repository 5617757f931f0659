"""Helpers for the REST API tests: one session driven through /api/*, and checks of answers and texts."""

from __future__ import annotations

import base64
import html
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

from tests.conftest import Api, ApiResult


@dataclass
class ApiSession:
    api: Api
    interview: str
    session: str
    secret: str

    @property
    def ref(self) -> dict[str, str]:
        return {"i": self.interview, "session": self.session, "secret": self.secret}

    def query(self, **extra: str) -> str:
        return urlencode({**self.ref, **extra})

    def question(self) -> ApiResult:
        return self.api.get(f"/api/session/question?{self.query()}")

    def set(self, variables: dict[str, Any], **extra: Any) -> ApiResult:
        return self.api.post("/api/session", {**self.ref, "variables": variables, **extra})

    def action(self, action: str, **extra: Any) -> ApiResult:
        return self.api.post("/api/session/action", {**self.ref, "action": action, **extra})

    def back(self, **extra: Any) -> ApiResult:
        return self.api.post("/api/session/back", {**self.ref, **extra})

    def variables(self) -> ApiResult:
        return self.api.get(f"/api/session?{self.query()}")


def ok_json(result: ApiResult, status: int = 200) -> dict[str, Any]:
    """The JSON object of a successful answer (fails with the body otherwise)."""
    assert result.status == status, result.body
    assert content_type(result).startswith("application/json"), result.headers
    data = result.json
    assert isinstance(data, dict), data
    return data


def content_type(result: ApiResult) -> str:
    for name, value in result.headers.items():
        if name.lower() == "content-type":
            return str(value)
    return ""


def plain(markup: str) -> str:
    """Text of an HTML/Markdown fragment with tags dropped and whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def links(markup: str) -> list[str]:
    return [html.unescape(href) for href in re.findall(r'href="([^"]*)"', markup)]


def decoded_action(href: str) -> Any:
    """The {"action", "arguments"} that a url_action() link carries in its `action` parameter."""
    (encoded,) = parse_qs(urlparse(href).query)["action"]
    encoded = encoded.replace("-", "+").replace("_", "/")
    return json.loads(base64.b64decode(encoded + "=" * (-len(encoded) % 4)))
