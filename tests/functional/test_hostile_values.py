"""Hostile values through every sink: what a user typed is text, never markup that runs.

Each value of HOSTILE is given as an answer (and as a URL argument) to
tests/fixtures/interviews/every_sink.yml, which interpolates it into the question,
subquestion (Markdown links and images too), under, right, help, field labels and
help, static and code choice labels, a note and an `html` item, the flash of
`log()`, a `message()` screen with its buttons, a check-in target filled by code
and by a template, and an assembled document. Every HTML that comes out — the
browser's page, the API's question JSON, the check-in reply — is parsed and must
hold no executable markup: no script but ours, no event handler, no style, no
frame or plugin, no URL with a scheme other than http, https, mailto and tel.
"""

from __future__ import annotations

import html
import io
import re
import zipfile
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote

import pytest

from tests.conftest import Api
from tests.functional.api.helpers import ApiSession, ok_json, plain
from tests.functional.test_web_bad_input import Browser

HOSTILE = [
    "*hi*{: onmouseover=alert(1) }",
    "[x](javascript:alert(1))",
    "<script>alert(1)</script>",
    '"><script>alert(1)</script>',
    "' onmouseover='alert(1)",
    '" onmouseover="alert(1)" x="',
    "<img src=x onerror=alert(1)>",
    "![x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](java\tscript:alert(1))",
    "javascript:alert(1)",
    " javascript:alert(1)",
    "&#106;avascript&#58;alert(1)",
    '<a href="javascript:alert(1)">x</a>',
    "<svg onload=alert(1)>",
    '<iframe src="javascript:alert(1)"></iframe>',
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&#60;script&#62;alert(1)&#60;/script&#62;",
    "<<script>script>alert(1)<</script>/script>",
    "${ 7*191 }",
    "<% import os %>${ os.getpid() }",
    "\ue0000\ue001 \ue0001\ue001",
    "[TARGET feedback]",
    "<style>body{display:none}</style>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "{: .x onclick=alert(1) }",
    "<details open ontoggle=alert(1)>",
    "<form action=javascript:alert(1)><input type=submit></form>",
    '<base href="javascript:alert(1)//">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    "\u202e<script>alert(1)</script>",
    "\uff1cscript\uff1ealert(1)\uff1c/script\uff1e",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    '<object data="javascript:alert(1)"></object>',
    "[x][y]\n\n[y]: javascript:alert(1)",
    "`<script>alert(1)</script>`",
    "<!--<script>alert(1)</script>-->",
    "[x](vbscript:msgbox(1))",
    "[[x]](javascript:alert(1)) [x]( javascript:alert(1) )",
    "<a href=\" javascript:alert(1)\">x</a>",
]
_SAFE_SCHEMES = {"http", "https", "mailto", "tel"}
_URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "background", "poster"}
_FORBIDDEN_TAGS = {"iframe", "frame", "object", "embed", "svg", "math", "style", "base", "applet", "frameset"}


class _Inspector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag in _FORBIDDEN_TAGS:
            self.problems.append(f"<{tag}>")
        if tag == "script" and not (found.get("src") or "").startswith("/static/"):
            self.problems.append("<script> not from /static")
        if tag == "meta" and "http-equiv" in found and not re.fullmatch(r"\d+", found.get("content") or ""):
            self.problems.append(f"<meta http-equiv content={found.get('content')!r}>")
        for name, value in attrs:
            if name.startswith("on") or name in ("style", "srcdoc"):
                self.problems.append(f"<{tag} {name}=...>")
            if name in _URL_ATTRIBUTES and value is not None and not _safe_url(value):
                self.problems.append(f"<{tag} {name}={value!r}>")

    handle_startendtag = handle_starttag


def _safe_url(value: str) -> bool:
    """Is `value` (an attribute value as the browser sees it, entities already decoded) a safe URL?"""
    cleaned = re.sub(r"[\x00-\x20\x7f]", "", value).lower()
    scheme = re.match(r"^([a-z][a-z0-9+.-]*):", cleaned)
    return scheme is None or scheme.group(1) in _SAFE_SCHEMES


def assert_inert(markup: str, where: str) -> None:
    inspector = _Inspector()
    inspector.feed(markup)
    inspector.close()
    assert not inspector.problems, f"{where}: {inspector.problems}\n{markup}"


def _html_of_question(data: dict[str, Any]) -> str:
    parts = [str(data.get(k, "")) for k in ("questionText", "subquestionText", "underText", "rightText",
                                            "helpText")]
    for field in data.get("fields", []):
        parts += [str(field.get("label", "")), str(field.get("helptext", "")), str(field.get("note", ""))]
        parts += [str(c.get("label", "")) for c in field.get("choices", [])]
    return "\n".join(parts)


@pytest.fixture
def started(client: Any, api: Api) -> Any:
    def start(value: str) -> tuple[Browser, ApiSession]:
        browser = Browser(client)
        page = browser.get(f"/interview?i=every_sink.yml&planted={quote(value, safe='')}")
        assert page.status_code == 200, page.body
        session_id, secret = browser.cookie.split("=", 1)[1].split(".")
        return browser, ApiSession(api, "every_sink.yml", session_id, secret)

    return start


def _each(values: list[str], check: Any) -> None:
    """Run `check` on every value (one session each, in one test: the AWS setup is paid once);
    fail with every value that failed and why."""
    failed = []
    for value in values:
        try:
            check(value)
        except AssertionError as err:
            failed.append(f"{value!r}: {err}")
    assert not failed, "\n\n".join(failed)


def _without_tokens(text: str) -> str:
    """The text with random hex tokens (CSRF, screen, session ids) taken out: they may hold "1337"."""
    return re.sub(r"[0-9a-f]{16,}", "", text)


def test_a_hostile_answer_is_text_on_every_screen_sink(started: Any) -> None:
    _each(HOSTILE, lambda value: _screen_sinks(started, value))


def _screen_sinks(started: Any, value: str) -> None:
    browser, session = started(value)
    question = ok_json(session.set({"name": value, "show": ""}, raw=True))
    assert_inert(_html_of_question(question), "API question")
    # The question's own line is the user's text, character for character (whitespace aside).
    assert " ".join(value.split()) in plain(question["questionText"])
    assert "1337" not in _without_tokens(str(question))  # ${ 7*191 } was never evaluated
    page = browser.page("/interview?i=every_sink.yml")
    assert_inert(page, "browser page")
    assert html.escape(value.strip(), quote=True) in page or value.strip() in plain(page)
    flash = re.search(r'<div id="flash"[^>]*>(.*?)</div></div>', page, re.S)
    assert flash is not None and " ".join(value.split()) in plain(flash.group(1))
    assert "1337" not in _without_tokens(page)


def test_a_hostile_answer_is_text_in_check_in_targets(started: Any) -> None:
    _each(HOSTILE, lambda value: _target_sinks(started, value))


def _target_sinks(started: Any, value: str) -> None:
    _, session = started(value)
    ok_json(session.set({"name": value, "show": ""}, raw=True))
    for shown in ("a", "b"):  # a: filled by code, b: by a template with a target
        reply = ok_json(session.api.post("/api/session/checkin", {**session.ref, "parameters": {"shown": shown}}))
        (command,) = [c for c in reply["commands"] if c["extra"] == "backgroundresponse"]
        content = command["value"]["content"]
        assert_inert(content, f"check-in target ({shown})")
        assert " ".join(value.split()) in plain(content)


def test_a_hostile_answer_is_text_on_a_message_screen(started: Any) -> None:
    _each(HOSTILE, lambda value: _message_sinks(started, value))


def _message_sinks(started: Any, value: str) -> None:
    browser, session = started(value)
    question = ok_json(session.set({"name": value, "show": "message"}, raw=True))
    assert_inert(_html_of_question(question), "API message")
    assert plain(question["questionText"]) == " ".join(value.split())
    labels = [c["label"] for c in question["fields"][0]["choices"]]
    assert html.unescape(labels[0]) == value
    page = browser.page("/interview?i=every_sink.yml")
    assert_inert(page, "message page")
    assert "1337" not in _without_tokens(page)


def test_a_hostile_answer_is_text_in_an_assembled_document(started: Any) -> None:
    _each(HOSTILE[:12], lambda value: _document_sink(started, value))


def _document_sink(started: Any, value: str) -> None:
    _, session = started(value)
    question = ok_json(session.set({"name": value, "show": ""}, raw=True))
    (attachment,) = question["attachments"]
    result = session.api.get(attachment["url"]["docx"] + f"&secret={session.secret}")
    assert result.status == 200, result.body
    with zipfile.ZipFile(io.BytesIO(result.body)) as docx:
        relations = docx.read("word/_rels/document.xml.rels").decode()
        body = docx.read("word/document.xml").decode()
    targets = re.findall(r'Target="([^"]*)"', relations)
    assert all(_safe_url(html.unescape(t)) for t in targets), targets
    words = " ".join(html.unescape(t) for t in re.findall(r"<w:t[^>]*>([^<]*)</w:t>", body))
    assert value.split()[0].strip("\ue000\ue001")[:4] in words


def test_a_redirect_to_an_answered_address_cannot_add_a_header(client: Any, api: Api) -> None:
    # Given exit.yml, whose exit command goes to the address the user chose (set here through the API)
    browser = Browser(client)
    browser.get("/interview?i=exit.yml")
    session_id, secret = browser.cookie.split("=", 1)[1].split(".")
    session = ApiSession(api, "exit.yml", session_id, secret)
    result = session.set({"target_url": "https://example.org/\r\nSet-Cookie: planted=1"}, raw=True, question=False)
    assert result.status == 204, result.body
    # When the browser shows the session, which exits to that address
    response = browser.get("/interview?i=exit.yml")
    # Then the line break is encoded inside the Location header: no header is added
    assert response.status_code == 302
    assert response.headers["Location"] == "https://example.org/%0D%0ASet-Cookie:%20planted=1"
    assert all("planted" not in cookie for cookie in response.headers.get("Set-Cookie", []))
