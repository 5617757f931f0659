"""The local stack behind `make run`: the Chalice app on an embedded AWS, in one process.

`LocalStack` is a list of components, each with `start()`, `stop()` and
`describe()` (the lines printed once the stack is ready). They start in list
order and stop in reverse:

1. `EmbeddedAws`: moto's endpoint on MOTO_PORT (requests serialized, see
   moto_server; DynamoDB costs scoped to a partition, see moto_speedups), emptied,
   with the process environment pointed at it:
   AWS_ENDPOINT_URL, fake credentials and region. The local stack never
   touches real AWS. (moto's state is per process, shared by every moto server
   and `mock_aws` in it.)
2. `AppServices`: every resource of infra/resources.yaml created in moto, the
   real DynamoDB/S3 adapters installed into the app, and the admin user with an
   API key (ADMIN_EMAIL, ADMIN_PASSWORD, API_KEY; generated when unset). The
   server key is SERVER_KEY, or one made at random for the run.
3. `WebServer`: the Chalice app on PORT through `chalice.local.create_local_server`
   (thread-safe `current_request`), one short log line per request on stderr.

4. `Worker`: a thread running `drainer.QueueDrainer`, which feeds the task
   queue and its dead-letter queue to the app's `@app.on_sqs_message`
   handlers, as Lambda's event source mapping does.

5. `Clock`: a thread running `scheduler.Scheduler`, which fires the app's
   `@app.schedule` handlers (cron_hourly, cron_daily, ...) on the wall clock, as
   EventBridge does.

The SMTP server (`smtp.Smtp`, after the web server) listens on SMTP_PORT: mail
to an existing `*@INCOMING_MAIL_DOMAIN` address is stored in the mail bucket as
SES stores it, and the bucket's notification brings it to the app's mail handler
through the mail queue, which the worker drains. Used by `python -m chalicelib.local`
and by the tests.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import functools
import io
import logging
import os
import sys
import threading
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.utils import parseaddr
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qsl, urlencode

from chalice.local import ChaliceRequestHandler, create_local_server

from chalicelib.local import outbox
from chalicelib.local.moto_server import MotoServer, in_process_client
from chalicelib.local.moto_speedups import partition_scoped
from chalicelib.local.outbox import LocalOutbox, RecordingMessenger
from chalicelib.local.resources import DEFAULT_REGION, create_resources
from chalicelib.local.smtp import Smtp
from chalicelib.runtime.direct_uploads import S3DirectUploads
from chalicelib.runtime.queue import TaskQueue
from chalicelib.runtime.services import Services
from chalicelib.settings import (
    BUNDLED_INTERVIEWS,
    ENV_ADMIN_EMAIL,
    ENV_ADMIN_PASSWORD,
    ENV_API_KEY,
    ENV_MOTO_PORT,
    ENV_PORT,
    PROJECT_ROOT,
    Settings,
)
from chalicelib.storage.accounts import AccountStore
from chalicelib.storage.crypto import random_token
from chalicelib.storage.errors import AccountError
from chalicelib.web import api_auth, context

if TYPE_CHECKING:
    from chalice import Chalice

log = logging.getLogger(__name__)
access_log = logging.getLogger("chalicelib.local.web")

HOST = "127.0.0.1"
STAGE = "dev"
STOP_SECONDS = 5.0  # the whole stack stops within this after Ctrl-C or SIGTERM (see __main__.py)
FALLBACK_INTERVIEW = "actions.yml"
GENERATED_PASSWORD_LENGTH = 16
GENERATED_API_KEY_LENGTH = 32

# What boto3 sees in the local stack: moto's endpoint and credentials that work nowhere else.
FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": DEFAULT_REGION,
    "AWS_REGION": DEFAULT_REGION,
}
# Variables that could otherwise lead boto3 past the endpoint or to real credentials.
CLEARED_AWS_ENV = (
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
)
REDACTED_QUERY_ARGS = frozenset({"key", "secret"})


class StackError(RuntimeError):
    """The local stack cannot start; the message says what to change."""


class PortInUseError(StackError):
    def __init__(self, port: int, env_var: str) -> None:
        super().__init__(f"port {port} is already in use; set {env_var} to another port")
        self.port = port
        self.env_var = env_var


class Component(Protocol):
    """One part of the local stack."""

    #: Where its lines go in the listing printed once ready (lowest first).
    listing_order: int

    def start(self) -> None:
        """Start serving; raise StackError (and leave nothing running) when it cannot."""

    def stop(self) -> None:
        """Stop within a bounded time; only called after a successful start()."""

    def describe(self) -> list[str]:
        """The lines to print once the stack is ready, e.g. ``aws: http://127.0.0.1:5001``."""


def listen_error(port: int, env_var: str, *, in_use: bool, reason: str) -> StackError:
    """The StackError for a server that could not listen on `port` (set by `env_var`)."""
    if in_use:
        return PortInUseError(port, env_var)
    return StackError(f"cannot listen on {HOST}:{port} ({reason}); set {env_var} to another port")


def bind_error(err: OSError, port: int, env_var: str) -> StackError:
    return listen_error(port, env_var, in_use=err.errno == errno.EADDRINUSE, reason=err.strerror or str(err))


class EmbeddedAws:
    """moto on MOTO_PORT, and the process environment pointed at it (restored on stop)."""

    listing_order = 10

    def __init__(self, port: int) -> None:
        self.port = port
        self.server: MotoServer | None = None
        self._saved_env: dict[str, str | None] = {}
        self._speedups = contextlib.ExitStack()

    @property
    def url(self) -> str:
        return self.server.url if self.server is not None else f"http://{HOST}:{self.port}"

    def start(self) -> None:
        self.server = self._bind().start()
        try:
            _reset_moto(self.server.url)
        except BaseException:
            self.stop()
            raise
        self._point_environment_at(self.server.url)
        self._speedups.enter_context(partition_scoped())
        log.info("embedded AWS (moto) on %s", self.server.url)

    def _bind(self) -> MotoServer:
        # werkzeug prints its own message and calls sys.exit(1) when it cannot bind:
        # keep the message from stderr and raise our one-line error instead.
        werkzeug_said = io.StringIO()
        try:
            with contextlib.redirect_stderr(werkzeug_said):
                return MotoServer(self.port, HOST)
        except OSError as err:
            raise bind_error(err, self.port, ENV_MOTO_PORT) from err
        except SystemExit as err:
            said = werkzeug_said.getvalue().strip()
            reason = said.splitlines()[0] if said else "the server did not start"
            raise listen_error(self.port, ENV_MOTO_PORT, in_use="in use" in said, reason=reason) from err

    def _point_environment_at(self, url: str) -> None:
        overrides: dict[str, str | None] = {name: None for name in CLEARED_AWS_ENV}
        overrides.update({name: None for name in os.environ if name.startswith("AWS_ENDPOINT_URL_")})
        overrides.update(FAKE_AWS_ENV)
        overrides["AWS_ENDPOINT_URL"] = url
        for name in ("NO_PROXY", "no_proxy"):  # an HTTP(S)_PROXY must not see moto's traffic
            overrides[name] = ",".join(filter(None, [os.environ.get(name), HOST, "localhost"]))
        self._saved_env = {name: os.environ.get(name) for name in overrides}
        _apply_env(overrides)

    def stop(self) -> None:
        self._speedups.close()
        _apply_env(self._saved_env)
        self._saved_env = {}
        if self.server is not None:
            self.server.stop()
            self.server = None

    def describe(self) -> list[str]:
        return [f"aws: {self.url}"]


def _reset_moto(url: str) -> None:
    """Empty moto: its state lives as long as the process, and every start begins afresh."""
    request = urllib.request.Request(f"{url}/moto-api/reset", method="POST")
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with direct.open(request, timeout=STOP_SECONDS) as response:
        response.read()


def _apply_env(values: Mapping[str, str | None]) -> None:
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@dataclass(frozen=True)
class AdminCredentials:
    email: str
    password: str | None  # only when generated here: a password from ADMIN_PASSWORD is not printed
    api_key: str


def ensure_admin(accounts: AccountStore, settings: Settings) -> AdminCredentials:
    """The admin user (privileges ("admin",)) and an API key it owns, created if missing."""
    generated = "" if settings.admin_password else random_token(GENERATED_PASSWORD_LENGTH)
    if accounts.get_user(settings.admin_email) is None:
        try:
            accounts.create_user(settings.admin_email, settings.admin_password or generated, privileges=("admin",))
        except AccountError as err:
            raise StackError(f"cannot create the admin user ({ENV_ADMIN_EMAIL}, {ENV_ADMIN_PASSWORD}): {err}") from err
    else:
        generated = ""  # an existing user keeps the password it has
    api_key = settings.api_key or random_token(GENERATED_API_KEY_LENGTH)
    if accounts.user_for_api_key(api_key) is None:
        try:
            accounts.add_api_key(settings.admin_email, api_key, "local stack")
        except AccountError as err:
            raise StackError(f"cannot register {ENV_API_KEY}: {err}") from err
    return AdminCredentials(settings.admin_email, generated or None, api_key)


_VISIBLE_AGAIN_MARGIN = 0.05  # seconds after a delay ends before the worker looks again


class WakingQueue:
    """The app's task queue, which also wakes the local worker (on Lambda, SQS's event source
    mapping does that): at once after each send, and when a message delayed for a retry becomes
    visible again, so an idle worker need not poll often."""

    def __init__(self, inner: TaskQueue, wake: threading.Event) -> None:
        self.inner = inner
        self.wake = wake

    def send(self, messages: Sequence[dict[str, str]]) -> None:
        self.inner.send(messages)
        self.wake.set()

    def delay(self, receipt_handle: str, seconds: int) -> None:
        self.inner.delay(receipt_handle, seconds)
        timer = threading.Timer(max(0, seconds) + _VISIBLE_AGAIN_MARGIN, self.wake.set)
        timer.daemon = True
        timer.start()


def _direct_uploads(settings: Settings) -> S3DirectUploads:
    """Browser uploads straight to moto's S3: slots are signed for the endpoint the browser reaches
    (AWS_ENDPOINT_URL, moto's server), the objects read in-process like every other call."""
    import boto3

    presign = boto3.client("s3", endpoint_url=os.environ.get("AWS_ENDPOINT_URL"), region_name=DEFAULT_REGION,
                           aws_access_key_id="local", aws_secret_access_key="local")
    return S3DirectUploads(settings.blob_bucket, client=in_process_client("s3", DEFAULT_REGION), presign=presign)


class AppServices:
    """The app's resources in moto, its services installed, and the admin account."""

    listing_order = 90

    def __init__(self, settings: Settings, wake: threading.Event | None = None) -> None:
        self.settings = settings
        self.wake = wake
        self.services: Services | None = None
        self.admin: AdminCredentials | None = None
        self.outbox: LocalOutbox | None = None

    def start(self) -> None:
        create_resources()
        services = Services.from_settings(self.settings, clients=lambda name: in_process_client(name, DEFAULT_REGION))
        if self.wake is not None:  # a task the app sends wakes the worker at once
            services = dataclasses.replace(services, queue=WakingQueue(services.queue, self.wake))
        # SES sends only from a verified identity: verify DEFAULT_SENDER's domain in moto, as on AWS
        # (README, "Sending e-mail and SMS"); every message sent is listed at GET /local/outbox.
        sender_domain = parseaddr(self.settings.default_sender)[1].rpartition("@")[2]
        if sender_domain:
            in_process_client("ses", DEFAULT_REGION).verify_domain_identity(Domain=sender_domain)
        self.outbox = LocalOutbox()
        services = dataclasses.replace(services, messenger=RecordingMessenger(services.messenger, self.outbox))
        services = dataclasses.replace(services, direct=_direct_uploads(self.settings))
        outbox.activate(self.outbox)
        self.services = services
        context.use_services(self.services)
        api_auth.clear_cache()
        self.admin = ensure_admin(self.services.accounts, self.settings)
        log.info("resources created; admin user %s", self.admin.email)

    def stop(self) -> None:
        outbox.activate(None)
        context.use_services(None)
        api_auth.clear_cache()
        self.services = None

    def describe(self) -> list[str]:
        if self.admin is None:
            return []
        admin = f"admin: {self.admin.email}"
        if self.admin.password is not None:
            admin += f" password {self.admin.password}"
        return [admin, f"api key: {self.admin.api_key}"]


def redacted_path(path: str) -> str:
    """`path` with the values of secret query arguments (key, secret) replaced by ***."""
    route, question, query = path.partition("?")
    if not question:
        return path
    args = [(k, "***" if k in REDACTED_QUERY_ARGS else v) for k, v in parse_qsl(query, keep_blank_values=True)]
    return f"{route}?{urlencode(args, safe='*')}"


class QuietRequestHandler(ChaliceRequestHandler):
    """Chalice's request handler with one short log line per request on the logger."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        access_log.info("%s %s %s", self.command, redacted_path(self.path), code)

    def log_message(self, format: str, *args: Any) -> None:
        access_log.warning("%s: %s", self.address_string(), format % args)


def first_bundled_interview(folder: Path = BUNDLED_INTERVIEWS) -> str:
    """The name of the first bundled interview, or actions.yml when none is bundled."""
    names = sorted(p.name for p in folder.glob("*.yml")) if folder.is_dir() else []
    return names[0] if names else FALLBACK_INTERVIEW


def app_log_to_stderr(app: Chalice) -> None:
    """Keep stdout for the ready listing: Chalice logs the app's errors to stdout."""
    for handler in app.log.handlers:
        if isinstance(handler, logging.StreamHandler) and handler.stream is sys.stdout:
            handler.setStream(sys.stderr)


LISTEN_BACKLOG = 128  # connections the web server queues while its threads pick them up


class WebServer:
    """The Chalice app (web UI, check-in, REST API) on PORT."""

    listing_order = 0

    def __init__(self, app: Chalice, port: int, landing_interview: str) -> None:
        self.app = app
        self.port = port
        self.landing_interview = landing_interview
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._app_class: type | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> None:
        config = _chalice_config()
        app_log_to_stderr(self.app)
        self._app_class = type(self.app)
        try:
            local = create_local_server(self.app, config, HOST, self.port)
        except OSError as err:
            self._restore_app_class()
            raise bind_error(err, self.port, ENV_PORT) from err
        server = local.server
        server.RequestHandlerClass = functools.partial(QuietRequestHandler, app_object=self.app, config=config)
        server.daemon_threads = True  # a browser's keep-alive connection must not hold up stop()
        # socketserver listens with a backlog of 5: more clients connecting at once than that have
        # their connection dropped and retried a second later. Listening again raises the backlog.
        server.socket.listen(LISTEN_BACKLOG)
        self.port = int(server.server_address[1])
        self._server = server
        # server.serve_forever, not local.serve_forever: that one prints a banner to stdout.
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="web", daemon=True)
        self._thread.start()
        log.info("web on %s", self.url)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=STOP_SECONDS / 2)
            self._thread = None
        self._restore_app_class()

    def _restore_app_class(self) -> None:
        # create_local_server swaps the app's class; undo it so that a later start can swap it again.
        if self._app_class is not None:
            self.app.__class__ = self._app_class
            self._app_class = None

    def describe(self) -> list[str]:
        return [f"web: {self.url}/interview?i={self.landing_interview}", f"api: {self.url}/api"]


def _chalice_config() -> Any:
    from chalice.cli.factory import CLIFactory

    return CLIFactory(str(PROJECT_ROOT)).create_config_obj(chalice_stage_name=STAGE)


def _default_app() -> Chalice:
    from app import app

    return app


class Worker:
    """The SQS drainer in a thread: task messages reach the same handlers as on Lambda."""

    listing_order = 50

    def __init__(self, app: Chalice, wake: threading.Event | None = None) -> None:
        self.app = app
        self.wake = wake or threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        from chalicelib.local.drainer import QueueDrainer

        drainer = QueueDrainer(self.app, sqs=in_process_client("sqs", DEFAULT_REGION), region=DEFAULT_REGION)
        self._stopping.clear()
        self._thread = threading.Thread(target=drainer.run, args=(self._stopping, self.wake), name="sqs-drainer",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self.wake.set()
        if self._thread is not None:
            self._thread.join(timeout=2.5)

    def describe(self) -> list[str]:
        return []


class Clock:
    """The app's `@app.schedule` handlers fired on the wall clock (UTC), in a thread."""

    listing_order = 60

    def __init__(self, app: Chalice) -> None:
        from chalicelib.local.scheduler import Scheduler

        self.scheduler = Scheduler(app)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(target=self.scheduler.run, args=(self._stopping,), name="scheduler",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=2.5)

    def describe(self) -> list[str]:
        names = ", ".join(s.name for s in self.scheduler.schedules)
        return [f"scheduler: {names} on the wall clock (UTC); POST /api/cron runs one now"] if names else []


class LocalStack:
    """Every component of the local stack; `start()` all, `stop()` all (also as a context manager).

    Without `settings` they come from the environment as for the local stack: it serves plain
    http, so COOKIE_SECURE defaults to off here (a browser drops a Secure cookie over http)."""

    def __init__(self, settings: Settings | None = None, app: Chalice | None = None) -> None:
        # The local flag: without SERVER_KEY, a random key for this run (moto starts empty, so
        # nothing sealed outlives the run), and COOKIE_SECURE off by default (plain http).
        self.settings = Settings.from_env(local_stack=True) if settings is None else settings
        self.aws = EmbeddedAws(self.settings.moto_port)
        wake = threading.Event()  # set by each task the app sends; the worker polls at once
        self.app_services = AppServices(self.settings, wake)
        chalice_app = app or _default_app()
        outbox.install_route(chalice_app)  # GET /local/outbox: 404 unless a stack runs
        self.web = WebServer(chalice_app, self.settings.port, first_bundled_interview())
        self.worker = Worker(chalice_app, wake)
        self.clock = Clock(chalice_app)
        self.smtp = Smtp(self.settings, wake)  # each stored mail wakes the worker too
        self.components: list[Component] = [self.aws, self.app_services, self.web, self.smtp, self.worker,
                                            self.clock]
        self._started: list[Component] = []

    def start(self) -> LocalStack:
        """Start the components in order; on any failure stop those already started and re-raise."""
        try:
            for component in self.components:
                component.start()
                self._started.append(component)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the started components in reverse order (web first, moto last)."""
        while self._started:
            component = self._started.pop()
            try:
                component.stop()
            except Exception:
                log.exception("stopping %s failed", type(component).__name__)

    def describe(self) -> list[str]:
        """The lines to print once ready: addresses first, then the admin account."""
        ordered = sorted(self._started, key=lambda component: component.listing_order)
        return [line for component in ordered for line in component.describe()]

    @property
    def admin(self) -> AdminCredentials | None:
        return self.app_services.admin

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()
