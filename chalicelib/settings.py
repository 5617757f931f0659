"""The one reader of the environment.

Every knob the app has is an environment variable named here, with its default.
`Settings.from_env()` builds a frozen record once; the rest of the code gets it
passed down and never reads `os.environ` itself.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# In the repository the bundled interviews sit at the top; `make package` copies
# them into chalicelib/ because only app.py and chalicelib/ reach Lambda.
BUNDLED_INTERVIEWS = next(
    (p for p in (PROJECT_ROOT / "interviews", PROJECT_ROOT / "chalicelib" / "interviews") if p.is_dir()),
    PROJECT_ROOT / "interviews",
)

DEFAULT_TASK_QUEUE = "interview-tasks"  # the local queue name; its dead-letter queue adds "-dlq"
DEFAULT_MAIL_QUEUE = "interview-mail"  # the local name of the queue of inbound mail notifications (and "-dlq")

# Environment variable names (all listed in README.md, "Settings").
ENV_INTERVIEW_PATH = "INTERVIEW_PATH"
ENV_TABLE_NAME = "TABLE_NAME"
ENV_BLOB_BUCKET = "BLOB_BUCKET"
ENV_TASK_QUEUE = "TASK_QUEUE"
ENV_SERVER_KEY = "SERVER_KEY"
ENV_SERVER_KEY_PARAMETER = "SERVER_KEY_PARAMETER"
ENV_ADMIN_EMAIL = "ADMIN_EMAIL"
ENV_ADMIN_PASSWORD = "ADMIN_PASSWORD"
ENV_API_KEY = "API_KEY"
ENV_INCOMING_MAIL_DOMAIN = "INCOMING_MAIL_DOMAIN"
ENV_INTERVIEW_DELETE_DAYS = "INTERVIEW_DELETE_DAYS"
ENV_CHECKIN_INTERVAL = "CHECKIN_INTERVAL"
ENV_DEFAULT_SENDER = "DEFAULT_SENDER"
ENV_DEFAULT_COUNTRY = "DEFAULT_COUNTRY"
ENV_STEPS_KEPT = "STEPS_KEPT"
ENV_BASE_URL = "BASE_URL"
ENV_TASK_MAX_ATTEMPTS = "TASK_MAX_ATTEMPTS"
ENV_TASK_RETRY_SECONDS = "TASK_RETRY_SECONDS"
ENV_TASK_LEASE_SECONDS = "TASK_LEASE_SECONDS"
ENV_SEND_SWEEP_AFTER_SECONDS = "SEND_SWEEP_AFTER_SECONDS"
ENV_MAIL_ENCRYPTED_SESSIONS = "MAIL_ENCRYPTED_SESSIONS"
ENV_TASK_RECORD_DAYS = "TASK_RECORD_DAYS"
ENV_TURN_RETRY_SECONDS = "TURN_RETRY_SECONDS"
ENV_COOKIE_SECURE = "COOKIE_SECURE"
ENV_SIGN_IN_HOURS = "SIGN_IN_HOURS"
ENV_REGISTER_CONFIRM_EMAIL = "REGISTER_CONFIRM_EMAIL"
ENV_MAX_REQUEST_BYTES = "MAX_REQUEST_BYTES"
ENV_MAX_ANSWER_BYTES = "MAX_ANSWER_BYTES"
ENV_MAX_UPLOAD_BYTES = "MAX_UPLOAD_BYTES"
ENV_DIRECT_UPLOAD_BYTES = "DIRECT_UPLOAD_BYTES"
ENV_MAIL_BUCKET = "MAIL_BUCKET"
ENV_MAIL_MAX_BYTES = "MAIL_MAX_BYTES"
ENV_MAIL_MAX_HEADER_BYTES = "MAIL_MAX_HEADER_BYTES"
ENV_MAIL_MAX_ATTACHMENTS = "MAIL_MAX_ATTACHMENTS"
ENV_MAIL_MAX_PER_SESSION = "MAIL_MAX_PER_SESSION"
# The local stack's ports (`make run`); 0 means any free port.
ENV_PORT = "PORT"
ENV_MOTO_PORT = "MOTO_PORT"
ENV_SMTP_PORT = "SMTP_PORT"
ENV_DATABASE_URL = "DATABASE_URL"  # SQLObject's database (SQLAlchemy URL)
ENV_REDIS_URL = "REDIS_URL"  # DARedis on a real Redis instead of DynamoDB
LOCAL_DATABASE_URL = "sqlite:///local-interviews.sqlite3"  # the local stack's default: a file in its directory

MAX_PORT = 65535
MIN_REQUEST_BYTES = 1024  # below this no form could be posted at all
MIN_ANSWER_BYTES = 64
SERVER_KEY_BYTES = 32
MAKE_KEY_COMMAND = "python3 -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())'"


class SettingsError(ValueError):
    """Raised when an environment variable holds a value we cannot use."""


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError as err:
        raise SettingsError(
            f"{name} must be a whole number, found {raw!r}; unset it to use {default}"
        ) from err
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, found {value}")
    return value


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    value = _int(env, name, default)
    if value > MAX_PORT:
        raise SettingsError(f"{name} must be a TCP port from 0 to {MAX_PORT}, found {value}")
    return value


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw not in _TRUE + _FALSE:
        raise SettingsError(f"{name} must be one of {', '.join(_TRUE + _FALSE)}, found {raw!r}; "
                            f"unset it for the default ({'on' if default else 'off'})")
    return raw in _TRUE


def _country(env: Mapping[str, str]) -> str:
    raw = env.get(ENV_DEFAULT_COUNTRY, "").strip().upper()
    if not raw:
        return "US"
    if len(raw) != 2 or not raw.isalpha():
        raise SettingsError(f"{ENV_DEFAULT_COUNTRY} must be a two-letter country code (ISO 3166), such as US or GB,"
                            f" found {raw!r}")
    return raw


def decode_server_key(raw: str, source: str) -> bytes:
    """The server key from its base64 text; `source` names where the text came from.

    Raises SettingsError unless it is base64 of at least 32 bytes (the first 32 are used)."""
    try:
        key = base64.b64decode(raw.strip(), validate=True)
    except ValueError as err:
        raise SettingsError(f"{source} must be base64, found {raw.strip()[:6]!r}...; make a key with"
                            f" {MAKE_KEY_COMMAND}") from err
    if len(key) < SERVER_KEY_BYTES:
        raise SettingsError(f"{source} must decode to at least {SERVER_KEY_BYTES} bytes, found {len(key)};"
                            f" make a key with {MAKE_KEY_COMMAND}")
    return key[:SERVER_KEY_BYTES]


def _server_key(env: Mapping[str, str], local_stack: bool) -> bytes:
    """The master key the server's sub-keys are derived from (storage/keys.py).

    There is no built-in key. SERVER_KEY holds it (base64). Without it,
    SERVER_KEY_PARAMETER names the SSM SecureString parameter holding it, which
    the runtime reads once per container (runtime/server_key.py); the key is
    empty here until then. Only the local stack, whose embedded AWS starts
    empty, makes a random key for its run."""
    raw = env.get(ENV_SERVER_KEY, "").strip()
    if raw:
        return decode_server_key(raw, ENV_SERVER_KEY)
    if local_stack:
        return os.urandom(SERVER_KEY_BYTES)
    if env.get(ENV_SERVER_KEY_PARAMETER, "").strip():
        return b""
    raise SettingsError(
        f"no server key: set {ENV_SERVER_KEY_PARAMETER} to the name of an SSM SecureString parameter holding"
        f" the key (the deployed template does), or {ENV_SERVER_KEY} to the key itself, base64 of"
        f" {SERVER_KEY_BYTES} random bytes ({MAKE_KEY_COMMAND}); `make run` makes one for its run by itself"
    )


@dataclass(frozen=True)
class Settings:
    interview_path: tuple[Path, ...]
    table_name: str = "InterviewData"
    blob_bucket: str = "interview-blobs"
    task_queue: str = DEFAULT_TASK_QUEUE
    server_key: bytes = field(default=b"", repr=False)  # empty until read from server_key_parameter
    server_key_parameter: str = ""
    admin_email: str = "admin@localhost"
    admin_password: str = ""
    api_key: str = field(default="", repr=False)
    incoming_mail_domain: str = "mail.localhost"
    interview_delete_days: int = 90
    checkin_interval: int = 6000
    default_sender: str = "noreply@mail.localhost"
    default_country: str = "US"  # ISO 3166 code: how send_sms reads a number without +country code
    steps_kept: int = 50
    base_url: str = ""
    task_max_attempts: int = 3
    task_retry_seconds: int = 2
    task_lease_seconds: int = 120
    task_record_days: int = 7
    send_sweep_after_seconds: int = 900  # a send still pending this long after its commit is the sweep's to send
    turn_retry_seconds: int = 20  # a turn that keeps losing races to other writers gives up (409) after this
    cookie_secure: bool = True
    sign_in_hours: int = 12  # how long a browser stays signed in
    register_confirm_email: bool = False  # a new account must confirm its e-mail before it can sign in
    max_request_bytes: int = 1024 * 1024  # a whole request body
    max_answer_bytes: int = 64 * 1024  # one answer, URL argument or API value
    max_upload_bytes: int = 20 * 1024 * 1024  # one uploaded file (a form with files may be this much larger)
    direct_upload_bytes: int = 4 * 1024 * 1024  # a browser sends a larger file straight to S3 (presigned POST)
    mail_bucket: str = "interview-mail"  # where SES (or the local SMTP server) stores inbound mail
    mail_max_bytes: int = 10 * 1024 * 1024  # a larger inbound mail is refused
    mail_max_header_bytes: int = 64 * 1024  # a mail whose header section is larger is refused
    mail_max_attachments: int = 20  # further attachments of a mail are dropped (logged)
    mail_max_per_session: int = 200  # further mails to a session are dropped (logged)
    mail_encrypted_sessions: bool = False  # interview_email() in an encrypted session wraps its key for the server
    port: int = 8000
    moto_port: int = 5001
    smtp_port: int = 2525
    database_url: str = field(default="", repr=False)  # may hold a password
    redis_url: str = field(default="", repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, local_stack: bool = False) -> Settings:
        """The settings from `env` (the process environment by default).

        `local_stack` is the local stack's flag: without SERVER_KEY it gets a random key for
        its run instead of an error (see `_server_key`), and as it serves plain http,
        COOKIE_SECURE defaults to off there (on everywhere else)."""
        env = os.environ if env is None else env
        extra = [Path(p) for p in env.get(ENV_INTERVIEW_PATH, "").split(":") if p.strip()]
        interval = _int(env, ENV_CHECKIN_INTERVAL, 6000)
        if 0 < interval < 1000:
            raise SettingsError(
                f"{ENV_CHECKIN_INTERVAL} is in milliseconds and must be 0 (off) or at least 1000,"
                f" found {interval}"
            )
        return cls(
            interview_path=(BUNDLED_INTERVIEWS, *extra),
            table_name=env.get(ENV_TABLE_NAME) or cls.table_name,
            blob_bucket=env.get(ENV_BLOB_BUCKET) or cls.blob_bucket,
            task_queue=env.get(ENV_TASK_QUEUE) or cls.task_queue,
            server_key=_server_key(env, local_stack),
            server_key_parameter=env.get(ENV_SERVER_KEY_PARAMETER, "").strip(),
            admin_email=env.get(ENV_ADMIN_EMAIL) or cls.admin_email,
            admin_password=env.get(ENV_ADMIN_PASSWORD, ""),
            api_key=env.get(ENV_API_KEY, ""),
            incoming_mail_domain=env.get(ENV_INCOMING_MAIL_DOMAIN) or cls.incoming_mail_domain,
            interview_delete_days=_int(env, ENV_INTERVIEW_DELETE_DAYS, 90),
            checkin_interval=interval,
            default_sender=env.get(ENV_DEFAULT_SENDER) or cls.default_sender,
            default_country=_country(env),
            steps_kept=_int(env, ENV_STEPS_KEPT, 50, minimum=2),
            base_url=env.get(ENV_BASE_URL, "").rstrip("/"),
            task_max_attempts=_int(env, ENV_TASK_MAX_ATTEMPTS, 3, minimum=1),
            task_retry_seconds=_int(env, ENV_TASK_RETRY_SECONDS, 2),
            task_lease_seconds=_int(env, ENV_TASK_LEASE_SECONDS, 120, minimum=5),
            task_record_days=_int(env, ENV_TASK_RECORD_DAYS, 7, minimum=1),
            send_sweep_after_seconds=_int(env, ENV_SEND_SWEEP_AFTER_SECONDS, 900, minimum=1),
            turn_retry_seconds=_int(env, ENV_TURN_RETRY_SECONDS, 20, minimum=1),
            cookie_secure=_flag(env, ENV_COOKIE_SECURE, default=not local_stack),
            sign_in_hours=_int(env, ENV_SIGN_IN_HOURS, 12, minimum=1),
            register_confirm_email=_flag(env, ENV_REGISTER_CONFIRM_EMAIL, default=False),
            max_request_bytes=_int(env, ENV_MAX_REQUEST_BYTES, cls.max_request_bytes, minimum=MIN_REQUEST_BYTES),
            max_answer_bytes=_int(env, ENV_MAX_ANSWER_BYTES, cls.max_answer_bytes, minimum=MIN_ANSWER_BYTES),
            max_upload_bytes=_int(env, ENV_MAX_UPLOAD_BYTES, cls.max_upload_bytes, minimum=1024),
            direct_upload_bytes=_int(env, ENV_DIRECT_UPLOAD_BYTES, cls.direct_upload_bytes, minimum=1024),
            mail_bucket=env.get(ENV_MAIL_BUCKET) or cls.mail_bucket,
            mail_max_bytes=_int(env, ENV_MAIL_MAX_BYTES, cls.mail_max_bytes, minimum=1024),
            mail_max_header_bytes=_int(env, ENV_MAIL_MAX_HEADER_BYTES, cls.mail_max_header_bytes, minimum=1024),
            mail_max_attachments=_int(env, ENV_MAIL_MAX_ATTACHMENTS, cls.mail_max_attachments),
            mail_max_per_session=_int(env, ENV_MAIL_MAX_PER_SESSION, cls.mail_max_per_session, minimum=1),
            mail_encrypted_sessions=_flag(env, ENV_MAIL_ENCRYPTED_SESSIONS, default=False),
            port=_port(env, ENV_PORT, 8000),
            moto_port=_port(env, ENV_MOTO_PORT, 5001),
            smtp_port=_port(env, ENV_SMTP_PORT, 2525),
            database_url=env.get(ENV_DATABASE_URL, "").strip() or (LOCAL_DATABASE_URL if local_stack else ""),
            redis_url=env.get(ENV_REDIS_URL, "").strip(),
        )
