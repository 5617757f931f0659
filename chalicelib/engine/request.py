"""What a turn is asked to do: the request, the user it runs as, and a posted answer.

Plain records that every entry point (browser, API, worker, check-in) fills in and
the engine reads; they hold no behaviour beyond reading themselves.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from chalicelib.engine.files import FILE_DATATYPES, FilePort
from chalicelib.engine.mail import MailPort
from chalicelib.engine.messages import MessagingDefaults
from chalicelib.engine.screen import ScreenView
from chalicelib.engine.tasks import TaskPort
from chalicelib.language.blocks import MULTIPLE_CHOICE, YESNO_CHECKBOXES


class Interface(enum.StrEnum):
    """Who a turn is for (docassemble's `interface`); authors may compare it with these strings."""

    WEB = "web"  # a browser page
    API = "api"  # the REST API
    BACKGROUND = "background"  # the background worker
    CHECKIN = "checkin"  # a page's check-in
    CRON = "cron"  # a scheduled pass (cron_hourly, cron_daily, ...)


class KeyValuePort(Protocol):
    """Persistent per-session/user/global values (task counters with persistent=True)."""

    def get(self, scope: str, key: str) -> Any: ...


class StashPort(Protocol):
    """Data kept outside any session under a key and a secret (stash_data / retrieve_stashed_data)."""

    def put(self, data: Any, expire: Any = None) -> tuple[str, str]: ...

    def get(self, key: str, secret: str, delete: bool = False, refresh: Any = False) -> Any: ...


class RecordsPort(Protocol):
    """Rows shared by every session, in lists by key (write_record / read_records / delete_record)."""

    def write(self, key: str, data: Any) -> int: ...

    def read(self, key: str) -> dict[int, Any]: ...

    def delete(self, key: str, record_id: int) -> None: ...


class KeyStorePort(Protocol):
    """A key-value store shared by every session (DARedis): values are bytes, with an optional expiry."""

    def put(self, key: str, value: bytes, expire: float | None = None) -> None: ...

    def fetch(self, key: str) -> bytes | None: ...

    def add(self, key: str, amount: int) -> int: ...

    def remove(self, key: str) -> bool: ...

    def names(self) -> list[str]: ...

    def expire(self, key: str, seconds: float) -> bool: ...

    def put_data(self, key: str, data: Any, expire: float | None = None) -> None:
        """Any picklable value, signed so that only what this app wrote is ever unpickled."""
        ...

    def fetch_data(self, key: str) -> Any: ...


class SqlPort(Protocol):
    """The SQL database of SQLObject (DATABASE_URL): a SQLAlchemy engine, made once per process."""

    def engine(self) -> Any: ...


class DataStorePort(Protocol):
    """Values kept outside any session under a key (DAStore), encrypted or signed as the caller says."""

    def put(self, key: str, data: Any, encrypted: bool, scope: str) -> None: ...

    def fetch(self, key: str, encrypted: bool, scope: str) -> Any: ...

    def remove(self, key: str) -> None: ...

    def names(self, prefix: str) -> list[str]: ...


class SessionsPort(Protocol):
    """Other sessions (create_session, set_session_variables, get_session_variables,
    run_action_in_session): reads at once; changes made after this turn commits, each once."""

    def create(self, interview: str, secret: str | None, url_args: Mapping[str, Any] | None) -> str: ...

    def set(self, interview: str, session_id: str, values: Mapping[str, Any], secret: str | None,
            question_name: str | None, overwrite: bool, delete: Sequence[str], process_objects: bool) -> None: ...

    def get(self, interview: str, session_id: str, secret: str | None, simplify: bool) -> Any: ...

    def run_action(self, interview: str, session_id: str, action: str, arguments: Mapping[str, Any],
                   secret: str | None, persistent: bool, overwrite: bool) -> None: ...


@dataclass(frozen=True)
class UserInfo:
    id: str = ""
    email: str = ""
    first_name: str = "Anonymous"
    last_name: str = "User"
    privileges: tuple[str, ...] = ("user",)
    logged_in: bool = False


@dataclass(frozen=True)
class Request:
    """What this turn was asked to do."""

    interview: str
    session_id: str
    action: str | None = None
    arguments: Mapping[str, Any] = field(default_factory=dict)
    persistent_action: bool = True
    url_args: Mapping[str, Any] = field(default_factory=dict)
    user: UserInfo = field(default_factory=UserInfo)
    base_url: str = ""
    interface: str = Interface.WEB
    kv: KeyValuePort | None = None
    tasks: TaskPort | None = None
    mail: MailPort | None = None  # the session's inbound mail addresses (interview_email, get_emails)
    files: FilePort | None = None  # the stored files of uploads (DAFile.path(), set_attributes())
    stash: StashPort | None = None
    records: RecordsPort | None = None
    keystore: KeyStorePort | None = None
    sql: SqlPort | None = None  # SQLObject's database
    datastore: DataStorePort | None = None  # DAStore
    user_key: bytes | None = field(default=None, repr=False)  # a signed-in browser user's own key (DAStore)
    sessions: SessionsPort | None = None  # other sessions (runtime.push_pull)
    step: int = 1
    messaging: MessagingDefaults = field(default_factory=MessagingDefaults)  # DEFAULT_SENDER, DEFAULT_COUNTRY
    # Signs the action links url_action() makes: (session id, action, arguments) → signature.
    # Set by the runtime; without it links carry no signature, and the web refuses to run them.
    sign_link: Callable[[str, str, Mapping[str, Any]], str] | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Upload:
    """A file as posted: the name the client gave and the bytes (its content type is not trusted)."""

    filename: str
    data: bytes = field(repr=False)

    def __str__(self) -> str:  # what the answer-length check counts: the name, not the bytes
        return self.filename


@dataclass(frozen=True)
class FormAnswer:
    """An answer as a page posts it: the raw values of the screen's fields by their position
    on the screen, the screen it answers (its block name), and the pressed button, if any."""

    screen: str
    positions: Mapping[int, Sequence[str | Upload]] = field(default_factory=dict)
    button: str | None = None

    def values(self, view: ScreenView) -> dict[str, Any]:
        """The values by variable name: a list for checkboxes and for files (the Uploads), the last value
        for the others;
        an unticked yes/no checkbox (not posted at all) is False."""
        values: dict[str, Any] = {}
        for index, shown in enumerate(view.fields):
            if shown.variable is None:
                continue
            raw = self.positions.get(index)
            if shown.datatype in FILE_DATATYPES:  # the files chosen (an empty file input posts one of 0 bytes)
                values[shown.variable] = [r for r in raw or [] if isinstance(r, Upload) and r.data]
            elif shown.datatype in MULTIPLE_CHOICE:
                values[shown.variable] = list(raw or [])
            elif raw:
                values[shown.variable] = raw[-1]
            elif shown.datatype in YESNO_CHECKBOXES:
                values[shown.variable] = "False"
        return values
