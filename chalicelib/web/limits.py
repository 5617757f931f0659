"""Bounds on what one request may carry, checked before the work it would cause.

`MAX_REQUEST_BYTES` bounds a whole request body: the routes call `body_bytes`
before they parse it. `MAX_ANSWER_BYTES` bounds one value in it (a form answer,
a URL argument, one of the API's variables, arguments or check-in parameters,
counted with its name): the routes check those before anything is saved. A
request carries at most MAX_FIELDS form fields or entries of one object, since
each costs work (a variable name is parsed, a MIME part read). Forms are read
by `parse_form` in time linear in the body, JSON by `parse_json`, which refuses
integers of more than MAX_JSON_INT_DIGITS digits (Python would spend quadratic
time converting them, and a stored one breaks every page that prints it);
`check_values` refuses lists and objects nested more than MAX_DEPTH levels deep.

A refusal is a LimitError with the HTTP status to answer (413 for too big, 400
for a malformed number or nesting) and a message that says what is accepted;
a too-long answer on a screen is instead a field error (`Sessions.answer_screen`
checks it), so the screen is asked again like for any other invalid input.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote_plus

from chalicelib.engine.request import Upload
from chalicelib.settings import Settings
from chalicelib.web.errors import RequestError

MAX_FIELDS = 1000
MAX_WANTED_NAME_CHARS = 64  # a field a route asks for by name has a short name, even %-escaped
MAX_JSON_INT_DIGITS = 100
MAX_DEPTH = 32
_SHOWN_NAME = 40  # characters of a refused value's name repeated in the message
# The API's parameters that map names to values (each of their values is one value), and lists of names.
_API_MAPPINGS = ("variables", "arguments", "parameters", "url_args", "data")
_API_NAME_LISTS = ("delete_variables", "event_list")


class LimitError(RequestError):
    """A request or a value in it is larger than the settings allow; answered with `status`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(status, message, title="Too much to send")


def body_bytes(raw: str | bytes | None, settings: Settings, uploads: bool = False) -> bytes:
    """The request body as bytes; LimitError (413) when it is longer than MAX_REQUEST_BYTES (with
    `uploads`, a form that may carry files: MAX_REQUEST_BYTES + MAX_UPLOAD_BYTES)."""
    limit = settings.max_request_bytes + (settings.max_upload_bytes if uploads else 0)
    if raw is None:
        return b""
    if len(raw) > limit:  # a character is at least one byte: refuse before encoding
        raise _body_too_big(len(raw), limit, uploads)
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    if len(data) > limit:
        raise _body_too_big(len(data), limit, uploads)
    return data


def _body_too_big(size: int, limit: int, uploads: bool = False) -> LimitError:
    which = "MAX_REQUEST_BYTES, and MAX_UPLOAD_BYTES more for files" if uploads else "MAX_REQUEST_BYTES"
    return LimitError(413, f"The request is too large: {size:,} bytes, but at most {limit:,} bytes are accepted "
                           f"({which}). Send less at a time.")


def parse_form(raw: bytes, content_type: str, wanted: re.Pattern[str] | None = None) -> dict[str, list[str]]:
    """A posted form, urlencoded or multipart, as {name: [values]}; LimitError (413) for more
    than MAX_FIELDS fields, counted before anything is decoded. With `wanted`, only the fields
    whose whole name it matches are kept (see `parse_urlencoded`)."""
    if content_type.lower().startswith("multipart/form-data"):
        form = _multipart(raw, content_type)
        return form if wanted is None else {k: v for k, v in form.items() if wanted.fullmatch(k)}
    return parse_urlencoded(raw.decode("utf-8", errors="replace"), wanted)


def parse_urlencoded(text: str, wanted: re.Pattern[str] | None = None) -> dict[str, list[str]]:
    """name=value pairs separated by '&', %-escapes and '+' decoded, blank values kept. With
    `wanted`, the value of a field whose name it does not match is never decoded (decoding is
    the costly part: a megabyte of %-escapes takes Python a fifth of a second), nor is a name
    longer than MAX_WANTED_NAME_CHARS."""
    _check_count(text.count("&") + 1, "fields")
    form: dict[str, list[str]] = {}
    for pair in text.split("&"):
        if not pair:
            continue
        raw_name, _, raw_value = pair.partition("=")
        if wanted is not None and len(raw_name) > MAX_WANTED_NAME_CHARS:
            continue
        name = unquote_plus(raw_name)
        if wanted is None or wanted.fullmatch(name):
            form.setdefault(name, []).append(unquote_plus(raw_value))
    return form


def parse_form_files(raw: bytes, content_type: str,
                     wanted: re.Pattern[str] | None = None) -> tuple[dict[str, list[str]], dict[str, list[Upload]]]:
    """A posted form's text fields and its files ({name: [Upload]}, multipart only); as parse_form.
    A file's size is checked later, against MAX_UPLOAD_BYTES, where the refusal can be shown."""
    if not content_type.lower().startswith("multipart/form-data"):
        return parse_form(raw, content_type, wanted), {}
    fields: dict[str, list[str]] = {}
    files: dict[str, list[Upload]] = {}
    for name, filename, body in _multipart_parts(raw, content_type):
        if wanted is not None and not wanted.fullmatch(name):
            continue
        if filename is None:
            fields.setdefault(name, []).append(body.decode("utf-8", errors="replace"))
        else:
            files.setdefault(name, []).append(Upload(filename, body))
    return fields, files


def _multipart(raw: bytes, content_type: str) -> dict[str, list[str]]:
    """The text fields of multipart/form-data (parse_form_files also keeps the files)."""
    out: dict[str, list[str]] = {}
    for name, filename, body in _multipart_parts(raw, content_type):
        if filename is None:
            out.setdefault(name, []).append(body.decode("utf-8", errors="replace"))
    return out


def _multipart_parts(raw: bytes, content_type: str) -> list[tuple[str, str | None, bytes]]:
    """multipart/form-data by splitting on the boundary: linear, unlike a MIME parser that
    reads line by line and part by part. Each part's name, file name (None for a text field), bytes."""
    boundary = _header_param(content_type.encode("latin-1", "replace"), b"boundary")
    if not boundary:
        return []
    parts = raw.split(b"--" + boundary)
    _check_count(len(parts) - 2, "fields")  # the preamble before the first boundary, the end after the last
    out: list[tuple[str, str | None, bytes]] = []
    for part in parts[1:]:
        if part.startswith(b"--"):  # the closing boundary
            break
        headers, _, body = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        named = _field_name(headers)
        if named is not None:
            out.append((named[0], named[1], body.removesuffix(b"\r\n")))
    return out


def _field_name(headers: bytes) -> tuple[str, str | None] | None:
    for line in headers.split(b"\r\n"):
        key, _, value = line.partition(b":")
        if key.strip().lower() == b"content-disposition":
            name = _header_param(value, b"name")
            filename = _header_param(value, b"filename")
            if name is None:
                return None
            return (name.decode("utf-8", errors="replace"),
                    filename.decode("utf-8", errors="replace") if filename is not None else None)
    return None


def _header_param(value: bytes, wanted: bytes) -> bytes | None:
    for param in value.split(b";")[1:]:
        key, _, found = param.partition(b"=")
        if key.strip().lower() == wanted:
            return found.strip().strip(b'"')
    return None


def _check_count(count: int, what: str) -> None:
    if count > MAX_FIELDS:
        raise LimitError(413, f"The request has {count:,} {what}; at most {MAX_FIELDS:,} are accepted in one "
                              "request.")


def parse_json(text: str) -> Any:
    """json.loads, bounded: ValueError for text that is not JSON, LimitError (400) for a
    whole number of more than MAX_JSON_INT_DIGITS digits or nesting Python cannot follow."""
    try:
        return json.loads(text, parse_int=_bounded_int)
    except RecursionError as err:
        raise _too_deep() from err


def _bounded_int(digits: str) -> int:
    count = len(digits) - digits.startswith("-")
    if count > MAX_JSON_INT_DIGITS:
        raise LimitError(400, f"A number in the request has {count:,} digits; whole numbers of at most "
                              f"{MAX_JSON_INT_DIGITS} digits are accepted.")
    return int(digits)


def _too_deep() -> LimitError:
    return LimitError(400, f"The request nests lists and objects too deeply; at most {MAX_DEPTH} levels are "
                           "accepted.")


def check_values(values: Mapping[Any, Any], settings: Settings, what: str) -> None:
    """LimitError (413) if one of `values` (with its name) is larger than MAX_ANSWER_BYTES,
    (400) if one nests deeper than MAX_DEPTH."""
    limit = settings.max_answer_bytes
    _check_count(len(values), "values")
    for name, value in values.items():
        size = _size(name) + _size(value)
        if size > limit:
            raise LimitError(413, f"{what} {_shown(name)} is too large: {size:,} bytes, but at most {limit:,} "
                                  "bytes are accepted for one value (MAX_ANSWER_BYTES). Send a shorter value.")


def check_api_request(query: Mapping[str, str], body: Mapping[str, Any], settings: Settings) -> None:
    """Every URL parameter, every entry of the body's variables/arguments/parameters/url_args/data,
    and every other field of the body is one value (see check_values)."""
    check_values(query, settings, "The URL parameter")
    _check_count(len(body), "fields")
    for key, value in body.items():
        if key in _API_MAPPINGS and isinstance(value, Mapping):
            check_values(value, settings, f"The entry of {key}")
        else:
            check_values({key: value}, settings, "The field")
        if key in _API_NAME_LISTS and isinstance(value, list):
            _check_count(len(value), f"names in {key}")


def _size(value: Any) -> int:
    """Bytes of the strings in `value` (UTF-8), roughly the digits of its numbers, plus a
    little per item; LimitError (400) beyond MAX_DEPTH levels. A loop, not recursion, so
    that nesting cannot exhaust the stack."""
    total = 0
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if depth > MAX_DEPTH:
            raise _too_deep()
        if isinstance(item, str):
            total += len(item.encode("utf-8", "surrogatepass"))
        elif isinstance(item, (bytes, bytearray)):
            total += len(item)
        elif isinstance(item, int):
            total += item.bit_length() // 3 + 1  # at least the decimal digits: no str() of a huge int
        elif isinstance(item, Mapping):
            total += 2
            pending.extend((part, depth + 1) for pair in item.items() for part in pair)
        elif isinstance(item, (list, tuple, set, frozenset)):
            total += 2
            pending.extend((part, depth + 1) for part in item)
        else:
            total += 8
    return total


def _shown(name: Any) -> str:
    text = str(name) if isinstance(name, str) else type(name).__name__
    return repr(text if len(text) <= _SHOWN_NAME else text[:_SHOWN_NAME] + "...")
