"""Raw responses from `response()`: text bodies as str, binary bodies as bytes.

Chalice sends a str body as is and base64-encodes bytes only for content types
listed in `app.api.binary_types`, so text must be handed over as str.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalice import Response

_TEXT_TYPES = ("text/", "application/json", "application/javascript", "application/xml")


def raw_response(body: bytes, content_type: str, status: int, headers: Mapping[str, Any] | None = None) -> Response:
    textual = content_type.startswith(_TEXT_TYPES) or "+json" in content_type or "+xml" in content_type
    payload: str | bytes = body.decode("utf-8", errors="replace") if textual else body
    return Response(body=payload, status_code=status, headers={"Content-Type": content_type, **(headers or {})})
