"""Reading a posted form: the same fields as the standard library reads, and, when a route says
which names it wants, no decoding of anything else (a megabyte of %-escapes costs Python a fifth of
a second to decode)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs

import pytest

from chalicelib.web.errors import RequestError
from chalicelib.web.limits import MAX_FIELDS, parse_form, parse_urlencoded

BODIES = ["a=1&b=2&a=3", "name=Ann+Lee&note=%3Cb%3E%20x&empty=&flag", "%5Ff0=caf%C3%A9&&x=%ZZ", "", "=v&k="]


@pytest.mark.parametrize("body", BODIES)
def test_every_field_is_read_as_the_standard_library_reads_it(body: str) -> None:
    assert parse_urlencoded(body) == parse_qs(body, keep_blank_values=True)


def test_only_the_wanted_fields_are_kept() -> None:
    wanted = re.compile(r"_f\d+|_csrf")
    body = "_f0=Ann+Lee&_x=" + "%01" * 1000 + "&_csrf=t&_f1=%3Cb%3E&" + "%5F" * 100 + "=1"
    assert parse_urlencoded(body, wanted) == {"_f0": ["Ann Lee"], "_csrf": ["t"], "_f1": ["<b>"]}
    multipart = (b"--B\r\nContent-Disposition: form-data; name=\"_f0\"\r\n\r\nAnn\r\n"
                 b"--B\r\nContent-Disposition: form-data; name=\"_x\"\r\n\r\nzzz\r\n--B--\r\n")
    assert parse_form(multipart, "multipart/form-data; boundary=B", wanted) == {"_f0": ["Ann"]}


def test_too_many_fields_are_refused_before_any_is_read() -> None:
    with pytest.raises(RequestError) as refused:
        parse_urlencoded("&".join(["_f0=x"] * (MAX_FIELDS + 1)), re.compile("_f0"))
    assert refused.value.status == 413
