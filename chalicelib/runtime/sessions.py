"""Session use cases, each one *turn* (docs/architecture.md, "The turn").

Every way into a session goes through here: the browser, the REST API, the
background worker and check-in all call these methods; the web layer only
translates HTTP.

A turn reads the head and current step (consistent read), opens the step
(decrypt or verify, then unpickle) into the answers and the engine's
`SessionState`, applies the change it was asked for, evaluates, seals the new
step and commits step + head in one transaction conditioned on the version it
read. On a version conflict the whole turn is re-run on fresh state (bounded
retries with jitter), so concurrent writers never lose each other's updates. A
read that raced a writer (the store saw the session change while reading it) is
retried the same way, with the same backoff and time budget.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import logging
import pickle
import random
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from chalicelib.engine import assign
from chalicelib.engine.answers import Answer, apply_answer
from chalicelib.engine.documents import DocumentValue
from chalicelib.engine.errors import EngineError, InterviewCodeError, UndefinedVariableError
from chalicelib.engine.evaluator import Evaluation
from chalicelib.engine.files import DAFile
from chalicelib.engine.mail import NewAddress
from chalicelib.engine.messages import OutboundMessage
from chalicelib.engine.request import FormAnswer, Interface, Request, UserInfo
from chalicelib.engine.screen import FieldError, Outcome, OutcomeKind, ScreenView
from chalicelib.engine.snapshots import NewSnapshot
from chalicelib.engine.state import SessionState
from chalicelib.engine.tasks import NewTask, TaskSnapshot
from chalicelib.language.blocks import Interview, Screen
from chalicelib.library import namespace
from chalicelib.runtime import links, mail_port, snapshots
from chalicelib.runtime.checkin import checkin_arguments, checkin_commands, follow_replaced_choices
from chalicelib.runtime.clock import Clock, SystemClock
from chalicelib.runtime.datastore import SessionDataStore
from chalicelib.runtime.documents import load_document, store_documents
from chalicelib.runtime.effects import EffectService
from chalicelib.runtime.errors import ConflictError, NoPreviousStepError, WeakSecretError
from chalicelib.runtime.mail_port import SessionMailPort
from chalicelib.runtime.messaging import TASK_SEND_PREFIX, MessageService, Outgoing, defaults
from chalicelib.runtime.purge import expiry
from chalicelib.runtime.push_pull import OtherSessions, PlannedEffect
from chalicelib.runtime.records import SharedRecords
from chalicelib.runtime.redis_store import shared_keystore
from chalicelib.runtime.refs import SESSION_ID_LENGTH as SESSION_ID_LENGTH
from chalicelib.runtime.refs import SessionRef as SessionRef
from chalicelib.runtime.refs import VariableChanges as VariableChanges
from chalicelib.runtime.retry import TURN_BACKOFF, Jitter
from chalicelib.runtime.services import Services
from chalicelib.runtime.sql import SqlDatabase
from chalicelib.runtime.stash import Stash, StashForInterview
from chalicelib.runtime.tasks import TaskService
from chalicelib.runtime.uploads import SessionFilePort, read_kept, read_private, store_uploads, take_uploads, to_files
from chalicelib.runtime.variables import check_writable, from_sent
from chalicelib.storage import crypto
from chalicelib.storage.effects import EffectRecord
from chalicelib.storage.errors import SessionNotFoundError, VersionConflictError, WrongSecretError
from chalicelib.storage.mail import MailAddress
from chalicelib.storage.outbox import SendRecord, SendStatus
from chalicelib.storage.records import BlobKind, Sealed, SessionHead, StepRecord
from chalicelib.storage.sealing import Place
from chalicelib.storage.snapshots import SnapshotRecord
from chalicelib.storage.tasks import Notification, TaskRecord, TaskWrite

log = logging.getLogger(__name__)

# Retries of a turn that lost a version race: the runtime's one backoff (runtime.retry,
# TURN_BACKOFF), within the TURN_RETRY_SECONDS budget (then 409, nothing written).
_MAX_ATTEMPTS = 60
_CRON_RUNS_KEPT = 8  # scheduled runs remembered on the head: enough to catch any redelivery of a recent pass
_WAIT_POLL_SECONDS = 0.25  # how often `task.wait()` reads the task again
_SESSION_ID = re.compile(rf"[A-Za-z0-9]{{{SESSION_ID_LENGTH}}}")


def is_session_id(value: str) -> bool:
    """True for what `Sessions.start` makes a session id: 32 letters and digits."""
    return bool(_SESSION_ID.fullmatch(value))


@dataclass(frozen=True)
class TurnResult:
    outcome: Outcome | None
    head: SessionHead
    errors: tuple[FieldError, ...] = ()
    command: str | None = None  # a command button pressed on the screen (exit, restart, ...)
    stale: bool = False  # the change was for a screen no longer current: nothing was done
    unchanged: bool = False  # the screen takes no answer (an end screen): shown again, nothing saved


class AnswerStatus(enum.Enum):
    SAVED = "saved"  # assigned and saved as a new step; show the session again
    INVALID = "invalid"  # nothing saved: `result.errors` say why, `result.outcome` is the screen to ask again
    STALE = "stale"  # the page answered a screen that is no longer the current one: nothing saved
    COMMAND = "command"  # a command button (`result.command`): saved, and the caller acts on the command
    UNCHANGED = "unchanged"  # an end screen takes no answer: nothing saved, `result.outcome` is the same screen


@dataclass(frozen=True)
class Answered:
    status: AnswerStatus
    result: TurnResult


@dataclass(frozen=True)
class SessionData:
    """A session as it is saved: its head, the interview's answers and the engine's state."""

    head: SessionHead
    answers: dict[str, Any]
    state: SessionState

    def variables(self) -> dict[str, Any]:
        """The answers with the state in its saved (plain) form under `_internal`, as docassemble shows them."""
        return self.state.into(self.answers)


@dataclass(frozen=True)
class BackgroundRun:
    """A background action run on the latest answers (nothing saved): how it ended, or its error."""

    outcome: Outcome | None
    error: EngineError | None = None
    error_action: tuple[str, dict[str, Any]] | None = None  # background_error_action()
    sought: tuple[str, ...] = ()  # the names being sought when it failed or stopped on a question, newest first
    messages: tuple[OutboundMessage, ...] = ()  # send_email()/send_sms() calls: sent with the task's finishing write


@dataclass(frozen=True)
class _Changed:
    """What a change made before evaluation."""

    errors: tuple[FieldError, ...] = ()
    command: str | None = None
    stale: bool = False
    unchanged: bool = False  # nothing to change (a post to an end screen): evaluate to show it, save nothing
    uploads: tuple[DAFile, ...] = ()  # files posted with the change: stored before the commit


_Change = Callable[[dict[str, Any], SessionState], _Changed]
Finalize = Callable[[Outcome | None], tuple[list[TaskWrite], list[Notification]]]


class SessionTaskPort:
    """The session's tasks as the task handles in the answers see them, read once per turn."""

    def __init__(self, tasks: TaskService, session_id: str, key: bytes | None,
                 clock: Clock | None = None) -> None:
        self.tasks, self.session_id, self.key = tasks, session_id, key
        self.clock: Clock = clock or SystemClock()
        self._records: dict[str, TaskRecord] | None = None

    def snapshot(self, task_id: str, fresh: bool = False) -> TaskSnapshot | None:
        if self._records is None or fresh:
            self._records = {t.task_id: t for t in self.tasks.records(self.session_id)}
        record = self._records.get(task_id)
        return self.tasks.snapshot(record, self.key) if record else None

    def wait(self, task_id: str, seconds: float) -> TaskSnapshot | None:
        """The task once it has finished, reading it again every _WAIT_POLL_SECONDS; after `seconds`
        without that, as it is then (unfinished). None for a task the session does not have."""
        deadline = self.clock.monotonic() + seconds
        while True:
            snapshot = self.snapshot(task_id, fresh=True)
            if snapshot is None or snapshot.finished or self.clock.monotonic() >= deadline:
                return snapshot
            self.clock.sleep(min(_WAIT_POLL_SECONDS, max(0.0, deadline - self.clock.monotonic())))

    def revoke(self, task_id: str, terminate: bool = True) -> bool:
        self._records = None
        return self.tasks.revoke(self.session_id, task_id, terminate)


class _Kv:
    """Persistent values (task counters with persistent=True) for one turn."""

    def __init__(self, sessions: Sessions, head: SessionHead, key: bytes | None) -> None:
        self.sessions, self.head, self.key = sessions, head, key

    def get(self, scope: str, name: str) -> Any:
        label = f"{scope}:{name}"
        sealed = self.sessions.services.store.load_extra(self.head.interview, self.head.session_id, label)
        if sealed is None:
            return None
        kind = sealed.kind or BlobKind.of(self.head.encrypted)
        return self.sessions.services.sealer.open(sealed.blob, kind, Place.extra(self.head.session_id, label),
                                                  self.key)


class Sessions:
    def __init__(self, services: Services, tasks: TaskService | None = None, *, clock: Clock | None = None,
                 jitter: Jitter | None = None) -> None:
        """`clock` (waits: a turn's retry pauses, `task.wait()`) and `jitter` (the share of each retry
        pause, runtime.retry) default to the system's; tests pass their own."""
        self.services = services
        self.tasks = tasks or TaskService(services, services.queue)
        self.link_signer = links.signer(services.keys.links)
        self.clock: Clock = clock or SystemClock()
        self.jitter: Jitter = jitter or random.random
        self.messages = MessageService(services, self.clock, self.jitter)
        self.effects = EffectService(self)

    def _with_ports(self, request: Request, session_id: str, key: bytes | None, *, secret: str | None = None,
                    turn_id: str | None = None) -> Request:
        """`request` with what the interview's functions reach beyond its answers: the session's tasks,
        the stash, the shared records and values, the signer of its action links, the senders'
        defaults (send_email, send_sms), and other sessions (runtime.push_pull: changed only by a
        turn that saves, `turn_id`; `secret` is the session's own, the default for them)."""
        return replace(request, tasks=self.task_port(session_id, key), stash=StashForInterview(Stash(self.services)),
                       records=SharedRecords(self.services), keystore=shared_keystore(self.services),
                       sql=SqlDatabase(self.services.settings.database_url),
                       datastore=SessionDataStore(self.services, key, request.user_key, key is not None),
                       sign_link=self.link_signer, messaging=defaults(self.services.settings),
                       mail=self.mail_port(session_id, key), files=SessionFilePort(self.services, session_id, key),
                       sessions=OtherSessions(self, request.interview, session_id, secret, request.user, turn_id))

    def task_port(self, session_id: str, key: bytes | None) -> SessionTaskPort:
        return SessionTaskPort(self.tasks, session_id, key, self.clock)

    def mail_port(self, session_id: str, key: bytes | None = None) -> SessionMailPort:
        """The session's addresses and mails; `key` opens the mails of an encrypted session."""
        return SessionMailPort(self.services.store, self.services.sealer, session_id,
                               self.services.settings.incoming_mail_domain, key)

    def _addresses(self, head: SessionHead, key: bytes | None, user: UserInfo,
                   result: Sessions._Evaluated) -> list[MailAddress]:
        """The records of the mail addresses the turn made (interview_email), written with its commit;
        in an encrypted session, with MAIL_ENCRYPTED_SESSIONS, each holds the session key wrapped."""
        wrap_for = key if head.encrypted and self.services.settings.mail_encrypted_sessions else None
        return mail_port.new_records(result.addresses, head.session_id, head.interview, dataclasses.asdict(user),
                                     time.time(), self.services.sealer, wrap_for)

    def _pause(self, attempt: int) -> None:
        """The pause before a turn (or read) that raced another writer runs again."""
        self.clock.sleep(TURN_BACKOFF.pause(attempt, self.jitter))

    # ------------------------------------------------------------------ starting and showing
    def start(self, interview_name: str, *, secret: str | None = None, url_args: Mapping[str, Any] | None = None,
              user: UserInfo | None = None, interface: str = Interface.WEB, base_url: str = "",
              evaluate: bool = True, secret_for: Callable[[str], str] | None = None,
              user_key: bytes | None = None, session_id: str | None = None,
              key: bytes | None = None) -> tuple[SessionRef, TurnResult]:
        """Create a session, evaluate it once and save step 1. `secret_for` makes the secret from the
        new session's id (a signed-in user's sessions: runtime.owned_sessions). `session_id` and `key`
        are create_session's (runtime.effects): an id derived from the calling turn (SessionExistsError
        if it is taken) and the key from the caller's secret; otherwise both are new."""
        if secret is not None and len(secret) < crypto.MIN_SECRET:
            raise WeakSecretError(f"a chosen secret must have at least {crypto.MIN_SECRET} characters, found"
                                  f" {len(secret)}; use a longer one, or none to get a random secret")
        interview = self.services.loader.load(interview_name)
        session_id = session_id or crypto.random_token(SESSION_ID_LENGTH)
        secret = None if key is not None else secret or (secret_for(session_id) if secret_for
                                                         else crypto.random_token(16))
        answers: dict[str, Any] = {"url_args": dict(url_args or {})}
        state = SessionState()
        request = Request(interview_name, session_id, user=user or UserInfo(), interface=interface,
                          base_url=base_url, sign_link=self.link_signer,
                          messaging=defaults(self.services.settings), user_key=user_key)
        now = time.time()
        head = SessionHead(interview_name, session_id, version=1, step=1, encrypted=True, created=now,
                           modified=now, owner=(user.id if user else ""), title=interview.title,
                           expires_at=expiry(self.services.settings, interview, now))
        key = crypto.session_key(secret, session_id) if secret is not None else key
        if key is None:
            raise ValueError("start needs a secret or a key")  # unreachable: a secret is drawn when neither is given
        first = self._first_run(interview, answers, state, request, key, secret) if evaluate \
            else Sessions._Evaluated(None, answers)
        head, sealed = self._seal(head, first.answers, state, key, step=1)
        store_documents(self.services, session_id, key if head.encrypted else None, first.documents)
        self.services.store.create(head, StepRecord(1, sealed.blob, sealed.kind))
        if first.kv or first.outbox or first.messages or first.addresses or first.snapshots or first.effects:
            tasks = self.tasks.new_records(head, key, request.user, first.outbox)
            outgoing = self.messages.prepare(session_id, f"v{head.version}", first.messages)
            effects = self.effects.prepare(session_id, first.effects, request.user)
            head = self._commit_extras(head, first.kv, key, tasks, outgoing,
                                       self._addresses(head, key, request.user, first),
                                       snapshots.seal_all(self.services, head, key, first.snapshots, time.time()),
                                       effects)
        return SessionRef(interview_name, session_id, secret, key=key if secret is None else None), \
            TurnResult(first.outcome, head)

    def _first_run(self, interview: Interview, answers: dict[str, Any], state: SessionState, request: Request,
                   key: bytes, secret: str | None) -> Sessions._Evaluated:
        # its turn id is the version it writes (1): a turn that reads version 1 comes only after a start
        # that committed nothing more, so none of this run's effects
        request = self._with_ports(request, request.session_id, key, secret=secret, turn_id="v1")
        ev = Evaluation(interview, answers, request, namespace.build, state)
        try:
            outcome: Outcome | None = ev.run()
        except UndefinedVariableError:
            outcome = None  # as docassemble: the first pass may stop on a missing name; the session still starts
        return Sessions._Evaluated(outcome, ev.answers(), kv=ev.kv_writes, outbox=ev.outbox, documents=ev.documents,
                                   messages=ev.messages, addresses=ev.new_addresses,
                                   snapshots=list(ev.snapshots.values()), effects=_planned(request))

    def view(self, ref: SessionRef, request: Request) -> TurnResult:
        """Evaluate and save over the current step (a page view, GET /api/session/question)."""
        return self._turn(ref, request, change=None, new_step=False)

    def read(self, ref: SessionRef) -> SessionData:
        head, step = self._load(ref)
        answers, state = self._open(head, step, ref)
        return SessionData(head, answers, state)

    def document(self, ref: SessionRef, name: str) -> bytes | None:
        """An assembled document of the session (`<file id>/<filename>.<format>`), or None."""
        return load_document(self.services, ref.session_id, self.key_for(ref), name)

    def upload(self, ref: SessionRef, name: str) -> bytes | None:
        """An uploaded file of the session (`u<id>/<filename>`) for whoever opens the session, or None;
        a kept (persistent) file of a deleted session for whoever holds its secret."""
        try:
            key = self.key_for(ref)
        except SessionNotFoundError:
            if not ref.secret:
                raise
            return read_kept(self.services, ref.session_id, crypto.session_key(ref.secret, ref.session_id), name)
        return read_private(self.services, ref.session_id, key, name, kept_too=True)

    # ------------------------------------------------------------------ changing the answers
    def answer_screen(self, ref: SessionRef, request: Request, posted: FormAnswer) -> Answered:
        """The answer a page posted to the screen it showed, saved as a new step together with
        the screen that comes next, so that showing it after is a read (`view` writes nothing
        when nothing changed). If the interview does not reach a screen (an error in its code,
        a response or a command), the answer alone is saved, and showing the session reports
        what happened. An answer to a screen that is no longer the current one changes nothing;
        an invalid or too long value saves nothing and says why."""
        limit = self.services.settings.max_answer_bytes

        def change(answers: dict[str, Any], state: SessionState) -> _Changed:
            view = state.screen
            if view is None or view.block != posted.screen:
                return _Changed(stale=True)
            if _is_end_screen(view):
                return _Changed(unchanged=True)
            values = posted.values(view)
            too_long = _too_long(values, limit)
            if too_long:
                return _Changed(errors=too_long)
            taken = take_uploads(values, view, ref.session_id, ref.interview, self.services.settings.max_upload_bytes)
            if taken.errors:
                return _Changed(errors=taken.errors)
            applied = apply_answer(answers, state, Answer(taken.values, posted.button))
            return _Changed(applied.errors, None if applied.command is None else str(applied.command),
                            uploads=taken.files)

        try:
            result = self._turn(ref, request, change=change, new_step=True, screens_only=True)
        except (EngineError, _NotAScreen):
            result = self._turn(ref, request, change=change, new_step=True, evaluate=False)
        if result.errors:
            return Answered(AnswerStatus.INVALID, result)
        if result.stale:
            return Answered(AnswerStatus.STALE, result)
        if result.unchanged:
            return Answered(AnswerStatus.UNCHANGED, result)
        if result.command is not None:
            return Answered(AnswerStatus.COMMAND, result)
        return Answered(AnswerStatus.SAVED, result)

    def set_variables(self, ref: SessionRef, request: Request, changes: VariableChanges, new_step: bool = True,
                      evaluate: bool = True, mark: str | None = None) -> TurnResult:
        """Set and delete variables (the API's variables/delete_variables), then evaluate. Every name
        is checked before anything changes: only the interview's own variables can be set or deleted.
        `mark` is an effect's from another session (runtime.effects): committed with the change, only
        if new (AlreadyAppliedError: it was applied before, nothing is written)."""
        for name in [*changes.values, *changes.delete, *changes.files]:
            check_writable(str(name))

        def change(answers: dict[str, Any], state: SessionState) -> _Changed:
            end = state.screen if state.screen is not None and _is_end_screen(state.screen) else None
            if end is not None and not changes.values and not changes.delete and not changes.events_done \
                    and not changes.files:
                return _Changed(unchanged=True)  # nothing sent to an end screen: it stays, nothing is saved
            for name, value in changes.values.items():
                assign.assign(answers, str(name), value if changes.raw else from_sent(value))
            uploaded: list[DAFile] = []
            for name, posted_files in changes.files.items():
                files = to_files(posted_files, ref.session_id, ref.interview)
                uploaded.extend(files)
                assign.assign(answers, str(name), files)
            state.forget_prior([*(str(name) for name in changes.values), *(str(name) for name in changes.files)])
            if changes.question_name and (end is None or end.block != changes.question_name):
                state.mark_answered(str(changes.question_name))  # an end screen is never done
            for name in changes.delete:
                assign.delete(answers, str(name))
            state.drop_actions({str(e) for e in changes.events_done} | {str(n) for n in changes.values})
            return _Changed(uploads=tuple(uploaded))

        return self._turn(ref, request, change=change, new_step=new_step, evaluate=evaluate, mark=mark)

    def run_action(self, ref: SessionRef, request: Request, new_step: bool = True,
                   mark: str | None = None) -> TurnResult:
        """Run `request.action` (a link's, or the API's) and save the result; `mark` as in set_variables."""
        return self._turn(ref, request, change=None, new_step=new_step, mark=mark)

    def effect_list(self, ref: SessionRef) -> list[EffectRecord]:
        """The changes the session asked for in other sessions, and how each went (runtime.effects);
        those left pending by a process that died are applied again first."""
        self.key_for(ref)  # the caller must be able to open the session
        return self.effects.records(ref.session_id)

    def back(self, ref: SessionRef) -> SessionHead:
        """Make the previous step current again, discarding the latest one. The previous step is
        saved again with the answers the discarded one held and it lacks as its prior answers, so
        the screen asked again shows what the user answered before (SessionState.remember_prior)."""
        for attempt in _attempts(self.services.settings.turn_retry_seconds, self.clock):
            loaded = self._load_once(ref, attempt)
            if loaded is None:
                continue
            head, step = loaded
            key = self._key(head, ref)
            steps = [n for n in self.services.store.step_numbers(ref.interview, ref.session_id) if n < head.step]
            if not steps:
                raise NoPreviousStepError("Cannot go back.")
            previous = steps[-1]
            put = self._with_prior(head, step, previous, ref, key)
            now = time.time()
            after = replace(put[0] if put is not None else replace(head, step=previous), version=head.version + 1,
                            modified=now, expires_at=expiry(self.services.settings,
                                                            self.services.loader.load(head.interview), now))
            try:
                self.services.store.commit(head, after, put[1] if put else None, delete_steps=[head.step])
                return after
            except VersionConflictError:
                self._pause(attempt)
        raise ConflictError("the session kept changing while going back; try again")

    def _with_prior(self, head: SessionHead, step: StepRecord, previous: int, ref: SessionRef,
                    key: bytes | None) -> tuple[SessionHead, StepRecord] | None:
        """Step `previous` sealed again with the answers `step` held as its prior answers, and the head
        that points to it; None when `ref` cannot open both (a shared session without its secret whose
        older step was encrypted): Back then only moves, and the screen shows no prior answers."""
        try:
            discarded, discarded_state = self._open(head, step, ref)
            answers, state = self._open(head, self.services.store.load_step(ref.interview, ref.session_id,
                                                                            previous), ref)
        except WrongSecretError:
            return None
        state.remember_prior(discarded, answers, discarded_state.prior)
        after, sealed = self._seal(replace(head, step=previous), answers, state, key, step=previous)
        return after, StepRecord(previous, sealed.blob, sealed.kind)

    def restart(self, ref: SessionRef) -> SessionHead:
        """Clear the answers and the state (keeping url_args) in the same session, as a new step."""
        def reset(answers: dict[str, Any], state: SessionState) -> _Changed:
            url_args = answers.get("url_args", {})
            answers.clear()
            answers["url_args"] = url_args
            state.reset()
            return _Changed()
        request = Request(ref.interview, ref.session_id)
        return self._turn(ref, request, change=reset, new_step=True, evaluate=False).head

    # ------------------------------------------------------------------ listing and deleting
    def list_sessions(self, interview: str | None = None, session_id: str | None = None) -> list[SessionHead]:
        """The sessions (of one interview, or one session), latest changed first."""
        heads = [h for h in self.services.store.list_heads(interview=interview)
                 if session_id is None or h.session_id == session_id]
        return sorted(heads, key=lambda head: head.modified, reverse=True)

    def delete(self, ref: SessionRef, *, verify: bool = True) -> None:
        """Delete the session; with `verify`, only if `ref` opens it (an encrypted one needs its secret)."""
        if verify:
            self.key_for(ref)
        self.services.store.delete(ref.interview, ref.session_id)

    # ------------------------------------------------------------------ background and check-in
    def run_background(self, ref: SessionRef, request: Request) -> BackgroundRun:
        """A background action on the latest answers, as `request.user`. Nothing is saved but the
        documents it assembled; an error in the interview's code is returned, not raised."""
        head, step = self._load(ref)
        key = self._key(head, ref)
        answers, state = self._open(head, step, ref)
        request = self._with_ports(request, ref.session_id, key)
        ev = Evaluation(self.services.loader.load(ref.interview), answers, request, namespace.build, state)
        try:
            outcome = ev.run()
        except (InterviewCodeError, EngineError) as err:
            _clean_up(request)
            return BackgroundRun(None, err, ev.error_action, tuple(ev.stopped_seeking), tuple(ev.messages))
        _clean_up(request)
        store_documents(self.services, ref.session_id, key if head.encrypted else None, ev.documents)
        return BackgroundRun(outcome, None, ev.error_action, tuple(ev.stopped_seeking), tuple(ev.messages))

    def callback(self, ref: SessionRef, request: Request, finalize: Finalize,
                 carried: Sequence[Outgoing] = ()) -> TurnResult:
        """A background callback: a turn saved over the current step, whose commit also
        carries `finalize`'s task writes (so a redelivered message cannot apply it twice)
        and the task's own messages (`carried`), sent after it."""
        return self._turn(ref, request, change=None, new_step=False, finalize=finalize, carried=carried)

    def scheduled(self, ref: SessionRef, request: Request, run_id: str) -> TurnResult:
        """A scheduled pass's event in one session (runtime.cron), as `request.user`: a turn saved over
        the current step, which does not count as activity (the head's `modified` is kept) and records
        `run_id`, so a redelivered message finds it done and runs nothing. The result has no outcome
        when the session may not be run (not cron-enabled: an encrypted session is never opened) or
        already ran `run_id`. A command (exit, leave, ...) and `response(null=True)` save nothing; the
        caller acts on them."""
        return self._turn(ref, request, change=None, new_step=False, run_id=run_id)

    def checkin(self, ref: SessionRef, parameters: Mapping[str, Any] | None = None, changed: str | None = None,
                initial: bool = False, user: UserInfo | None = None, base_url: str = "") -> list[dict[str, Any]]:
        """The commands for the open screen: its `check in` action's reply, then the
        notifications of finished background tasks.

        A screen without `check in` of a session that never started a background task costs one
        read; with tasks, the tasks and notifications are read too (and swept). Nothing is
        evaluated or written for a screen without `check in`."""
        head, step = self._load(ref)
        key = self._key(head, ref)
        view = self._open(head, step, ref)[1].screen
        commands: list[dict[str, Any]] = []
        if view is not None and view.check_in:
            arguments = {**checkin_arguments(view, parameters or {}), "_initial": bool(initial), "_changed": changed}
            request = Request(ref.interview, ref.session_id, action=view.check_in, arguments=arguments,
                              persistent_action=False, user=user or UserInfo(), interface=Interface.CHECKIN,
                              base_url=base_url)
            result = self._turn(ref, request, change=None, new_step=False, adjust=follow_replaced_choices,
                                first_read=(head, step))
            commands += checkin_commands(view.check_in, result.outcome)
        if not head.has_tasks:
            return commands
        self.tasks.records(ref.session_id)  # the sweep: nothing may hang unnoticed
        return commands + self.tasks.take_commands(head, key)

    def task_list(self, ref: SessionRef) -> list[TaskRecord]:
        self.key_for(ref)  # the caller must be able to open the session
        return self.tasks.records(ref.session_id)

    def task_report(self, ref: SessionRef) -> tuple[list[TaskRecord], list[SendRecord]]:
        """The session's tasks, and the e-mails and SMS of its turns that could not be sent (those of
        background tasks are told in their task's reason)."""
        tasks = self.task_list(ref)
        failed = [r for r in self.services.store.list_sends(ref.session_id)
                  if r.status == SendStatus.FAILED and not r.key.startswith(TASK_SEND_PREFIX)]
        return tasks, failed

    def key_for(self, ref: SessionRef) -> bytes | None:
        head, _ = self._load(ref)
        return self._key(head, ref)

    # ------------------------------------------------------------------ reading
    def _load(self, ref: SessionRef) -> tuple[SessionHead, StepRecord]:
        """The head and current step; a read that raced a writer is read again, as a turn would be."""
        for attempt in _attempts(self.services.settings.turn_retry_seconds, self.clock):
            loaded = self._load_once(ref, attempt)
            if loaded is not None:
                return loaded
        raise ConflictError("the session kept changing while it was read; try again")

    def _load_once(self, ref: SessionRef, attempt: int) -> tuple[SessionHead, StepRecord] | None:
        """One read of the head and current step, or None (after the retry pause) when it raced a writer:
        the caller reads again within its retry loop, like a turn whose commit lost a race."""
        try:
            return self.services.store.load(ref.interview, ref.session_id)
        except VersionConflictError:
            log.info("read of %s raced a writer (attempt %d); reading again", ref.session_id, attempt + 1)
            self._pause(attempt)
            return None

    # ------------------------------------------------------------------ the turn
    def _turn(self, ref: SessionRef, request: Request, *, change: _Change | None, new_step: bool,
              evaluate: bool = True, finalize: Finalize | None = None,
              adjust: Callable[[Outcome | None, SessionState], None] | None = None,
              screens_only: bool = False, first_read: tuple[SessionHead, StepRecord] | None = None,
              run_id: str | None = None, carried: Sequence[Outgoing] = (), mark: str | None = None) -> TurnResult:
        """One turn (see the module's docstring). A turn over the current step that changes
        nothing (a page shown again) writes nothing. With `screens_only`, an evaluation that
        ends other than on a screen raises _NotAScreen, with nothing written. `first_read` is
        a read the caller just made, used for the first attempt instead of reading again. With
        `run_id` the turn is a scheduled run (see `scheduled`). `carried` are a background task's
        messages, recorded by the commit and sent after it with the turn's own. `mark` is an
        effect's from another session (see set_variables)."""
        interview = self.services.loader.load(ref.interview)
        may_skip = change is None and not new_step and finalize is None and mark is None
        for attempt in _attempts(self.services.settings.turn_retry_seconds, self.clock):
            loaded = first_read if attempt == 0 and first_read is not None else self._load_once(ref, attempt)
            if loaded is None:
                continue
            head, step = loaded
            if run_id is not None and (not head.cron_enabled or run_id in head.cron_runs):
                return TurnResult(None, head)  # changed under us: now encrypted, or the run is done
            key = self._key(head, ref)
            answers, state = self._open(head, step, ref)
            before = _fingerprint(answers, state) if may_skip else None
            result = self._evaluate(interview, answers, state, head, key, request, change, evaluate, ref.secret)
            if screens_only and result.outcome is not None and result.outcome.kind is not OutcomeKind.SCREEN:
                raise _NotAScreen(result.outcome.kind.value)
            unsaved = _unsaved(result, head, state)
            if unsaved is not None:
                return unsaved
            if run_id is not None and result.outcome is not None and result.outcome.kind is OutcomeKind.COMMAND:
                return TurnResult(result.outcome, head)  # a scheduled run's command saves nothing
            if adjust is not None:
                adjust(result.outcome, state)
            if result.changed.unchanged:
                return TurnResult(result.outcome, head, unchanged=True)
            if before is not None and not result.kv and not result.outbox and not result.messages \
                    and not result.addresses and not result.snapshots and not result.effects \
                    and _fingerprint(result.answers, state) == before:
                store_documents(self.services, head.session_id, key if head.encrypted else None, result.documents)
                return TurnResult(result.outcome, head)
            try:
                return self._save(interview, head, key, state, result, request.user, new_step, finalize, run_id,
                                  carried, mark)
            except VersionConflictError:
                log.info("version conflict on %s (attempt %d); retrying on fresh state", ref.session_id,
                         attempt + 1)
                self._pause(attempt)
        raise ConflictError("the session kept changing under this request; nothing was saved, try again")

    def _save(self, interview: Interview, head: SessionHead, key: bytes | None, state: SessionState,
              result: Sessions._Evaluated, user: UserInfo, new_step: bool, finalize: Finalize | None,
              run_id: str | None = None, carried: Sequence[Outgoing] = (), mark: str | None = None) -> TurnResult:
        """Seal the turn's step and commit it with everything the turn made, conditioned on `head`'s
        version (VersionConflictError if another writer got there first); then send the new tasks,
        e-mails and SMS (runtime.messaging: the turn's id is the version it read).
        A scheduled run (`run_id`) is recorded on the head and does not change `modified`."""
        number = head.step + 1 if new_step else head.step
        state.record_access(user.id, user.privileges if user.logged_in else (), time.time())
        after, sealed = self._seal(head, result.answers, state, key, step=number)
        after = replace(after, version=head.version + 1, step=number, modified=time.time())
        if run_id is not None:
            after = replace(after, modified=head.modified, cron_runs=(*head.cron_runs, run_id)[-_CRON_RUNS_KEPT:])
        after = replace(after, expires_at=expiry(self.services.settings, interview, after.modified))
        kept = self.services.settings.steps_kept
        drop = [number - kept] if new_step and number > kept else []
        store_documents(self.services, head.session_id, key if after.encrypted else None, result.documents)
        store_uploads(self.services, head.session_id, key if after.encrypted else None, result.changed.uploads,
                      result.file_changes)
        new_tasks = self.tasks.new_records(after, key, user, result.outbox)
        if new_tasks:
            after = replace(after, has_tasks=True)
        task_writes, notes = finalize(result.outcome) if finalize else ([], [])
        outgoing = [*carried, *self.messages.prepare(head.session_id, f"v{head.version}", result.messages)]
        effects = self.effects.prepare(head.session_id, result.effects, user)
        self.services.store.commit(head, after, StepRecord(number, sealed.blob, sealed.kind), delete_steps=drop,
                                   extras=self._extras(head, result.kv, key), tasks=new_tasks + task_writes,
                                   notes=notes, **_sends(outgoing),
                                   **_with_addresses(self._addresses(after, key, user, result)),
                                   **_with_snapshots(snapshots.seal_all(self.services, after, key, result.snapshots,
                                                                        after.modified)),
                                   **_with_effects(effects, mark))
        self.tasks.enqueue([w.record for w in new_tasks])
        self.messages.deliver(outgoing)
        self.effects.apply(effects)
        return TurnResult(result.outcome, after, command=result.changed.command)

    @dataclass
    class _Evaluated:
        outcome: Outcome | None
        answers: dict[str, Any]
        changed: _Changed = field(default_factory=_Changed)
        kv: dict[tuple[str, str], Any] = field(default_factory=dict)
        outbox: list[NewTask] = field(default_factory=list)
        documents: list[DocumentValue] = field(default_factory=list)
        messages: list[OutboundMessage] = field(default_factory=list)
        addresses: list[NewAddress] = field(default_factory=list)  # interview_email() made these
        file_changes: list[DAFile] = field(default_factory=list)  # files whose set_attributes() ran
        snapshots: list[NewSnapshot] = field(default_factory=list)  # store_variables_snapshot() asked for these
        effects: list[PlannedEffect] = field(default_factory=list)  # changes to other sessions (push_pull)

    def _evaluate(self, interview: Interview, answers: dict[str, Any], state: SessionState, head: SessionHead,
                  key: bytes | None, request: Request, change: _Change | None, evaluate: bool,
                  secret: str | None = None) -> Sessions._Evaluated:
        changed = change(answers, state) if change is not None else _Changed()
        if changed.stale or changed.errors or not evaluate or changed.command is not None:
            return Sessions._Evaluated(None, answers, changed)
        request = replace(self._with_ports(request, head.session_id, key, secret=secret, turn_id=f"v{head.version}"),
                          kv=_Kv(self, head, key), step=head.step)
        port = request.files
        assert isinstance(port, SessionFilePort)
        port.pending = {f.file_id: data for f in changed.uploads if (data := f.pending_data()) is not None}
        ev = Evaluation(interview, answers, request, namespace.build, state)
        try:
            outcome = ev.run()
        finally:
            port.clean_up()
        return Sessions._Evaluated(outcome, ev.answers(), changed, ev.kv_writes, ev.outbox, ev.documents,
                                   ev.messages, ev.new_addresses, port.changed_files, list(ev.snapshots.values()),
                                   _planned(request))

    # ------------------------------------------------------------------ sealing
    def _key(self, head: SessionHead, ref: SessionRef) -> bytes | None:
        if ref.key is not None:
            key = ref.key
        elif not ref.secret:
            if head.encrypted:
                raise WrongSecretError("this session is encrypted: its secret is required")
            return None
        else:
            key = crypto.session_key(ref.secret, head.session_id)
        if head.encrypted and head.key_check and not crypto.key_check_matches(key, head.key_check):
            user_key = crypto.user_key_of(ref.secret or "")  # a user's secret (GET /api/secret) opens their sessions
            if user_key is not None:
                secret = crypto.user_session_secret(user_key, head.session_id)
                key = crypto.session_key(secret, head.session_id)
            if not crypto.key_check_matches(key, head.key_check):
                raise WrongSecretError("the secret does not open this session")
        return key

    def _open(self, head: SessionHead, step: StepRecord, ref: SessionRef) -> tuple[dict[str, Any], SessionState]:
        """The step's answers and state. Its own record says whether it is encrypted or signed: after a
        switch to `multi_user` (or back), the steps kept for Back are of either kind."""
        key = self._key(head, ref)
        kind = step.kind or BlobKind.of(head.encrypted)
        answers = self.services.sealer.open(step.blob, kind, Place.step(head.session_id, step.step), key)
        if not isinstance(answers, dict):
            raise WrongSecretError("the stored step is not a set of answers")
        return answers, SessionState.take(answers)

    def _seal(self, head: SessionHead, answers: dict[str, Any], state: SessionState, key: bytes | None,
              step: int) -> tuple[SessionHead, Sealed]:
        encrypted = not answers.get("multi_user") and key is not None
        sealed = self.services.sealer.seal(state.into(answers), Place.step(head.session_id, step),
                                           key if encrypted else None)
        head = replace(head, encrypted=encrypted, key_check=crypto.key_check(key) if key else head.key_check,
                       allow_cron=bool(answers.get("allow_cron")))
        return head, sealed

    def _extras(self, head: SessionHead, kv: Mapping[tuple[str, str], Any], key: bytes | None) -> dict[str, Sealed]:
        key = key if head.encrypted else None
        return {f"{scope}:{name}": self.services.sealer.seal(value, Place.extra(head.session_id, f"{scope}:{name}"),
                                                             key)
                for (scope, name), value in kv.items()}

    def _commit_extras(self, head: SessionHead, kv: Mapping[tuple[str, str], Any], key: bytes,
                       tasks: list[TaskWrite], outgoing: Sequence[Outgoing] = (),
                       addresses: Sequence[MailAddress] = (), new_snapshots: Sequence[SnapshotRecord] = (),
                       effects: Sequence[EffectRecord] = ()) -> SessionHead:
        after = replace(head, version=head.version + 1, has_tasks=head.has_tasks or bool(tasks))
        self.services.store.commit(head, after, None, extras=self._extras(head, kv, key), tasks=tasks,
                                   **_sends(outgoing), **_with_addresses(addresses), **_with_snapshots(new_snapshots),
                                   **_with_effects(effects, None))
        self.tasks.enqueue([w.record for w in tasks])
        self.messages.deliver(outgoing)
        self.effects.apply(effects)
        return after


def _clean_up(request: Request) -> None:
    """Delete the temporary files DAFile.path() made in a run."""
    if isinstance(request.files, SessionFilePort):
        request.files.clean_up()


def _with_addresses(addresses: Sequence[MailAddress]) -> dict[str, Any]:
    """The commit's `addresses` argument, only when there are any (a store written before mail
    addresses existed still takes every other commit)."""
    return {"addresses": addresses} if addresses else {}


def _with_snapshots(new: Sequence[SnapshotRecord]) -> dict[str, Any]:
    """The commit's `snapshots` argument, only when there are any (as `_with_addresses`)."""
    return {"snapshots": new} if new else {}


def _with_effects(effects: Sequence[EffectRecord], mark: str | None) -> dict[str, Any]:
    """The commit's `effects` and `marks` arguments, only when there are any (runtime.effects)."""
    found: dict[str, Any] = {"effects": effects} if effects else {}
    return {**found, "marks": [mark]} if mark is not None else found


def _planned(request: Request) -> list[PlannedEffect]:
    """The changes to other sessions the evaluation with `request` planned."""
    return list(request.sessions.planned) if isinstance(request.sessions, OtherSessions) else []


def _sends(outgoing: Sequence[Outgoing]) -> dict[str, Any]:
    """The `sends` argument of a commit, only when there are any (a store written before sends
    were, such as a test's wrapper, is then called as before)."""
    return {"sends": [o.record for o in outgoing]} if outgoing else {}


def _is_end_screen(view: ScreenView) -> bool:
    """A screen with no fields and no buttons (docassemble's end screen): it takes no answer."""
    return view.kind is Screen.DEADEND and not view.buttons and not view.fields


class _NotAScreen(Exception):
    """An evaluation that was to reach a screen ended otherwise (a response, a command, ...)."""


def _fingerprint(answers: Mapping[str, Any], state: SessionState) -> bytes:
    """A digest of what a step would save: equal digests mean the same step (a different
    digest for the same content, a set pickled in another order, only costs a write)."""
    data = state.into({name: answers[name] for name in sorted(answers)})
    return hashlib.blake2b(pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL), digest_size=16).digest()


def _unsaved(result: Sessions._Evaluated, head: SessionHead, state: SessionState) -> TurnResult | None:
    """The turn's result when it ends without a write: a change to an old screen, invalid answers,
    or an outcome that asks not to be saved (`response(null=True)`); None when it is to be saved."""
    if result.changed.stale:
        return TurnResult(None, head, stale=True)
    if result.changed.errors:
        return TurnResult(Outcome(OutcomeKind.SCREEN, screen=state.screen), head, result.changed.errors)
    if result.outcome is not None and not result.outcome.save:
        return TurnResult(result.outcome, head, command=result.changed.command)
    return None


def _too_long(values: Mapping[str, Any], limit: int) -> tuple[FieldError, ...]:
    """The posted answers longer than MAX_ANSWER_BYTES (UTF-8), as field errors."""
    errors = []
    for name, value in values.items():
        size = sum(len(str(part).encode("utf-8", "surrogatepass")) for part in
                   (value if isinstance(value, list) else [value]))
        if size > limit:
            errors.append(FieldError(name, f"This answer is too long: {size:,} bytes, but at most {limit:,} bytes "
                                           "are accepted. Shorten it."))
    return tuple(errors)


def _attempts(budget_seconds: float, clock: Clock) -> Iterator[int]:
    """The attempt numbers of a retried read or turn: at most _MAX_ATTEMPTS, within the time budget."""
    deadline = clock.monotonic() + budget_seconds
    for attempt in range(_MAX_ATTEMPTS):
        if attempt and clock.monotonic() > deadline:
            return
        yield attempt

