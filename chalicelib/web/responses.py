"""Raw responses from `response()`: text bodies as str, binary bodies as bytes.

Chalice sends a str body as is and base64-encodes bytes only for content types
listed in `app.api.binary_types`, so text must be handed over as str.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from chalice import Response

from chalicelib.web.page import CONTENT_SECURITY_POLICY

_TEXT_TYPES = ("text/", "application/json", "application/javascript", "application/xml")


def raw_response(body: bytes, content_type: str, status: int, headers: Mapping[str, Any] | None = None) -> Response:
    textual = content_type.startswith(_TEXT_TYPES) or "+json" in content_type or "+xml" in content_type
    payload: str | bytes = body.decode("utf-8", errors="replace") if textual else body
    # An HTML body from `response()` is a page too: the same policy (no inline scripts), no sniffing.
    policy = {"Content-Security-Policy": CONTENT_SECURITY_POLICY} if content_type.startswith("text/html") else {}
    return Response(body=payload, status_code=status, headers={
        "Content-Type": content_type, "X-Content-Type-Options": "nosniff", **policy, **(headers or {})})


_UNSAFE_IN_HEADER = re.compile(r"[\x00-\x20\x7f]")


def location(url: str) -> str:
    """A redirect target (often from interview code or a user's answer) fit for the Location header:
    control characters and spaces percent-encoded, so no value can add a header or split the reply."""
    return _UNSAFE_IN_HEADER.sub(lambda m: quote(m.group()), url)
