"""Other sessions as one turn's interview code sees them (create_session, set_session_variables,
get_session_variables, run_action_in_session): the `sessions` port of the engine's Request.

A read (`get`) is immediate: one read of the other session. A change is only *planned*
here: the call checks that it can be made (the session exists and the secret opens it;
one read), gives it its idempotency key (the calling turn's id and the call's place in the
turn) and keeps it for the turn's commit. The runtime commits the planned changes with the
calling turn and applies them after it (runtime.effects), each as a turn on the other
session. So the changes of a turn that does not commit (it lost a race and runs again, it
ended in an error) are never applied, and those of a turn that commits are applied once.

`create_session` gives the id of the new session at once, derived from the calling turn's id
and the call's place (storage.sealing's `derived_id`, a MAC under a server sub-key), so a turn
run again makes the same id, and a create applied twice finds the id taken. Changes to a
session created in the same turn are applied after it is created, in the order made.

Secrets: `secret=None` means the calling session's own secret (as docassemble does). A turn
without a secret of its own (a shared session opened by its id, a scheduled run) must pass
one to reach an encrypted session, and to create one.
"""

from __future__ import annotations

import pickle
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from chalicelib.engine.request import Request, UserInfo
from chalicelib.library.serialize import jsonable
from chalicelib.runtime.clock import Clock
from chalicelib.runtime.errors import OtherSessionError, WeakSecretError
from chalicelib.runtime.refs import SESSION_ID_LENGTH, SessionRef, VariableChanges
from chalicelib.runtime.retry import Jitter
from chalicelib.runtime.services import Services
from chalicelib.runtime.variables import check_writable
from chalicelib.storage import crypto
from chalicelib.storage.effects import EffectKind
from chalicelib.storage.errors import SessionNotFoundError, WrongSecretError


class _Saved(Protocol):
    def variables(self) -> dict[str, Any]: ...


class SessionUseCases(Protocol):
    """What this module and runtime.effects use of `runtime.sessions.Sessions` (which imports them)."""

    services: Services
    clock: Clock
    jitter: Jitter

    def key_for(self, ref: SessionRef) -> bytes | None: ...

    def read(self, ref: SessionRef) -> _Saved: ...

    def start(self, interview_name: str, *, url_args: Mapping[str, Any] | None = None, user: UserInfo | None = None,
              interface: str = ..., session_id: str | None = None, key: bytes | None = None) -> object: ...

    def set_variables(self, ref: SessionRef, request: Request, changes: VariableChanges, new_step: bool = True,
                      evaluate: bool = True, mark: str | None = None) -> object: ...

    def run_action(self, ref: SessionRef, request: Request, new_step: bool = True,
                   mark: str | None = None) -> object: ...

_ID_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
MAX_CHANGES_PER_TURN = 20  # changes to other sessions one turn may ask for (each is an item of its commit)
MAX_CHANGE_BYTES = 300_000  # one change's values, pickled: its item must fit in DynamoDB's 400 KB
MAX_TURN_CHANGE_BYTES = 1_500_000  # all of a turn's changes: its commit must fit in a 4 MB transaction


@dataclass(frozen=True)
class PlannedEffect:
    """A change to another session asked for in this turn, not yet committed."""

    key: str  # "<turn id>-<index>", the index in two digits, so that keys sort in the order made
    kind: EffectKind
    interview: str
    session_id: str
    data: Mapping[str, Any] = field(repr=False)  # what the change needs, with the target's key: sealed when stored


def derive_session_id(digest: bytes, length: int) -> str:
    """`length` letters and digits from a MAC (a session id, like those Sessions.start draws)."""
    number = int.from_bytes(digest, "big")
    letters = []
    for _ in range(length):
        number, index = divmod(number, len(_ID_LETTERS))
        letters.append(_ID_LETTERS[index])
    return "".join(letters)


class OtherSessions:
    """The port for one evaluation of one turn. `turn_id` None: this evaluation saves nothing (a
    background run), so it may read other sessions but not change them."""

    def __init__(self, sessions: SessionUseCases, interview: str, session_id: str, secret: str | None, user: UserInfo,
                 turn_id: str | None) -> None:
        self._sessions = sessions
        self._interview, self._session_id, self._secret = interview, session_id, secret
        self._user, self._turn_id = user, turn_id
        self.planned: list[PlannedEffect] = []
        self._bytes = 0  # the pickled size of the planned changes
        self._created: dict[str, bytes] = {}  # sessions created in this turn: their keys

    # ------------------------------------------------------------------ the port
    def create(self, interview: str, secret: str | None, url_args: Mapping[str, Any] | None) -> str:
        self._sessions.services.loader.load(interview)  # a missing interview is an error now, not later
        turn_id = self._changing("create_session")
        key = f"{turn_id}-{len(self.planned):02d}"
        session_id = derive_session_id(self._sessions.services.sealer.derived_id(self._session_id, key),
                                       SESSION_ID_LENGTH)
        chosen = self._secret_for(secret, creating=True)
        session_key = crypto.session_key(chosen, session_id)
        self._created[session_id] = session_key
        self._plan(PlannedEffect(key, EffectKind.CREATE, interview, session_id,
                                 {"key": session_key, "url_args": dict(url_args or {})}))
        return session_id

    def set(self, interview: str, session_id: str, values: Mapping[str, Any], secret: str | None,
            question_name: str | None, overwrite: bool, delete: Sequence[str], process_objects: bool) -> None:
        for name in [*values, *delete]:
            check_writable(str(name))
        turn_id = self._changing("set_session_variables")
        target_key = self._check_target(interview, session_id, secret)
        self._plan(PlannedEffect(f"{turn_id}-{len(self.planned):02d}", EffectKind.SET, interview, session_id, {
            "key": target_key, "values": dict(values), "delete": list(delete), "question_name": question_name,
            "overwrite": bool(overwrite), "process_objects": bool(process_objects)}))

    def run_action(self, interview: str, session_id: str, action: str, arguments: Mapping[str, Any],
                   secret: str | None, persistent: bool, overwrite: bool) -> None:
        turn_id = self._changing("run_action_in_session")
        target_key = self._check_target(interview, session_id, secret)
        self._plan(PlannedEffect(f"{turn_id}-{len(self.planned):02d}", EffectKind.ACTION, interview, session_id, {
            "key": target_key, "action": action, "arguments": dict(arguments), "persistent": bool(persistent),
            "overwrite": bool(overwrite)}))

    def get(self, interview: str, session_id: str, secret: str | None, simplify: bool) -> Any:
        self._not_self(interview, session_id)
        if session_id in self._created:
            raise OtherSessionError(f"session {session_id} is created when this turn is saved; its variables can "
                                    "be read from the next screen on")
        ref = SessionRef(interview, session_id, key=self._key_of(session_id, secret))
        try:
            variables = self._sessions.read(ref).variables()
        except (SessionNotFoundError, WrongSecretError) as err:
            raise self._cannot(interview, session_id, err) from None
        return jsonable(variables) if simplify else variables

    # ------------------------------------------------------------------ checks
    def _changing(self, function: str) -> str:
        if self._turn_id is None:
            raise OtherSessionError(f"{function}() cannot change another session from a background action, "
                                    "which saves nothing; call it in the callback (background_response_action)")
        if len(self.planned) >= MAX_CHANGES_PER_TURN:
            raise OtherSessionError(f"one turn may make at most {MAX_CHANGES_PER_TURN} changes to other sessions; "
                                    f"{function}() would be one more; spread them over several turns")
        return self._turn_id

    def _plan(self, effect: PlannedEffect) -> None:
        try:
            size = len(pickle.dumps(dict(effect.data), protocol=pickle.HIGHEST_PROTOCOL))
        except (pickle.PicklingError, TypeError, AttributeError, RecursionError) as err:
            raise OtherSessionError(f"the values for session {effect.session_id} cannot be saved ({err}); pass "
                                    "plain values: text, numbers, dates, lists, dicts and the interview's objects")\
                from None
        if size > MAX_CHANGE_BYTES or self._bytes + size > MAX_TURN_CHANGE_BYTES:
            raise OtherSessionError(f"the values for session {effect.session_id} take {size:,} bytes; one change may"
                                    f" take at most {MAX_CHANGE_BYTES:,} bytes and the changes of one step "
                                    f"{MAX_TURN_CHANGE_BYTES:,}; send less, or keep large data in a file")
        self._bytes += size
        self.planned.append(effect)

    def _not_self(self, interview: str, session_id: str) -> None:
        if len(session_id) != SESSION_ID_LENGTH or not session_id.isascii() or not session_id.isalnum():
            raise OtherSessionError(f"session_id must be a session id ({SESSION_ID_LENGTH} letters and digits, as "
                                    f"create_session returns it), found {session_id[:40]!r}")
        if session_id == self._session_id:
            raise OtherSessionError("this function works on another session, not the current one; use the "
                                    "variables themselves (or all_variables()) here")
        self._sessions.services.loader.load(interview)

    def _secret_for(self, secret: str | None, creating: bool = False) -> str:
        chosen = secret if secret is not None else self._secret
        if not chosen:
            raise OtherSessionError("this turn has no secret of its own (a shared session opened by its id, or a "
                                    "scheduled run): pass secret= to create or reach an encrypted session")
        if secret is not None and creating and len(secret) < crypto.MIN_SECRET:
            raise WeakSecretError(f"a chosen secret must have at least {crypto.MIN_SECRET} characters, found "
                                  f"{len(secret)}; use a longer one, or secret=None for this session's own")
        return chosen

    def _key_of(self, session_id: str, secret: str | None) -> bytes | None:
        if session_id in self._created and secret is None:
            return self._created[session_id]
        chosen = secret if secret is not None else self._secret
        return crypto.session_key(chosen, session_id) if chosen else None

    def _check_target(self, interview: str, session_id: str, secret: str | None) -> bytes | None:
        """The key that opens the target (None: it is shared and no secret is at hand), after one read
        that shows the change can be made: the session exists and the key opens it."""
        self._not_self(interview, session_id)
        key = self._key_of(session_id, secret)
        if session_id in self._created:
            return key
        try:
            self._sessions.key_for(SessionRef(interview, session_id, key=key))
        except (SessionNotFoundError, WrongSecretError) as err:
            raise self._cannot(interview, session_id, err) from None
        return key

    @staticmethod
    def _cannot(interview: str, session_id: str, err: Exception) -> OtherSessionError:
        if isinstance(err, SessionNotFoundError):
            return OtherSessionError(f"there is no session {session_id} of {interview}; check the interview's file "
                                     "name and the session id")
        return OtherSessionError(f"the secret does not open session {session_id} of {interview} (it is encrypted):"
                                 " pass the secret it was made with; nothing was changed")
