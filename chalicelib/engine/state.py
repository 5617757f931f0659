"""The engine's own state of a session, apart from the interview's answers.

Six things: which mandatory blocks are done, the actions waiting to run (the
event stack), the task counters of `mark_task_as_performed`, the screen shown
last (so that the answer posted to it can be checked against it), the prior
answers: what Back discarded, so that a screen asked again shows the answers
given before (`showifdef(name, prior=True)`), and when each user last saved in
the session, with their privileges (`last_access_time()`). Its methods are the
only way to change it.

It is saved with each step, under the answers' `_internal` key, as plain data:
dicts, lists, text and numbers, plus the values the interview put in it (choice
values, action arguments), with a schema version. `SessionState.restore` reads
every schema this code ever wrote, so a session left open across an upgrade
goes on where it was:

- schema 1 (no `schema` key): the state as a free-form dict, with the screen as
  a pickled `ScreenView` under `screen.view`;
- schema 2: as 3, without the prior answers;
- schema 3: as 4, without the access times;
- schema 4: this module's `saved()` form; the screen is `screen_to_plain`'s dict,
  the prior answers a dict of top-level names to the values Back discarded, the
  access times a dict of user keys to `{"time": seconds, "privileges": [...]}`.

A field added to `ScreenView` later must have a default, and a field removed is
ignored when an older screen is read back (see `screen_from_plain`).
"""

from __future__ import annotations

import enum
import pickle
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from chalicelib.engine.errors import EngineError
from chalicelib.engine.screen import (
    RenderedAttachment,
    RenderedButton,
    RenderedChoice,
    RenderedField,
    ScreenView,
)
from chalicelib.language.blocks import Screen
from chalicelib.language.pycode import canonical

STATE_KEY = "_internal"  # where the state is saved among the answers (docassemble's name for it)
SCHEMA = 4
# The prior answers kept are bounded: at most this many names, and this many bytes (pickled) in all;
# a value bigger than that is not kept (its screen then shows its default, as before Back).
MAX_PRIOR_NAMES = 100
MAX_PRIOR_BYTES = 64 * 1024
# The access times kept: the users who saved last, at most this many (a shared session may have many).
MAX_ACCESS_USERS = 50
ANONYMOUS = "-1"  # the key of users who are not logged in, as docassemble stamps them


@dataclass(frozen=True)
class Access:
    """When a user last saved in the session (seconds since the epoch, UTC), with their privileges."""

    time: float
    privileges: tuple[str, ...]


class StateError(EngineError):
    """A saved session state this code cannot read."""


@dataclass(frozen=True)
class PendingAction:
    """An action waiting on the event stack (url_action, force_ask, an API event)."""

    name: str
    arguments: Mapping[str, Any] = field(default_factory=dict)


class SessionState:
    """What the engine remembers between turns, besides the answers."""

    __slots__ = ("_answered", "_actions", "_task_counts", "_screen", "_prior", "_access")

    def __init__(self, answered: Iterable[str] = (), actions: Iterable[PendingAction] = (),
                 task_counts: Mapping[str, int] | None = None, screen: ScreenView | None = None,
                 prior: Mapping[str, Any] | None = None, access: Mapping[str, Access] | None = None) -> None:
        self._answered: set[str] = set(answered)
        self._actions: list[PendingAction] = list(actions)
        self._task_counts: dict[str, int] = dict(task_counts or {})
        self._screen = screen
        self._prior: dict[str, Any] = dict(prior or {})
        self._access: dict[str, Access] = dict(access or {})

    def reset(self) -> None:
        """Forget everything (a restart of the interview in the same session)."""
        self._answered, self._actions, self._task_counts, self._screen = set(), [], {}, None
        self._prior, self._access = {}, {}

    # ------------------------------------------------------------------ mandatory blocks
    def has_answered(self, block: str) -> bool:
        return block in self._answered

    def mark_answered(self, block: str) -> None:
        self._answered.add(block)

    # ------------------------------------------------------------------ the event stack
    def current_action(self) -> PendingAction | None:
        return self._actions[-1] if self._actions else None

    def push_action(self, name: str, arguments: Mapping[str, Any] | None = None) -> None:
        self._actions.append(PendingAction(str(name), dict(arguments or {})))

    def push_actions(self, actions: Iterable[PendingAction]) -> None:
        """Put these on the stack so that the first of them runs first."""
        self._actions.extend(reversed(list(actions)))

    def pop_action(self, name: str) -> None:
        """Take the top action off the stack if it is `name` (compared as canonical names)."""
        if self._actions and canonical(self._actions[-1].name) == canonical(name):
            self._actions.pop()

    def replace_actions(self, name: str, arguments: Mapping[str, Any] | None = None) -> None:
        """Forget every waiting action; `name` is the only one left."""
        self._actions = [PendingAction(str(name), dict(arguments or {}))]

    def drop_actions(self, names: Iterable[str]) -> None:
        """Forget every waiting action named in `names` (events a caller has dealt with)."""
        done = set(names)
        self._actions = [a for a in self._actions if a.name not in done]

    # ------------------------------------------------------------------ task counters
    def task_count(self, task: str) -> int:
        return self._task_counts.get(task, 0)

    def set_task_count(self, task: str, times: int) -> None:
        self._task_counts[task] = int(times)

    # ------------------------------------------------------------------ the screen
    @property
    def screen(self) -> ScreenView | None:
        """The screen shown last and not yet answered."""
        return self._screen

    def show(self, screen: ScreenView) -> None:
        self._screen = screen

    def screen_answered(self) -> None:
        self._screen = None

    def replace_choices(self, choices: Mapping[str, tuple[tuple[RenderedChoice, ...], tuple[Any, ...]]]) -> None:
        """A check-in gave some fields of the screen new choices (by variable): the screen
        remembered follows, so an answer is read against the choices the user saw."""
        if self._screen is None or not choices:
            return
        updated = tuple(f if f.variable is None or f.variable not in choices else
                        replace(f, choices=choices[f.variable][0], choice_values=choices[f.variable][1], value=None)
                        for f in self._screen.fields)
        self._screen = replace(self._screen, fields=updated)

    # ------------------------------------------------------------------ prior answers (Back)
    @property
    def prior(self) -> Mapping[str, Any]:
        """The answers Back discarded, by top-level name (read-only: `remember_prior` changes them)."""
        return self._prior

    def remember_prior(self, discarded: Mapping[str, Any], kept: Mapping[str, Any],
                       discarded_prior: Mapping[str, Any]) -> None:
        """Back went from a step with the answers `discarded` (and its own prior answers) to this one,
        whose answers are `kept`: remember what the discarded step held that this one does not (a
        name it lacks, or holds another value), the discarded step's answers before its prior ones
        (they are newer), within MAX_PRIOR_NAMES and MAX_PRIOR_BYTES."""
        candidates: dict[str, Any] = {}
        for source in (discarded, discarded_prior, self._prior):
            for name, value in source.items():
                if name not in candidates and name != STATE_KEY and not name.startswith("_"):
                    candidates[name] = value
        prior: dict[str, Any] = {}
        budget = MAX_PRIOR_BYTES
        for name, value in candidates.items():
            if len(prior) >= MAX_PRIOR_NAMES:
                break
            size = _pickled_size(value)
            if size is None or size > budget or _same_value(value, kept, name):
                continue
            prior[name] = value
            budget -= size
        self._prior = prior

    def forget_prior(self, names: Iterable[str]) -> None:
        """Answers were given anew for `names`: a prior answer for any of them that is a whole
        top-level name is stale now (an attribute's is kept: its object may hold other answers)."""
        for name in names:
            self._prior.pop(name, None)

    # ------------------------------------------------------------------ access times
    @property
    def access(self) -> Mapping[str, Access]:
        """When each user last saved, by user id (ANONYMOUS for users not logged in)."""
        return self._access

    def record_access(self, user_id: str, privileges: Iterable[str], when: float) -> None:
        """A save by this user at `when`; only the MAX_ACCESS_USERS latest users are kept."""
        key = user_id or ANONYMOUS
        self._access.pop(key, None)
        self._access[key] = Access(float(when), tuple(privileges))
        while len(self._access) > MAX_ACCESS_USERS:
            oldest = min(self._access, key=lambda k: self._access[k].time)
            del self._access[oldest]

    # ------------------------------------------------------------------ saving
    def saved(self) -> dict[str, Any]:
        """The plain form saved with the step."""
        return {
            "schema": SCHEMA,
            "answered": sorted(self._answered),
            "actions": [{"action": a.name, "arguments": dict(a.arguments)} for a in self._actions],
            "task_counts": dict(self._task_counts),
            "screen": screen_to_plain(self._screen) if self._screen is not None else None,
            "prior": dict(self._prior),
            "access": {key: {"time": a.time, "privileges": list(a.privileges)} for key, a in self._access.items()},
        }

    @classmethod
    def restore(cls, saved: Any) -> SessionState:
        """The state from its saved form, of any schema this code wrote (None: a new session)."""
        if saved is None:
            return cls()
        if not isinstance(saved, Mapping):
            raise StateError(f"the saved session state should be a mapping, found {type(saved).__name__}")
        schema = saved.get("schema", 1)
        if schema == 1:
            return cls._restore_first(saved)
        if schema not in (2, 3, SCHEMA):
            raise StateError(f"the session was saved with state schema {schema!r}; this version reads 1 to "
                             f"{SCHEMA}: run the newer version of the engine, or start a new session")
        screen = saved.get("screen")
        prior = saved.get("prior") or {}  # schema 2 kept none
        if not isinstance(prior, Mapping):
            raise StateError(f"the saved prior answers should be a mapping, found {type(prior).__name__}")
        return cls(saved.get("answered") or (), [_action(item) for item in saved.get("actions") or ()],
                   saved.get("task_counts"), screen_from_plain(screen) if screen is not None else None, prior,
                   _access(saved.get("access") or {}))  # schemas 2 and 3 kept none

    @classmethod
    def _restore_first(cls, saved: Mapping[str, Any]) -> SessionState:
        record = saved.get("screen")
        view = record.get("view") if isinstance(record, Mapping) else None
        return cls(saved.get("answered") or (), [_action(item) for item in saved.get("event_stack") or ()],
                   saved.get("tasks"), view if isinstance(view, ScreenView) else None)

    @classmethod
    def take(cls, answers: dict[str, Any]) -> SessionState:
        """Take the saved state out of a step's answers (what is left is the interview's own)."""
        return cls.restore(answers.pop(STATE_KEY, None))

    def into(self, answers: Mapping[str, Any]) -> dict[str, Any]:
        """The step to save: the answers, with this state under STATE_KEY."""
        return {**answers, STATE_KEY: self.saved()}


def _pickled_size(value: Any) -> int | None:
    try:
        return len(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
    except Exception:  # a value that cannot be saved cannot be remembered either
        return None


def _same_value(value: Any, kept: Mapping[str, Any], name: str) -> bool:
    """True when `kept` holds the same value under `name` (compared as saved: objects have no equality)."""
    if name not in kept:
        return False
    other = kept[name]
    if other is value:
        return True
    try:
        return pickle.dumps(other, protocol=pickle.HIGHEST_PROTOCOL) == \
            pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:
        return False


def _access(saved: Any) -> dict[str, Access]:
    if not isinstance(saved, Mapping):
        raise StateError(f"the saved access times should be a mapping, found {type(saved).__name__}")
    try:
        return {str(key): Access(float(item["time"]), tuple(str(p) for p in item.get("privileges") or ()))
                for key, item in saved.items()}
    except (TypeError, KeyError, ValueError, AttributeError) as err:
        raise StateError(f"a saved access time should be {{'time': seconds, 'privileges': [...]}}: {err}") from err


def _action(item: Any) -> PendingAction:
    if not isinstance(item, Mapping):
        raise StateError(f"a saved action should be a mapping with 'action', found {item!r}")
    return PendingAction(str(item.get("action")), dict(item.get("arguments") or {}))


# ---------------------------------------------------------------------- the screen as plain data
_NESTED: dict[str, type] = {"fields": RenderedField, "buttons": RenderedButton, "attachments": RenderedAttachment,
                            "choices": RenderedChoice}
_TUPLES = {"event_list", "choice_values", "formats"}


def screen_to_plain(view: ScreenView) -> dict[str, Any]:
    return _plain(view)


def screen_from_plain(data: Mapping[str, Any]) -> ScreenView:
    """The screen from `screen_to_plain`'s dict, of this or an older version of ScreenView."""
    view = _build(ScreenView, data)
    assert isinstance(view, ScreenView)
    return view


def _plain(record: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields(record):
        value = getattr(record, f.name)
        if f.name in _NESTED:
            value = [_plain(item) for item in value]
        elif isinstance(value, enum.Enum):
            value = value.value
        elif f.name in _TUPLES:
            value = list(value)
        out[f.name] = value
    return out


def _build(cls: type, data: Any) -> Any:
    if not isinstance(data, Mapping):
        raise StateError(f"a saved {cls.__name__} should be a mapping, found {type(data).__name__}")
    known = {f.name for f in fields(cls)}
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        if name not in known:
            continue  # a field that has since been removed
        if name in _NESTED:
            value = tuple(_build(_NESTED[name], item) for item in value)
        elif name == "kind" and cls is ScreenView:
            value = Screen(value)
        elif name in _TUPLES:
            value = tuple(value)
        kwargs[name] = value
    try:
        return cls(**kwargs)
    except TypeError as err:
        raise StateError(f"a saved {cls.__name__} lacks a field this version needs ({err}); give new fields "
                         "of the screen records a default") from err
