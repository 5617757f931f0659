"""Functions interview authors call that need the current turn.

`AuthorFunctions(ev)` binds them to one Evaluation, so `action_argument()` or
`url_action()` know the session and action without any global or thread-local
state. `namespace.build(ev)` puts them (with the pure helpers and the object
classes) into the names that interview code sees.
"""

from __future__ import annotations

import base64
import copy
import datetime
import json
import logging
import time
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from chalicelib.engine import assign
from chalicelib.engine.request import RecordsPort, StashPort
from chalicelib.engine.screen import MessagePriority
from chalicelib.engine.signals import (
    UI_NOTIFICATIONS,
    BackgroundResponseActionSignal,
    BackgroundResponseSignal,
    Command,
    CommandSignal,
    ForceAskSignal,
    MessageSignal,
    MissingVariable,
    ResponseSignal,
    UiNotification,
)
from chalicelib.library import access

if TYPE_CHECKING:
    from chalicelib.engine.evaluator import Evaluation

_author_log = logging.getLogger("chalicelib.interviews")
_COMMANDS = frozenset(Command)
_UI_NOTIFICATIONS_TEXT = ", ".join(f"'{kind}'" for kind in UI_NOTIFICATIONS)
_RESERVED_URL_KW = {"i", "session", "local", "new_session", "reset", "style", "_forget_prior", "temporary",
                    "once_temporary"}


def encode_action(action: str, arguments: Mapping[str, Any]) -> str:
    """The `action=` blob of docassemble: base64 of {"action", "arguments"}, no padding."""
    payload = json.dumps({"action": action, "arguments": dict(arguments)}, default=str)
    return base64.b64encode(payload.encode("utf-8")).decode("ascii").rstrip("=")


def decode_action(blob: str) -> tuple[str, dict[str, Any]]:
    """Inverse of encode_action; raises ValueError for anything malformed."""
    text = blob.strip().replace(" ", "+")
    text += "=" * (-len(text) % 4)
    try:
        data = json.loads(base64.b64decode(text, validate=False).decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError) as err:  # RecursionError: nested too deeply
        raise ValueError("the action parameter is not a valid action link") from err
    if not isinstance(data, dict) or not isinstance(data.get("action"), str):
        raise ValueError("the action parameter does not name an action")
    arguments = data.get("arguments") or {}
    if not isinstance(arguments, dict):
        raise ValueError("the action's arguments must be a JSON object")
    return data["action"], arguments


class UserInfoView:
    """What `user_info()` returns: the user plus the current context."""

    def __init__(self, ev: Evaluation) -> None:
        user = ev.request.user
        self.id = user.id or None
        self.email = user.email or None
        self.first_name = user.first_name
        self.last_name = user.last_name
        self.privileges = list(user.privileges)
        self.session = ev.request.session_id
        self.filename = ev.request.interview
        self.current_filename = ev.request.interview
        self.package = None
        self.language = "en"
        self.phone_number = None
        self.country = None
        self.timezone = None

    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class ContextView:
    """What `current_context()` returns: where the code runs (session, interview file, interface)."""

    def __init__(self, ev: Evaluation) -> None:
        self.session = ev.request.session_id
        self.filename = ev.request.interview
        self.current_filename = ev.request.interview
        self.package = None
        self.current_package = None
        self.interface = str(ev.request.interface)
        self.inside_of = "standard"
        self.request_url: dict[str, Any] = {"url": ev.request.base_url}


class AuthorFunctions:
    """Functions bound to one evaluation; see each docstring for the author-facing behaviour."""

    def __init__(self, ev: Evaluation) -> None:
        self.ev = ev

    # ------------------------------------------------------------------ actions
    def url_action(self, action: str, **kwargs: Any) -> str:
        """A link that runs `action` with `kwargs` as its arguments.

        The link is signed for this session: opened in another session (or altered), it runs nothing.

        Example: ``[Add a fish](${ url_action('add', color='blue') })``
        """
        forget = kwargs.pop("_forget_prior", False)
        if forget:
            kwargs = {"_action": action, "_arguments": kwargs}
            action = "_da_priority_action"
        request = self.ev.request
        link = (f"{request.base_url}/interview?i={quote(request.interview)}"
                f"&action={quote(encode_action(action, kwargs), safe='')}")
        signature = self._signature(request.session_id, action, kwargs)
        return f"{link}&sig={signature}" if signature else link

    def _signature(self, session_id: str, action: str, arguments: Mapping[str, Any]) -> str:
        """The link's signature for this session, so that opening it may run the action ('' unsigned)."""
        sign = self.ev.request.sign_link
        return sign(session_id, action, arguments) if sign is not None else ""

    def url_ask(self, spec: Any) -> str:
        """A link that asks the given variable(s) again.

        Example: ``[Change](${ url_ask('favorite_color') })``
        """
        items = spec if isinstance(spec, list) else [spec]
        return self.url_action("_da_force_ask", variables=items)

    def interview_url(self, **kwargs: Any) -> str:
        """An absolute link to this session (or to `session=` of `i=`); other keyword arguments become
        url_args. With `temporary=` (hours; True or 0: 24) the link goes through /goto and stops
        working after that many hours."""
        request = self.ev.request
        params = {"i": kwargs.pop("i", request.interview)}
        if "session" in kwargs or kwargs.pop("new_session", None) is None:
            params["session"] = kwargs.pop("session", request.session_id)
        local = kwargs.pop("local", False)
        hours = _temporary_hours(kwargs.pop("temporary", None))
        for key in _RESERVED_URL_KW:
            kwargs.pop(key, None)
        params.update({k: str(v) for k, v in kwargs.items()})
        path = f"/interview?{urlencode(params)}"
        if hours is not None and request.sign_link is not None:
            expires = int(time.time() + hours * 3600)
            signature = request.sign_link(TEMPORARY_LINK_SCOPE, path, {"e": expires})
            path = f"/goto?{urlencode({'u': path, 'e': expires, 'sig': signature})}"
        return path if local else f"{request.base_url}{path}"

    def interview_url_action(self, action: str, **kwargs: Any) -> str:
        """Like interview_url, with an action to run when the link is opened."""
        request = self.ev.request
        params = {"i": kwargs.pop("i", request.interview), "session": kwargs.pop("session", request.session_id)}
        local = kwargs.pop("local", False)
        for key in _RESERVED_URL_KW:
            kwargs.pop(key, None)
        params["action"] = encode_action(action, kwargs)
        signature = self._signature(str(params["session"]), action, kwargs)
        if signature:
            params["sig"] = signature
        path = f"/interview?{urlencode(params)}"
        return path if local else f"{request.base_url}{path}"

    def action_argument(self, name: str | None = None) -> Any:
        """An argument of the current action (None if absent); with no name, the action's name.

        Example: ``fishes[action_argument('color')] += 1``
        """
        if name is None:
            return None if self.ev.action_processed else self._pending_action_name()
        return self.ev.action_arguments.get(name, self._request_arguments().get(name))

    def action_arguments(self) -> dict[str, Any]:
        """A copy of all the current action's arguments."""
        arguments = dict(self._request_arguments())
        arguments.update(self.ev.action_arguments)
        if "_initial" in arguments and "_changed" in arguments:
            arguments.pop("_initial")
            arguments.pop("_changed")
        return copy.deepcopy(arguments)

    def _request_arguments(self) -> Mapping[str, Any]:
        return self.ev.request.arguments if self.ev.request.action else {}

    def _pending_action_name(self) -> str | None:
        if self.ev.request.action:
            return self.ev.request.action
        pending = self.ev.state.current_action()
        return pending.name if pending else None

    def process_action(self) -> None:
        """Run the requested action now (normally automatic before initial/mandatory blocks)."""
        self.ev.process_action()

    def force_ask(self, *names: Any) -> None:
        """Ask these variables now, even if they are defined, in order."""
        raise ForceAskSignal(list(names))

    # ------------------------------------------------------------------ special responses
    def response(self, response: Any = None, *, binaryresponse: bytes | None = None, file: Any = None,
                 url: str | None = None, null: bool = False, all_variables: bool = False,
                 content_type: str | None = None, response_code: int = 200, sleep: float | None = None) -> None:
        """Send this text (or bytes, or a redirect) instead of a screen.

        Example: ``response(json.dumps(data), content_type="application/json")``
        """
        if all_variables:
            body = self.variables_as_json().encode("utf-8")
            raise ResponseSignal(body, "application/json", response_code, all_variables=True)
        if url is not None:
            raise ResponseSignal(b"", "text/plain", 302, url=url)
        if binaryresponse is not None:
            raise ResponseSignal(binaryresponse, content_type or "application/octet-stream", response_code)
        body = ("Empty Response" if response is None and not null else str(response or "")).encode("utf-8")
        raise ResponseSignal(body, content_type or "text/plain; charset=utf-8", response_code, null=null)

    def json_response(self, data: Any, response_code: int | None = None) -> None:
        """Send `data` as JSON (sorted keys, indented)."""
        body = (json.dumps(data, sort_keys=True, indent=2, default=str) + "\n").encode("utf-8")
        raise ResponseSignal(body, "application/json", response_code or 200)

    def variables_as_json(self, include_internal: bool = False) -> str:
        """The answers as JSON text."""
        from chalicelib.library.serialize import jsonable

        answers = self.ev.answers()
        if include_internal:
            answers = self.ev.state.into(answers)
        return json.dumps(jsonable(answers), sort_keys=True, indent=2)

    def command(self, type: str = Command.EXIT, url: str | None = None, sleep: float | None = None,
                question_text: str | None = None, subquestion_text: str | None = None) -> None:
        """End the turn with a command: exit, leave, restart, refresh, new_session, wait, ...

        Example: ``command('exit', url='https://example.com')``
        """
        if type not in _COMMANDS:
            raise ValueError(f"command() got {type!r}; expected one of {', '.join(sorted(_COMMANDS))}")
        raise CommandSignal(type, url or question_text, sleep, question_text, subquestion_text)

    def message(self, question: str, subquestion: str | None = None, url: str | None = None,
                show_exit: bool | None = None, show_leave: bool | None = None, show_restart: bool | None = None,
                buttons: list[dict[str, Any]] | None = None, dead_end: bool = False,
                reload: float | None = None) -> None:
        """Show a one-off screen with Exit and Restart buttons (or your own `buttons`)."""
        raise MessageSignal(question, subquestion, url, show_exit, show_leave, show_restart, buttons,
                            dead_end, reload)

    def background_response(self, *pargs: Any, **kwargs: Any) -> None:
        """End background or check-in code with a value (see the background tasks guide)."""
        sleep = kwargs.pop("sleep", None)
        kind = None
        if len(pargs) == 2 and pargs[1] in UI_NOTIFICATIONS:
            value, kind = pargs[0], str(pargs[1])
        elif len(pargs) == 1 and pargs[0] == UiNotification.REFRESH and not kwargs:
            value, kind = None, UiNotification.REFRESH.value
        elif pargs and kwargs:
            value = {"pargs": list(pargs), "kwargs": kwargs}
        elif len(pargs) == 1:
            value = pargs[0]
        elif pargs:
            value = list(pargs)
        else:
            value = kwargs or None
        raise BackgroundResponseSignal(value, kind, sleep)

    def background_action(self, action: str, ui_notification: str | None = None, **kwargs: Any) -> Any:
        """Run `action` in the background; returns a task handle at once.

        The task is queued only when this turn's answers are saved, so it sees them.
        `ui_notification` ('flash', 'refresh', 'javascript' or 'fields') sends its
        result to the user's screen when it is done.

        Example: ``the_task = background_action('bg_task', 'flash', additional=value_to_add)``
        """
        from chalicelib.engine.tasks import NewTask
        from chalicelib.library.tasks import BackgroundTask

        if ui_notification is not None and ui_notification not in UI_NOTIFICATIONS:
            raise ValueError(f"background_action() got ui_notification={ui_notification!r}; expected None or one "
                             f"of {_UI_NOTIFICATIONS_TEXT}")
        # A block re-run in the same turn (after a name it needed was asked) calls this again
        # with the same arguments: give back the same task rather than queue a second one.
        for queued in self.ev.outbox:
            if (queued.action, queued.ui) == (str(action), ui_notification) and queued.arguments == kwargs:
                return BackgroundTask(queued.task_id, queued.action)
        task = NewTask(uuid.uuid4().hex, str(action), dict(kwargs), ui_notification)
        self.ev.outbox.append(task)
        return BackgroundTask(task.task_id, task.action)

    # ------------------------------------------------------------------ inbound mail
    def interview_email(self, key: Any = None, index: Any = None) -> str:
        """An e-mail address for this session (and `key`, `index`): mail sent to it is recorded on
        the session (see get_emails) and runs the `incoming_email` event, in the background. The
        same arguments give the same address; it exists once this turn's answers are saved.
        Needs `multi_user = True`: mail to an encrypted session is dropped, unless the server runs
        with MAIL_ENCRYPTED_SESSIONS=1 (then the address holds the session key, wrapped for the server).

        Example: ``Send your documents to ${ interview_email() }``
        """
        from chalicelib.engine.mail import NewAddress

        if index is not None and key is None:
            raise ValueError("interview_email() got an index without a key; give a key too, e.g. "
                             "interview_email(key='case', index=1)")
        port = self._mail_port("interview_email")
        wanted = (_mail_text(key), _mail_text(index))
        for made in [*self.ev.new_addresses, *port.addresses()]:
            if (made.key, made.index) == wanted:
                return f"{made.short}@{port.domain}"
        address = NewAddress(_short_code(), *wanted)
        self.ev.new_addresses.append(address)
        return f"{address.short}@{port.domain}"

    def get_emails(self, key: Any = None, index: Any = None) -> list[Any]:
        """The session's addresses, oldest first (only those of `key`/`index` when given), each with
        `address` (the part before the @), `key`, `index` and `emails`, the mails received on it.

        Example: ``% for item in get_emails():`` … ``${ len(item.emails) }`` … ``% endfor``
        """
        from chalicelib.library.mail import DAEmail, EmailAddressItem

        port = self._mail_port("get_emails")
        wanted_key, wanted_index = _mail_text(key), _mail_text(index)
        items = [EmailAddressItem(a.short, a.key, a.index, a.owner, [DAEmail.from_summary(m) for m in a.mails])
                 for a in port.addresses()]
        items += [EmailAddressItem(a.short, a.key, a.index, None, []) for a in self.ev.new_addresses]
        return [item for item in items if (key is None or item.key == wanted_key)
                and (index is None or item.index == wanted_index)]

    def _mail_port(self, function: str) -> Any:
        port = self.ev.request.mail
        if port is None:
            raise RuntimeError(f"{function}() is not available here: this turn has no mail service")
        return port

    def background_error_action(self, action: str, **kwargs: Any) -> None:
        """In background code: if it fails, run `action` with these arguments plus error_type,
        error_message, error_trace and variables.

        Example: ``background_error_action('bg_fail', stage='calculation')``
        """
        self.ev.error_action = (str(action), dict(kwargs))

    def background_response_action(self, action: str, **kwargs: Any) -> None:
        """End background code and run the callback `action` with these arguments."""
        raise BackgroundResponseActionSignal(action, kwargs)

    # ------------------------------------------------------------------ names and values
    def need(self, *pargs: Any) -> bool:
        """Make sure each argument is defined (asking for it if needed); returns True."""
        return True

    def defined(self, name: str) -> bool:
        """True if the variable named by the string is defined (nothing is asked)."""
        return self.ev.is_defined(name)

    def value(self, name: str) -> Any:
        """The value of the variable named by the string, asking for it if needed."""
        return self.ev.seek(name)

    def showifdef(self, name: str, alternative: Any = "", prior: bool = False) -> Any:
        """The variable's value if it is defined, else `alternative`. With `prior=True`, a variable
        that is not defined gives the answer Back discarded, if there is one.

        Example: ``showifdef('country', 'US', prior=True)``
        """
        for names in (self.ev.namespace, self.ev.state.prior) if prior else (self.ev.namespace,):
            try:
                return assign.lookup(names, name)
            except MissingVariable:
                continue
        return alternative

    def undefine(self, *names: str) -> None:
        """Make the named variables undefined again."""
        for name in names:
            assign.delete(self.ev.namespace, name)

    def log(self, message: Any, priority: str = MessagePriority.LOG) -> None:
        """Write to the server log; other priorities (info, success, warning, danger) are also shown
        to the user: a flash message in the browser, `message_log` in the API.

        Example: ``log('Your answers were saved.', 'success')``
        """
        _author_log.info("%s: %s", self.ev.request.interview, message)
        self.ev.log(str(message), priority)

    # ------------------------------------------------------------------ users
    def user_info(self) -> UserInfoView:
        return UserInfoView(self.ev)

    def current_context(self) -> ContextView:
        return ContextView(self.ev)

    def user_logged_in(self) -> bool:
        return self.ev.request.user.logged_in

    def user_has_privilege(self, *names: Any) -> bool:
        wanted: set[str] = set()
        for name in names:
            wanted.update(name if isinstance(name, (list, tuple, set)) else [name])
        return bool(wanted & set(self.ev.request.user.privileges))

    def user_privileges(self) -> list[str]:
        return list(self.ev.request.user.privileges)

    # ------------------------------------------------------------------ e-mail and SMS (library.messaging)
    def send_email(self, to: Any = None, sender: Any = None, reply_to: Any = None, cc: Any = None,
                   bcc: Any = None, body: Any = None, html: Any = None, subject: Any = "", template: Any = None,
                   task: Any = None, task_persistent: Any = False, attachments: Any = None,
                   mailgun_variables: Any = None, dry_run: Any = False, config: Any = None) -> bool:
        """Send an e-mail (SES) once this turn is saved; True when it is recorded for sending.

        `to`, `cc`, `bcc`: addresses, Individuals (`.email`, `.name`) or lists of them; `template`: a
        template block (its subject, and its content as text and HTML); `attachments`: assembled
        documents. A bad address or attachment, or `dry_run`, sends nothing and gives False.

        Example: ``email_sent_ok = send_email(to=recipient, template=notification)``
        """
        from chalicelib.library import messaging

        defaults = self.ev.request.messaging
        return messaging.record(self.ev, lambda: messaging.build_email(
            to=to, sender=sender, reply_to=reply_to, cc=cc, bcc=bcc, body=body, html=html, subject=subject,
            template=template, attachments=attachments, default_sender=defaults.sender),
            task, task_persistent, dry_run, "send_email")

    def send_sms(self, to: Any = None, body: Any = None, template: Any = None, task: Any = None,
                 task_persistent: Any = False, attachments: Any = None, config: Any = "default",
                 dry_run: Any = False) -> bool:
        """Send an SMS (SNS) once this turn is saved; True when it is recorded for sending.

        `to`: numbers, or Individuals (`.mobile_number`, else `.phone_number`, read in their `.country`,
        else DEFAULT_COUNTRY); `template`: its subject and content as plain text. A bad number, or
        `dry_run`, sends nothing and gives False.

        Example: ``message_sent = send_sms(to=client, template=my_message)``
        """
        from chalicelib.library import messaging

        if attachments:
            _author_log.warning("send_sms() in %s sent nothing: MMS attachments are not supported",
                                self.ev.request.interview)
            return False
        country = self.ev.request.messaging.country
        return messaging.record(self.ev, lambda: messaging.build_sms(to=to, body=body, template=template,
                                                                     default_country=country),
                                task, task_persistent, dry_run, "send_sms")

    # ------------------------------------------------------------------ task counters
    def _counters(self, persistent: Any) -> dict[str, int]:
        """The persistent counters of `persistent`'s scope, as this turn will save them."""
        scope = "session" if persistent is True else str(persistent)
        key = (scope, "tasks")
        if key not in self.ev.kv_writes:
            port = self.ev.request.kv
            stored = port.get(scope, "tasks") if port is not None else None
            self.ev.kv_writes[key] = dict(stored or {})
        counters: dict[str, int] = self.ev.kv_writes[key]
        return counters

    def task_performed(self, task: str, persistent: Any = False) -> bool:
        """True once mark_task_as_performed(task) has been called.

        Example: ``if task_not_yet_performed('reminder'): send_email(...)``
        """
        return self.times_task_performed(task, persistent) > 0

    def task_not_yet_performed(self, task: str, persistent: Any = False) -> bool:
        return not self.task_performed(task, persistent)

    def mark_task_as_performed(self, task: str, persistent: Any = False) -> int:
        times = self.times_task_performed(task, persistent) + 1
        self.set_task_counter(task, times, persistent)
        return times

    def times_task_performed(self, task: str, persistent: Any = False) -> int:
        if not persistent:
            return self.ev.state.task_count(task)
        return self._counters(persistent).get(task, 0)

    # ------------------------------------------------------------------ stashed data (runtime.stash)
    def stash_data(self, data: Any, expire: Any = None) -> tuple[str, str]:
        return self._stash().put(data, expire)

    def retrieve_stashed_data(self, stash_key: str, secret: str, delete: bool = False, refresh: Any = False) -> Any:
        return self._stash().get(str(stash_key), str(secret), bool(delete), refresh)

    # ------------------------------------------------------------------ shared records (runtime.records)
    def write_record(self, key: str, data: Any) -> int:
        return self._records().write(key, data)

    def read_records(self, key: str) -> dict[int, Any]:
        return self._records().read(key)

    def delete_record(self, key: str, id: int) -> None:
        self._records().delete(key, id)

    # ------------------------------------------------------------------ snapshots (library.snapshots)
    def store_variables_snapshot(self, data: Any = None, include_internal: bool = False, key: Any = None,
                                 persistent: bool = False) -> None:
        """Keep a JSON snapshot of the answers (or of `data`) outside the session, one per `key`,
        written with this turn; admins read them at GET /api/snapshots.

        Example: ``store_variables_snapshot(data={'zip': zip_code}, key='survey', persistent=True)``
        """
        from chalicelib.library import snapshots

        snapshots.store(self.ev, data, include_internal, key, persistent)

    def _records(self) -> RecordsPort:
        if self.ev.request.records is None:
            raise RuntimeError("shared records are not available here (no store was given to this evaluation)")
        return self.ev.request.records

    def _stash(self) -> StashPort:
        if self.ev.request.stash is None:
            raise RuntimeError("stashed data is not available here (no stash store was given to this evaluation)")
        return self.ev.request.stash

    # ------------------------------------------------------------------ access times (library.access)
    def last_access_time(self, include_privileges: Any = None, exclude_privileges: Any = None,
                         include_cron: bool = False, timezone: Any = None) -> Any:
        return access.as_time(access.latest(self.ev.state.access, include_privileges, exclude_privileges,
                                            include_cron), timezone)

    def last_access_delta(self, include_privileges: Any = None, exclude_privileges: Any = None,
                          include_cron: bool = False) -> datetime.timedelta:
        stamp = access.latest(self.ev.state.access, include_privileges, exclude_privileges, include_cron)
        return access.delta(stamp, time.time())

    def last_access_days(self, *args: Any, **kwargs: Any) -> float:
        return self.last_access_delta(*args, **kwargs).total_seconds() / 86400

    def last_access_hours(self, *args: Any, **kwargs: Any) -> float:
        return self.last_access_delta(*args, **kwargs).total_seconds() / 3600

    def last_access_minutes(self, *args: Any, **kwargs: Any) -> float:
        return self.last_access_delta(*args, **kwargs).total_seconds() / 60

    def set_task_counter(self, task: str, times: int, persistent: Any = False) -> None:
        if not persistent:
            self.ev.state.set_task_count(task, int(times))
        else:
            self._counters(persistent)[task] = int(times)

    def bound(self) -> dict[str, Any]:
        names = [n for n in dir(self) if not n.startswith("_") and n not in ("ev", "bound")]
        return {n: getattr(self, n) for n in names}


# The "session" a temporary link's signature is made for: never a session id (32 letters and digits),
# so a temporary link's signature can never pass for an action link's, nor the other way round.
TEMPORARY_LINK_SCOPE = "goto"
_MAX_TEMPORARY_HOURS = 24 * 366


def _temporary_hours(value: Any) -> float | None:
    """interview_url's `temporary=`: None (or False) for an ordinary link; True or 0 for 24 hours
    (as docassemble documents); else a number of hours, at most a year."""
    if value is None or value is False:
        return None
    if value is True:
        return 24.0
    if not isinstance(value, (int, float)) or not 0 <= value <= _MAX_TEMPORARY_HOURS:
        raise ValueError(f"temporary must be a number of hours from 0 to {_MAX_TEMPORARY_HOURS} (or True), "
                         f"found {value!r}")
    return float(value) or 24.0


_SHORT_CODE_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_SHORT_CODE_LENGTH = 10  # 26**10 codes: a short code cannot be guessed, and a clash (retried) is rare


def _short_code() -> str:
    import secrets

    return "".join(secrets.choice(_SHORT_CODE_LETTERS) for _ in range(_SHORT_CODE_LENGTH))


def _mail_text(value: Any) -> str | None:
    return None if value is None else str(value)
