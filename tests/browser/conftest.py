"""Browser fixtures: the real app served over HTTP, and headless Chromium driven by Playwright.

- `settings`: the test settings with COOKIE_SECURE off: the server speaks plain http.
- `server`: the Chalice app (on the `services` fixture's moto) served by chalice's
  local dev server in a daemon thread on 127.0.0.1 and a free port; yields the base URL.
- `browser`: one Debian `chromium` for the session (playwright's own browser
  download is not used). Without chromium on PATH the tests skip, or fail when
  the environment variable CI is set (`make test` installs chromium).
- `context` / `page`: a fresh browser context (no cookies) and page per test, with
  the server as base URL, so `page.goto("/interview?i=actions.yml")` works.
- `outside`: the pages the browser opened on other sites. Every other host name
  resolves to a local stub site (see outside.py): the tests never touch the network.
- `fast_checkin`: the app's settings with a 1 s check-in interval and no retry delay.
- `worker`: the SQS worker, run dry from the test thread with `worker.drain()`.

moto's in-process backend is not thread-safe, and every screen page now checks in
(static/checkin.js) while the test works: the server handles one request at a time
(`APP_LOCK`), and `worker.drain()` holds the same lock, so only one thread is ever
inside moto.

Every test module here sets `pytestmark = pytest.mark.browser`.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.outside import OutsideServer

ROOT = Path(__file__).resolve().parents[2]
_SKIPPED_BECAUSE: list[str] = []  # shown at the end of the run (a skip inside a fixture is easy to miss)
TIMEOUT_MS = 15_000
CHECKIN_INTERVAL_MS = 1000  # the `fast_checkin` interval (the smallest the settings allow)
APP_LOCK = threading.Lock()  # one request (or worker drain) at a time inside the app and moto
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]


def wait_until(page: Any, condition: Callable[[], bool], timeout_ms: float, what: str) -> float:
    """Let the page run until `condition()` holds (checked every 100 ms), failing after `timeout_ms`;
    the milliseconds it took. Use it instead of a fixed wait followed by a count: a slow machine
    then takes longer instead of failing."""
    started = time.monotonic()
    while not condition():
        if (time.monotonic() - started) * 1000 > timeout_ms:
            pytest.fail(f"{what} did not happen within {timeout_ms:g} ms")
        page.wait_for_timeout(100)
    return (time.monotonic() - started) * 1000


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _SKIPPED_BECAUSE:
        terminalreporter.write_line(f"browser tests skipped: {_SKIPPED_BECAUSE[0]}", yellow=True, bold=True)


def _quiet_handler_cls() -> type:
    from chalice.local import ChaliceRequestHandler

    class QuietHandler(ChaliceRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return None

        def _locked_handle(self) -> None:
            with APP_LOCK:
                self._generic_handle()

        # The base class binds every do_* to its own _generic_handle when the class is made,
        # so overriding _generic_handle would not be called: each verb is rebound here.
        do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = _locked_handle

    return QuietHandler


def _local_server(app: Any, config: Any) -> Any:
    """What `chalice.local.create_local_server(app, config, "127.0.0.1", 0)` does, with quiet request logs.

    create_local_server swaps the app's class for CustomLocalChalice (whose
    `current_request` is thread-local) and builds a LocalDevServer with the default,
    chatty handler. The swap is done once here: a second create_local_server call
    would make CustomLocalChalice its own base class (TypeError) in the next test.
    """
    from chalice.local import CustomLocalChalice, LocalChalice, LocalDevServer

    if not isinstance(app, CustomLocalChalice):
        CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
        app.__class__ = CustomLocalChalice
    return LocalDevServer(app, config, "127.0.0.1", 0, handler_cls=_quiet_handler_cls())


@pytest.fixture
def settings() -> Any:
    """The app's test settings, served over plain http like the local stack: COOKIE_SECURE off
    (a Secure, __Host- cookie is for HTTPS; tests/functional/test_web_access.py shows that default)."""
    from chalicelib.settings import Settings
    from tests.conftest import settings_env

    return Settings.from_env(settings_env(COOKIE_SECURE="0"))


@pytest.fixture
def server(services: Any) -> Iterator[str]:
    from chalice.cli.factory import CLIFactory

    from app import app

    config = CLIFactory(str(ROOT)).create_config_obj(chalice_stage_name="dev")
    srv = _local_server(app, config)
    port = srv.server.server_address[1]
    # srv.server directly: LocalDevServer.serve_forever only adds a banner (with the wrong port, 0);
    # a short poll interval makes shutdown() quick.
    thread = threading.Thread(target=srv.server.serve_forever, kwargs={"poll_interval": 0.05},
                              name="chalice-local", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.server.shutdown()
        srv.server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def fast_checkin(services: Any) -> Any:
    """The services with a short check-in interval and no delay before a task's retry; yields the settings."""
    import dataclasses

    from chalicelib.web import context

    settings = dataclasses.replace(services.settings, checkin_interval=CHECKIN_INTERVAL_MS, task_retry_seconds=0)
    context.use_services(dataclasses.replace(services, settings=settings))
    return settings


class Worker:
    """The SQS worker, run from the test thread between page actions (holding APP_LOCK)."""

    def __init__(self, drainer: Any) -> None:
        self.drainer = drainer

    def drain(self) -> int:
        """Run every queue dry; the count of messages handled."""
        with APP_LOCK:
            handled: int = self.drainer.drain()
        return handled


@pytest.fixture
def worker(services: Any, fresh_aws: dict[str, Any]) -> Worker:
    from app import app
    from chalicelib.local.drainer import QueueDrainer

    return Worker(QueueDrainer(app, sqs=fresh_aws["sqs"]))


@pytest.fixture(scope="session")
def outside_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OutsideServer]:
    site = OutsideServer(tmp_path_factory.mktemp("outside-tls")).start()
    try:
        yield site
    finally:
        site.stop()


@pytest.fixture
def outside(outside_site: OutsideServer) -> list[str]:
    """The pages (documents) the browser opened on other sites in this test, e.g. "https://google.com/"."""
    outside_site.pages.clear()
    return outside_site.pages


@pytest.fixture(scope="session")
def browser(outside_site: OutsideServer) -> Iterator[Any]:
    executable = shutil.which("chromium")
    if executable is None:
        reason = "chromium is not on PATH; the browser tests need Debian's chromium (make test installs it)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}. CI is set, so this is an error: install chromium (apt-get install -y chromium)")
        _SKIPPED_BECAUSE.append(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(
            executable_path=executable,
            args=[*CHROMIUM_ARGS, f"--host-resolver-rules={outside_site.resolver_rules}"],
        )
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        playwright.stop()


@pytest.fixture
def context(browser: Any, server: str, outside: list[str]) -> Iterator[Any]:
    # ignore_https_errors: the stub site's certificate is self-signed.
    ctx = browser.new_context(base_url=server, ignore_https_errors=True)
    ctx.set_default_timeout(TIMEOUT_MS)
    ctx.set_default_navigation_timeout(TIMEOUT_MS)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def page(context: Any) -> Iterator[Any]:
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    pg = context.new_page()
    try:
        yield pg
    finally:
        pg.close()


@pytest.fixture
def other_page(browser: Any, server: str) -> Iterator[Any]:
    """Another person, or another browser of the same person: a page in a browser context of its own,
    sharing no cookies with `page`."""
    ctx = browser.new_context(base_url=server)
    ctx.set_default_timeout(TIMEOUT_MS)
    try:
        yield ctx.new_page()
    finally:
        ctx.close()


def heading(page: Any) -> Any:
    """The page's level-1 heading, as a user's screen reader names it."""
    return page.get_by_role("heading", level=1)

