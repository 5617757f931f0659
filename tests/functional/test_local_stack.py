"""`make run` end to end: the local stack as a user starts it, driven over real HTTP.

Each test starts `make run` in the repository root in its own process group,
with free ports, and reads its output from a file (no pipe can fill up and
block the stack). Every wait is bounded; on a timeout the test fails and shows
the output. Whatever happens, the process group is killed at the end.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import Message
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urljoin

import pytest

from tests.conftest import ROOT, examples_dir

pytestmark = pytest.mark.slow

READY_SECONDS = 60.0
STOP_SECONDS = 5.0
FAIL_SECONDS = 30.0
HTTP_SECONDS = 20.0
API_KEY = "LocalStackTestKey0123456789abcdef"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@dataclass
class Run:
    """A running `make run` and the file its stdout and stderr go to."""

    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def lines(self) -> list[str]:
        return self.output().splitlines()

    def wait_exit(self, seconds: float, what: str) -> int:
        try:
            return self.process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            self.dump_threads()
            pytest.fail(f"`make run` did not {what} within {seconds:g} s; output:\n{self.output()}")

    def dump_threads(self) -> None:
        """Ask a stuck stack for the stack of every thread (SIGUSR1), into the output."""
        for pid in _children_of(self.process.pid) or []:
            os.kill(pid, signal.SIGUSR1)
        time.sleep(1.0)

    def wait_ready(self) -> dict[str, str]:
        """The `name: value` lines printed before `ready`, once `ready` is printed."""
        deadline = time.monotonic() + READY_SECONDS
        while "ready" not in self.lines():
            if self.process.poll() is not None:
                pytest.fail(f"`make run` exited with {self.process.returncode} before ready; output:\n{self.output()}")
            if time.monotonic() > deadline:
                pytest.fail(f"`make run` printed no `ready` line within {READY_SECONDS:g} s; output:\n{self.output()}")
            time.sleep(0.1)
        listing = self.lines()[: self.lines().index("ready")]
        return dict(line.split(": ", 1) for line in listing if re.match(r"^[a-z][a-z ]*: ", line))

    def stack_pid(self) -> int:
        """The stack's process: make's child (the recipe execs the Python module)."""
        children = _children_of(self.process.pid)
        if children is None:
            pytest.skip(f"skipped: /proc does not list the children of make (pid {self.process.pid})")
        if len(children) != 1:
            pytest.fail(f"expected make to have one child process, found {children}; output:\n{self.output()}")
        return children[0]


def _children_of(pid: int) -> list[int] | None:
    """The child processes of `pid`, or None where /proc does not list them."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        return [int(child) for child in path.read_text().split()]
    except OSError:
        return None


@contextmanager
def make_run(tmp_path: Path, **env: str) -> Iterator[Run]:
    if shutil.which("make") is None:
        pytest.skip("skipped: `make` is not on PATH")
    log = tmp_path / "make-run.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["make", "run"], cwd=ROOT, env={**os.environ, **env}, stdin=subprocess.DEVNULL,
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    run = Run(process, log)
    try:
        yield run
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def stack_env(**extra: str) -> dict[str, str]:
    return {
        "PORT": str(free_port()), "MOTO_PORT": str(free_port()), "SMTP_PORT": str(free_port()),
        "INTERVIEW_PATH": str(examples_dir()), "API_KEY": API_KEY, **extra,
    }


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@dataclass
class Page:
    status: int
    headers: Message
    body: str

    @property
    def text(self) -> str:
        """The visible text, whitespace collapsed."""
        return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", self.body)).split())

    def hidden(self, name: str) -> str:
        found = re.search(rf'name="{re.escape(name)}" value="([^"]*)"', self.body)
        assert found, f"no hidden field {name!r} in:\n{self.body}"
        return html.unescape(found.group(1))


class Browser:
    """urllib with a cookie jar and no automatic redirects (the test follows them)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPCookieProcessor(CookieJar()), _NoRedirects()
        )

    def request(self, url: str, form: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> Page:
        data = None if form is None else urlencode(form).encode()
        request = urllib.request.Request(urljoin(self.base, url), data=data, headers=headers or {})
        if data is not None:
            request.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            with self.opener.open(request, timeout=HTTP_SECONDS) as response:
                return Page(response.status, response.headers, response.read().decode())
        except urllib.error.HTTPError as error:
            return Page(error.code, error.headers, error.read().decode())

    def follow(self, page: Page) -> Page:
        assert page.status == 303, f"expected a 303 redirect, got {page.status}:\n{page.body}"
        return self.request(page.headers["Location"])

    def submit(self, url: str, page: Page, **fields: str) -> Page:
        """The page an answer leads to: the POST's reply, or where it redirects."""
        form = {"_csrf": page.hidden("_csrf"), "_screen": page.hidden("_screen"), **fields}
        reply = self.request(url, form)
        return reply if reply.status == 200 else self.follow(reply)


def drive_actions_interview(web: Browser) -> None:
    url = "/interview?i=actions.yml"
    review = web.request(url)
    assert review.status == 200, review.body
    assert "Review your information." in review.text
    link = re.search(r'<a [^>]*href="([^"]*)"[^>]*>\s*Change this\s*</a>', review.body)
    assert link and "action=" in link.group(1), review.body

    question = web.follow(web.request(html.unescape(link.group(1))))
    assert question.status == 200 and "What is your favorite color?" in question.text, question.body

    changed = web.submit(url, question, _f0="green", _continue="1")
    assert changed.status == 200 and "Review your information." in changed.text, changed.body
    assert "Your favorite color is green." in changed.text, changed.text

    final = web.submit(url, changed, _continue="1")
    assert final.status == 200, final.body
    assert "You have submitted the fact that your favorite color is green." in final.text, final.text


def check_api(web: Browser) -> None:
    result = web.request("/api/session/new?i=actions.yml", headers={"X-API-Key": API_KEY})
    assert result.status == 200, result.body
    assert result.headers.get_content_type() == "application/json"
    body = json.loads(result.body)
    assert body.get("session") and body.get("secret"), body


def check_outside_tools_see_the_apps_data(endpoint: str) -> None:
    """The app calls moto in its own process; a tool pointed at the `aws` endpoint sees the same data."""
    import boto3

    dynamodb = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1",
                            aws_access_key_id="outside", aws_secret_access_key="outside")
    (table,) = dynamodb.list_tables()["TableNames"]
    heads = dynamodb.scan(TableName=table, FilterExpression="sk = :head",
                          ExpressionAttributeValues={":head": {"S": "step~head"}})["Items"]
    assert {item["interview"]["S"] for item in heads} == {"actions.yml"}, heads
    assert len(heads) == 2  # the browser's session and the API's


def check_outbox(web: Browser) -> None:
    """send-email.yml sends through moto's SES; GET /local/outbox lists the e-mail in CONTRACT §4's shape."""
    assert json.loads(web.request("/local/outbox").body) == []
    headers = {"X-API-Key": API_KEY, "Content-Type": "application/json"}
    session = json.loads(web.request("/api/session/new?i=send-email.yml", headers=headers).body)
    for variables in ({"intro_provided": True}, {"recipient.name.first": "Ann", "recipient.name.last": "Lee"},
                      {"recipient.email": "ann@example.com"}):
        request = urllib.request.Request(urljoin(web.base, "/api/session"), headers=headers, data=json.dumps(
            {**session, "variables": variables}).encode())
        with web.opener.open(request, timeout=HTTP_SECONDS) as response:
            assert response.status == 200
    outbox = web.request("/local/outbox")
    assert outbox.status == 200, outbox.body
    (sent,) = json.loads(outbox.body)
    assert set(sent) == {"kind", "to", "from", "subject", "body_text", "body_html", "attachments", "time"}, sent
    assert (sent["kind"], sent["to"], sent["from"]) == ("email", ["ann@example.com"], "noreply@mail.localhost")
    assert sent["subject"] == "Greetings, Ann Lee!"
    assert "<strong>docassemble</strong>" in sent["body_html"] and "docassemble" in sent["body_text"]
    assert sent["attachments"] == []


def test_make_run_serves_the_app_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    env = stack_env()
    with make_run(tmp_path, **env) as run:
        listing = run.wait_ready()
        base = f"http://127.0.0.1:{env['PORT']}"
        assert listing["web"].startswith(f"{base}/interview?i="), run.output()
        assert listing["api"] == f"{base}/api", run.output()
        assert listing["aws"] == f"http://127.0.0.1:{env['MOTO_PORT']}", run.output()
        assert listing["api key"] == API_KEY, run.output()
        assert listing["admin"].startswith("admin@localhost password "), run.output()

        web = Browser(base)
        drive_actions_interview(web)
        check_api(web)
        check_outside_tools_see_the_apps_data(listing["aws"])
        check_outbox(web)

        # SIGTERM to the stack itself: it stops, exits 0, and so does make.
        started = time.monotonic()
        os.kill(run.stack_pid(), signal.SIGTERM)
        code = run.wait_exit(STOP_SECONDS, "stop after SIGTERM")
        assert code == 0, f"exit status {code} after {time.monotonic() - started:.1f} s; output:\n{run.output()}"
        assert "Traceback" not in run.output(), run.output()
        assert port_is_free(int(env["PORT"])) and port_is_free(int(env["MOTO_PORT"])), run.output()


def test_make_run_stops_on_sigterm_to_its_process_group(tmp_path: Path) -> None:
    """What a supervisor or a terminal does: signal the whole group, make included.

    GNU make passes SIGTERM on to the stack, waits for it, then ends itself with
    the same signal (status -SIGTERM); the stack's clean exit shows in its log.
    """
    env = stack_env()
    with make_run(tmp_path, **env) as run:
        run.wait_ready()
        os.killpg(run.process.pid, signal.SIGTERM)
        code = run.wait_exit(STOP_SECONDS, "stop after SIGTERM to its process group")
        assert code in (0, -signal.SIGTERM), f"exit status {code}; output:\n{run.output()}"
        assert "chalicelib.local: stopped" in run.output(), run.output()
        assert "Traceback" not in run.output(), run.output()
        assert port_is_free(int(env["PORT"])) and port_is_free(int(env["MOTO_PORT"])), run.output()


@pytest.mark.parametrize("env_var", ["PORT", "MOTO_PORT"])
def test_make_run_fails_clearly_when_a_port_is_in_use(tmp_path: Path, env_var: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = int(holder.getsockname()[1])
        env = stack_env(**{env_var: str(taken)})
        with make_run(tmp_path, **env) as run:
            code = run.wait_exit(FAIL_SECONDS, "exit with a port in use")
            output = run.output()
    # The stack exits 1; make reports that as its own failure (status 2, "Error 1").
    assert code != 0 and "Error 1" in output, f"exit status {code}; output:\n{output}"
    assert f"error: port {taken} is already in use; set {env_var} to another port" in output, output
    assert "ready" not in output.splitlines() and "Traceback" not in output, output
    others = [name for name in ("PORT", "MOTO_PORT") if name != env_var]
    assert all(port_is_free(int(env[name])) for name in others), output


def test_make_run_takes_a_large_browser_upload_straight_to_its_s3(tmp_path: Path) -> None:
    """redis-data.yml with a file over DIRECT_UPLOAD_BYTES, as static/uploads.js sends it: a slot, the
    file posted to moto's S3 on MOTO_PORT, then the form naming it; the public link serves it to anyone."""
    from tests.upload_files import multipart, png

    env = stack_env(DIRECT_UPLOAD_BYTES="1024")
    with make_run(tmp_path, **env) as run:
        listing = run.wait_ready()
        base = f"http://127.0.0.1:{env['PORT']}"
        web = Browser(base)
        url = "/interview?i=redis-data.yml"
        page = web.request(url)
        assert page.status == 200 and "Upload a file." in page.text, page.body
        slot_url = html.unescape(re.search(r'data-direct-upload="([^"]+)"', page.body).group(1))  # type: ignore[union-attr]
        assert f"connect-src 'self' {listing['aws']}" in page.headers["Content-Security-Policy"]

        picture = png(40, 40) + b"\x00" * 2048  # over DIRECT_UPLOAD_BYTES (trailing bytes after IEND are ignored)
        slot_reply = web.opener.open(urllib.request.Request(
            urljoin(base, slot_url), data=json.dumps({"name": "cat.png", "size": len(picture)}).encode(),
            headers={"Content-Type": "application/json", "X-CSRF-Token": page.hidden("_csrf")}), timeout=HTTP_SECONDS)
        slot = json.loads(slot_reply.read())
        assert slot["url"].startswith(listing["aws"]), slot
        body, content_type = multipart(slot["fields"], {"file": [("cat.png", picture, "image/png")]})
        with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(urllib.request.Request(
                slot["url"], data=body, headers={"Content-Type": content_type}), timeout=HTTP_SECONDS) as sent:
            assert sent.status in (200, 204)

        shown = web.submit(url, page, _f0=slot["value"], _continue="1")
        assert shown.status == 200 and "The file" in shown.text, shown.body
        src = html.unescape(re.search(r'<img src="([^"]+)" alt="cat.png"', shown.body).group(1))  # type: ignore[union-attr]
        anyone = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with anyone.open(urllib.request.Request(urljoin(base, src), headers={"Accept": "image/png"}),
                         timeout=HTTP_SECONDS) as image:
            assert image.status == 200 and image.read() == picture
            assert image.headers["Content-Type"] == "image/png"
