"""How an uploaded file is served: the type its bytes show, never HTML, never sniffed by the browser.

Every file response carries `X-Content-Type-Options: nosniff`, a `Content-Disposition`
with the file's clean name (inline only for images and PDFs), and a Content-Security-Policy
that runs nothing (`sandbox`), so even a file that holds HTML or script is inert.
"""

from __future__ import annotations

from chalice import Response

from chalicelib.runtime.uploads import inline, served_type

FILE_HEADERS = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'; sandbox",
                "X-Frame-Options": "DENY"}
# Content types the app serves as bytes (app.py declares them binary for API Gateway).
BINARY_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp", "application/zip", "application/octet-stream",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "application/vnd.openxmlformats-officedocument.presentationml.presentation", "multipart/form-data")


def file_response(data: bytes, filename: str, cache: str = "private, no-store") -> Response:
    content_type = served_type(data)
    disposition = "inline" if inline(content_type) else "attachment"
    safe = "".join(c for c in filename if c.isascii() and (c.isalnum() or c in "._-")) or "file"
    body: bytes | str = data.decode("utf-8") if content_type.startswith("text/plain") else data
    return Response(body=body, status_code=200, headers={
        **FILE_HEADERS, "Content-Type": content_type, "Cache-Control": cache,
        "Content-Disposition": f'{disposition}; filename="{safe}"'})
