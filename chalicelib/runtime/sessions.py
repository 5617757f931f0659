"""Session use cases, each one *turn* (docs/architecture.md, "The turn").

A turn reads the head and current step (consistent read), opens the step
(decrypt or verify, then unpickle), evaluates, seals the new answers and
commits step + head in one transaction conditioned on the version it read. On
a version conflict the whole turn is re-run on fresh state (bounded retries
with jitter), so concurrent writers never lose each other's updates. A read
that raced a writer (the store saw the session change while reading it) is
retried the same way, with the same backoff and time budget.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from chalicelib.engine.answers import Answer, apply_answer, current_screen
from chalicelib.engine.documents import DocumentValue
from chalicelib.engine.errors import UndefinedVariableError
from chalicelib.engine.evaluator import Evaluation, Request, UserInfo
from chalicelib.engine.render import normalize_choices
from chalicelib.engine.screen import FieldError, Outcome, OutcomeKind, ScreenView
from chalicelib.engine.tasks import NewTask, TaskSnapshot
from chalicelib.language.blocks import Interview
from chalicelib.language.markup import escape_html
from chalicelib.library import namespace
from chalicelib.runtime import links
from chalicelib.runtime.documents import store_documents
from chalicelib.runtime.errors import ConflictError, NoPreviousStepError, WeakSecretError
from chalicelib.runtime.services import Services
from chalicelib.runtime.tasks import TaskService
from chalicelib.storage import crypto
from chalicelib.storage.errors import VersionConflictError, WrongSecretError
from chalicelib.storage.records import BlobKind, Sealed, SessionHead, StepRecord
from chalicelib.storage.sealing import Place
from chalicelib.storage.tasks import Notification, TaskRecord, TaskWrite

log = logging.getLogger(__name__)

# Retries of a turn that lost a version race: exponential backoff with full
# jitter, capped per pause, within the TURN_RETRY_SECONDS budget (then 409,
# nothing written).
_MAX_ATTEMPTS = 60
_MAX_PAUSE_SECONDS = 0.4
SESSION_ID_LENGTH = 32
_SESSION_ID = re.compile(rf"[A-Za-z0-9]{{{SESSION_ID_LENGTH}}}")


def is_session_id(value: str) -> bool:
    """True for what `Sessions.start` makes a session id: 32 letters and digits."""
    return bool(_SESSION_ID.fullmatch(value))


@dataclass(frozen=True)
class SessionRef:
    interview: str
    session_id: str
    secret: str | None = None
    key: bytes | None = field(default=None, repr=False)  # the session key itself (background tasks)


@dataclass(frozen=True)
class TurnResult:
    outcome: Outcome | None
    head: SessionHead
    errors: tuple[FieldError, ...] = ()
    command: Any = None  # a command button pressed on the screen (exit, restart, ...)


Mutation = Callable[[dict[str, Any]], Any]
Finalize = Callable[[Outcome | None], tuple[list[TaskWrite], list[Notification]]]


class SessionTaskPort:
    """The session's tasks as the task handles in the answers see them, read once per turn."""

    def __init__(self, tasks: TaskService, session_id: str, key: bytes | None) -> None:
        self.tasks, self.session_id, self.key = tasks, session_id, key
        self._records: dict[str, TaskRecord] | None = None

    def snapshot(self, task_id: str, fresh: bool = False) -> TaskSnapshot | None:
        if self._records is None or fresh:
            self._records = {t.task_id: t for t in self.tasks.records(self.session_id)}
        record = self._records.get(task_id)
        return self.tasks.snapshot(record, self.key) if record else None

    def revoke(self, task_id: str) -> bool:
        self._records = None
        return self.tasks.revoke(self.session_id, task_id)


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
    def __init__(self, services: Services, tasks: TaskService | None = None) -> None:
        self.services = services
        self.tasks = tasks or TaskService(services, services.queue)
        self.link_signer = links.signer(services.keys.links)

    def task_port(self, session_id: str, key: bytes | None) -> SessionTaskPort:
        return SessionTaskPort(self.tasks, session_id, key)

    # ------------------------------------------------------------------ use cases
    def start(self, interview_name: str, *, secret: str | None = None, url_args: Mapping[str, Any] | None = None,
              user: UserInfo | None = None, interface: str = "web", base_url: str = "",
              evaluate: bool = True) -> tuple[SessionRef, TurnResult]:
        """Create a session, evaluate it once and save step 1."""
        if secret is not None and len(secret) < crypto.MIN_SECRET:
            raise WeakSecretError(f"a chosen secret must have at least {crypto.MIN_SECRET} characters, found"
                                  f" {len(secret)}; use a longer one, or none to get a random secret")
        interview = self.services.loader.load(interview_name)
        session_id = crypto.random_token(SESSION_ID_LENGTH)
        secret = secret or crypto.random_token(16)
        answers: dict[str, Any] = {"url_args": dict(url_args or {})}
        request = Request(interview_name, session_id, user=user or UserInfo(), interface=interface,
                          base_url=base_url, sign_link=self.link_signer)
        now = time.time()
        head = SessionHead(interview_name, session_id, version=1, step=1, encrypted=True, created=now,
                           modified=now, owner=(user.id if user else ""), title=interview.title)
        outcome = None
        kv_writes: dict[tuple[str, str], Any] = {}
        outbox: list[NewTask] = []
        documents: list[DocumentValue] = []
        key = crypto.session_key(secret, session_id)
        if evaluate:
            request = replace(request, tasks=self.task_port(session_id, key))
            ev = Evaluation(interview, answers, request, namespace.build)
            try:
                outcome = ev.run()
            except UndefinedVariableError:
                outcome = None  # as docassemble: the first pass may stop on a missing name; the session still starts
            answers = ev.answers()
            kv_writes = ev.kv_writes
            outbox = ev.outbox
            documents = ev.documents
        head, sealed = self._seal(head, answers, key, step=1)
        store_documents(self.services, session_id, key if head.encrypted else None, documents)
        self.services.store.create(head, StepRecord(1, sealed.blob, sealed.kind))
        if kv_writes or outbox:
            head = self._commit_extras(head, kv_writes, key, self.tasks.new_records(head, key, request.user, outbox))
        return SessionRef(interview_name, session_id, secret), TurnResult(outcome, head)

    def view(self, ref: SessionRef, request: Request) -> TurnResult:
        """Evaluate and save over the current step (a page view, GET /api/session/question)."""
        return self._turn(ref, request, mutate=None, new_step=False)

    def answer(self, ref: SessionRef, request: Request, answer: Answer, evaluate: bool = True) -> TurnResult:
        """Apply an answer to the current screen as a new step."""
        return self._turn(ref, request, mutate=lambda answers: apply_answer(answers, answer), new_step=True,
                          evaluate=evaluate)

    def set_variables(self, ref: SessionRef, request: Request, mutate: Mutation, new_step: bool = True,
                      evaluate: bool = True) -> TurnResult:
        """Apply an arbitrary change (the API's variables/delete_variables), then evaluate."""
        return self._turn(ref, request, mutate=mutate, new_step=new_step, evaluate=evaluate)

    def run_action(self, ref: SessionRef, request: Request, new_step: bool = True) -> TurnResult:
        return self._turn(ref, request, mutate=None, new_step=new_step)

    def read(self, ref: SessionRef) -> tuple[SessionHead, dict[str, Any]]:
        head, step = self._load(ref)
        return head, self._open(head, step, ref)

    def callback(self, ref: SessionRef, request: Request, finalize: Finalize) -> TurnResult:
        """A background callback: a turn saved over the current step, whose commit also
        carries `finalize`'s task writes (so a redelivered message cannot apply it twice)."""
        return self._turn(ref, request, mutate=None, new_step=False, finalize=finalize)

    def checkin(self, ref: SessionRef, parameters: Mapping[str, Any] | None = None, changed: str | None = None,
                initial: bool = False, user: UserInfo | None = None, base_url: str = "") -> list[dict[str, Any]]:
        """The commands for the open screen: its `check in` action's reply, then the
        notifications of finished background tasks.

        A screen without `check in` costs reads only: no evaluation, no write to the session."""
        head, step = self._load(ref)
        key = self._key(head, ref)
        view = current_screen(self._open(head, step, ref).get("_internal", {}))
        commands: list[dict[str, Any]] = []
        if view is not None and view.check_in:
            arguments = {**checkin_arguments(view, parameters or {}), "_initial": bool(initial), "_changed": changed}
            request = Request(ref.interview, ref.session_id, action=view.check_in, arguments=arguments,
                              persistent_action=False, user=user or UserInfo(), interface="checkin",
                              base_url=base_url)
            result = self._turn(ref, request, mutate=None, new_step=False, adjust=_follow_replaced_choices)
            commands += checkin_commands(view.check_in, result.outcome)
        self.tasks.records(ref.session_id)  # the sweep: nothing may hang unnoticed
        return commands + self.tasks.take_commands(head, key)

    def task_list(self, ref: SessionRef) -> list[TaskRecord]:
        self.key_for(ref)  # the caller must be able to open the session
        return self.tasks.records(ref.session_id)

    def key_for(self, ref: SessionRef) -> bytes | None:
        head, _ = self._load(ref)
        return self._key(head, ref)

    def back(self, ref: SessionRef) -> SessionHead:
        """Make the previous step current again, discarding the latest one."""
        for attempt in _attempts(self.services.settings.turn_retry_seconds):
            loaded = self._load_once(ref, attempt)
            if loaded is None:
                continue
            head, _ = loaded
            self._key(head, ref)
            steps = [n for n in self.services.store.step_numbers(ref.interview, ref.session_id) if n < head.step]
            if not steps:
                raise NoPreviousStepError("Cannot go back.")
            previous = steps[-1]
            after = replace(head, version=head.version + 1, step=previous, modified=time.time())
            try:
                self.services.store.commit(head, after, None, delete_steps=[head.step])
                return after
            except VersionConflictError:
                _pause(attempt)
        raise ConflictError("the session kept changing while going back; try again")

    def restart(self, ref: SessionRef) -> SessionHead:
        """Clear the answers (keeping url_args) in the same session, as a new step."""
        def reset(answers: dict[str, Any]) -> None:
            url_args = answers.get("url_args", {})
            answers.clear()
            answers["url_args"] = url_args
        request = Request(ref.interview, ref.session_id)
        return self._turn(ref, request, mutate=reset, new_step=True, evaluate=False).head

    def delete(self, ref: SessionRef, *, verify: bool = True) -> None:
        """Delete the session; with `verify`, only if `ref` opens it (an encrypted one needs its secret)."""
        if verify:
            self.key_for(ref)
        self.services.store.delete(ref.interview, ref.session_id)

    def _load(self, ref: SessionRef) -> tuple[SessionHead, StepRecord]:
        """The head and current step; a read that raced a writer is read again, as a turn would be."""
        for attempt in _attempts(self.services.settings.turn_retry_seconds):
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
            _pause(attempt)
            return None

    # ------------------------------------------------------------------ the turn
    def _turn(self, ref: SessionRef, request: Request, *, mutate: Mutation | None, new_step: bool,
              evaluate: bool = True, finalize: Finalize | None = None,
              adjust: Callable[[Outcome | None, dict[str, Any]], None] | None = None) -> TurnResult:
        interview = self.services.loader.load(ref.interview)
        for attempt in _attempts(self.services.settings.turn_retry_seconds):
            loaded = self._load_once(ref, attempt)
            if loaded is None:
                continue
            head, step = loaded
            key = self._key(head, ref)
            answers = self._open(head, step, ref)
            result = self._evaluate(interview, answers, head, key, request, mutate, evaluate)
            if result.errors:
                return TurnResult(result.outcome, head, result.errors)
            outcome, new_answers, kv_writes, command = result.outcome, result.answers, result.kv, result.command
            if outcome is not None and not outcome.save:
                return TurnResult(outcome, head, command=command)
            if adjust is not None:
                adjust(outcome, new_answers)
            number = head.step + 1 if new_step else head.step
            after, sealed = self._seal(head, new_answers, key, step=number)
            after = replace(after, version=head.version + 1, step=number, modified=time.time())
            drop = [number - self.services.settings.steps_kept] if new_step and \
                number > self.services.settings.steps_kept else []
            extras = self._extras(head, kv_writes, key)
            store_documents(self.services, head.session_id, key if after.encrypted else None, result.documents)
            new_tasks = self.tasks.new_records(after, key, request.user, result.outbox)
            task_writes, notes = finalize(outcome) if finalize else ([], [])
            try:
                self.services.store.commit(head, after, StepRecord(number, sealed.blob, sealed.kind), delete_steps=drop,
                                           extras=extras, tasks=new_tasks + task_writes, notes=notes)
                self.tasks.enqueue([w.record for w in new_tasks])
                return TurnResult(outcome, after, command=command)
            except VersionConflictError:
                log.info("version conflict on %s (attempt %d); retrying on fresh state", ref.session_id,
                         attempt + 1)
                _pause(attempt)
        raise ConflictError("the session kept changing under this request; nothing was saved, try again")

    @dataclass
    class _Evaluated:
        outcome: Outcome | None
        answers: dict[str, Any]
        kv: dict[tuple[str, str], Any]
        errors: tuple[FieldError, ...] = ()
        command: Any = None
        outbox: list[NewTask] = field(default_factory=list)
        documents: list[DocumentValue] = field(default_factory=list)

    def _evaluate(self, interview: Interview, answers: dict[str, Any], head: SessionHead, key: bytes | None,
                  request: Request, mutate: Mutation | None, evaluate: bool) -> Sessions._Evaluated:
        command = None
        if mutate is not None:
            applied = mutate(answers)
            errors = getattr(applied, "errors", ())
            if errors:
                view = current_screen(answers.get("_internal", {}))
                return Sessions._Evaluated(Outcome(OutcomeKind.SCREEN, screen=view), answers, {}, tuple(errors))
            command = getattr(applied, "command", None)
        if not evaluate or command is not None:
            return Sessions._Evaluated(None, answers, {}, command=command)
        request = replace(request, kv=_Kv(self, head, key), step=head.step,
                          tasks=self.task_port(head.session_id, key), sign_link=self.link_signer)
        ev = Evaluation(interview, answers, request, namespace.build)
        outcome = ev.run()
        return Sessions._Evaluated(outcome, ev.answers(), ev.kv_writes, outbox=ev.outbox, documents=ev.documents)

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
            raise WrongSecretError("the secret does not open this session")
        return key

    def _open(self, head: SessionHead, step: StepRecord, ref: SessionRef) -> dict[str, Any]:
        """The step's answers. Its own record says whether it is encrypted or signed: after a
        switch to `multi_user` (or back), the steps kept for Back are of either kind."""
        key = self._key(head, ref)
        kind = step.kind or BlobKind.of(head.encrypted)
        answers = self.services.sealer.open(step.blob, kind, Place.step(head.session_id, step.step), key)
        if not isinstance(answers, dict):
            raise WrongSecretError("the stored step is not a set of answers")
        return answers

    def _seal(self, head: SessionHead, answers: dict[str, Any], key: bytes | None,
              step: int) -> tuple[SessionHead, Sealed]:
        encrypted = not answers.get("multi_user") and key is not None
        sealed = self.services.sealer.seal(answers, Place.step(head.session_id, step), key if encrypted else None)
        head = replace(head, encrypted=encrypted, key_check=crypto.key_check(key) if key else head.key_check,
                       allow_cron=bool(answers.get("allow_cron")))
        return head, sealed

    def _extras(self, head: SessionHead, kv: Mapping[tuple[str, str], Any], key: bytes | None) -> dict[str, Sealed]:
        key = key if head.encrypted else None
        return {f"{scope}:{name}": self.services.sealer.seal(value, Place.extra(head.session_id, f"{scope}:{name}"),
                                                             key)
                for (scope, name), value in kv.items()}

    def _commit_extras(self, head: SessionHead, kv: Mapping[tuple[str, str], Any], key: bytes,
                       tasks: list[TaskWrite]) -> SessionHead:
        after = replace(head, version=head.version + 1)
        self.services.store.commit(head, after, None, extras=self._extras(head, kv, key), tasks=tasks)
        self.tasks.enqueue([w.record for w in tasks])
        return after


def checkin_arguments(view: ScreenView, parameters: Mapping[str, Any]) -> dict[str, Any]:
    """The check-in action's arguments: the raw values by variable name. Choice fields post
    the choice's position; the action gets the choice's value as text, as in docassemble."""
    arguments = {str(k): v for k, v in parameters.items() if not str(k).startswith("_")}
    for shown in view.fields:
        if shown.variable is None or shown.variable not in arguments or not shown.choice_values:
            continue
        positions = {c.value: str(v) for c, v in zip(shown.choices, shown.choice_values, strict=False)}
        raw = arguments[shown.variable]
        arguments[shown.variable] = [positions.get(str(r), r) for r in raw] if isinstance(raw, list) \
            else positions.get(str(raw), raw)
    return arguments


def _follow_replaced_choices(outcome: Outcome | None, answers: dict[str, Any]) -> None:
    """A check-in that replaces a dropdown's choices changes what the page offers; the saved
    record of the screen follows, so the answer posted later (a choice's position) is read
    against the choices the user saw."""
    if outcome is None or outcome.kind is not OutcomeKind.BACKGROUND or outcome.ui != "fields" \
            or not isinstance(outcome.value, Mapping):
        return
    record = answers.get("_internal", {}).get("screen")
    view = record.get("view") if isinstance(record, dict) else None
    if not isinstance(view, ScreenView):
        return
    replaced = {name: spec["choices"] for name, spec in outcome.value.items()
                if isinstance(spec, Mapping) and "choices" in spec}
    if not replaced:
        return
    fields = []
    for shown in view.fields:
        if shown.variable in replaced:
            choices, values = normalize_choices(replaced[shown.variable])
            shown = replace(shown, choices=choices, choice_values=values, value=None)
        fields.append(shown)
    record["view"] = replace(view, fields=tuple(fields))


def checkin_commands(action: str, outcome: Outcome | None) -> list[dict[str, Any]]:
    """The check-in commands ({action, value, extra}, as docassemble sends them) for how the action ended."""
    if outcome is None or outcome.kind is not OutcomeKind.BACKGROUND:
        return []
    if outcome.ui == "refresh":
        return [{"action": action, "value": None, "extra": "refresh"}]
    if outcome.ui in ("flash", "javascript", "fields"):
        return [{"action": action, "value": outcome.value, "extra": outcome.ui}]
    if outcome.value is None:
        return []
    return [{"action": action, "value": target_html(outcome.value), "extra": "backgroundresponse"}]


def target_html(value: Any) -> Any:
    """A reply for `[TARGET]`s, with each `content` made HTML the page may insert as is: text is
    escaped, and only markup (a template's content, or a value code marked as `Markup`) passes,
    sanitized."""
    items = value if isinstance(value, list) else [value]
    out = [{**item, "content": escape_html(item.get("content") if item.get("content") is not None else "")}
           if isinstance(item, Mapping) and "target" in item else item for item in items]
    return out if isinstance(value, list) else out[0]


def _attempts(budget_seconds: float) -> Iterator[int]:
    """The attempt numbers of a retried read or turn: at most _MAX_ATTEMPTS, within the time budget."""
    deadline = time.monotonic() + budget_seconds
    for attempt in range(_MAX_ATTEMPTS):
        if attempt and time.monotonic() > deadline:
            return
        yield attempt


def _pause(attempt: int) -> None:
    time.sleep(random.uniform(0, min(_MAX_PAUSE_SECONDS, 0.01 * (2 ** attempt))))  # jitter
