"""The evaluator: docassemble's interview logic, with no I/O.

One `Evaluation` runs one turn's worth of interview logic over the answers:

1. the `imports`/`modules` blocks, then the pending or requested action
   (`process_action`, unless the interview calls it itself);
2. every `initial` block, and every `mandatory` block not yet completed, in
   file order;
3. whenever code or text needs a name that is not defined (MissingVariable or
   NameError), the name is *sought*: the blocks that define it are tried, latest
   first; a code block is run, a question becomes the screen.

The result is an `Outcome` (a screen, a response, a command) plus the answers
to save. The caller (chalicelib.runtime) does loading, saving and retries.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Mapping
from types import CodeType, ModuleType
from typing import Any

from chalicelib.engine import active, assign
from chalicelib.engine.documents import DocumentValue
from chalicelib.engine.errors import EngineError, InterviewCodeError, LoopError, UndefinedVariableError
from chalicelib.engine.mail import NewAddress
from chalicelib.engine.messages import OutboundMessage
from chalicelib.engine.render import render_message, render_question
from chalicelib.engine.request import Interface, Request
from chalicelib.engine.screen import MessagePriority, Outcome, OutcomeKind, ScreenView
from chalicelib.engine.signals import (
    BackgroundResponseActionSignal,
    BackgroundResponseSignal,
    CommandSignal,
    ForceAskSignal,
    MessageSignal,
    MissingVariable,
    ResponseSignal,
    Signal,
)
from chalicelib.engine.snapshots import NewSnapshot
from chalicelib.engine.state import STATE_KEY, PendingAction, SessionState
from chalicelib.engine.tasks import NewTask
from chalicelib.engine.templates import LazyTemplate
from chalicelib.language.blocks import Attachment, Block, Expr, Interview, Kind
from chalicelib.language.markup import Markup
from chalicelib.language.pycode import canonical

_MAX_SEEK_DEPTH = 60
_SPECIAL_ACTIONS = {"_da_force_ask", "_da_priority_action"}
_MAX_ROUNDS = 400
ROLE_EVENT = "role_event"  # the screen shown when the next question is for another role


class _Ask(Exception):  # internal control flow
    def __init__(self, block: Block, sought: str, bindings: Mapping[str, Any], event: str | None = None) -> None:
        super().__init__(sought)
        self.block = block
        self.sought = sought
        self.bindings = dict(bindings)
        self.event = event
        self.seeking: list[str] | None = None  # the names being sought when it was raised, newest first


NamespaceFactory = Callable[["Evaluation"], dict[str, Any]]


class Evaluation:
    """One run of the interview logic over `answers` (modified in place)."""

    def __init__(self, interview: Interview, answers: dict[str, Any], request: Request,
                 library: NamespaceFactory, state: SessionState | None = None) -> None:
        self.interview = interview
        self.request = request
        # The engine's own state; answers that still carry theirs (a saved step) give it up here.
        self.state = state if state is not None else SessionState.take(answers)
        answers.pop(STATE_KEY, None)
        self.base = library(self)
        self.namespace: dict[str, Any] = {**self.base, **answers}
        self.namespace.setdefault("url_args", {})
        self.message_log: list[dict[str, str]] = []
        self.kv_writes: dict[tuple[str, str], Any] = {}
        self.action_arguments: dict[str, Any] = {}
        self._action_done = False
        self._request_action_taken = False  # a non-persistent requested action runs once per turn
        self._rounds = 0
        self._seeking: list[str] = []
        self.outbox: list[NewTask] = []  # background_action() calls of this turn
        self.new_addresses: list[NewAddress] = []  # interview_email() addresses made this turn
        self.documents: list[DocumentValue] = []  # attachments assembled this turn (files to store)
        self.messages: list[OutboundMessage] = []  # send_email()/send_sms() calls of this turn
        self.snapshots: dict[str, NewSnapshot] = {}  # store_variables_snapshot() calls of this turn, by tag
        self.error_action: tuple[str, dict[str, Any]] | None = None  # background_error_action()
        # The names being sought when it stopped on a question or an error, newest first (a failed
        # background task reports them as its `variables`).
        self.stopped_seeking: list[str] = []

    # ----------------------------------------------------------------- public API
    def run(self) -> Outcome:
        """Evaluate until a screen or another outcome is reached."""
        token = active.activate(self)
        try:
            self._prepare()
            return self._loop()
        except Signal as signal:
            return self._signal_outcome(signal)
        finally:
            active.deactivate(token)

    @property
    def action_processed(self) -> bool:
        """True once this turn's action has run (or there was none); action_argument() then names none."""
        return self._action_done

    @property
    def sought(self) -> list[str]:
        """The names being sought right now, newest first (for background_error_action)."""
        return list(reversed(self._seeking))

    def answers(self) -> dict[str, Any]:
        """The answers to save: everything defined, less library names and unpicklable kinds."""
        base = self.base
        return {
            k: v for k, v in self.namespace.items()
            if not k.startswith("__") and (k not in base or v is not base[k]) and not _transient(v)
        }

    def process_action(self) -> None:
        """Run the requested or pending action now (authors may call it explicitly)."""
        if self._action_done:
            return
        self._action_done = True
        action = self._current_action()
        if action is None:
            return
        name = canonical(action.name)
        self.action_arguments = dict(action.arguments)
        if name in _SPECIAL_ACTIONS:
            self._special_action(name, self.action_arguments)
            return
        candidates = self._definers(name)
        if not candidates:
            self._pop_action(name)
            raise UndefinedVariableError(name, self.interview.name)
        block, bindings = candidates[0]
        if block.kind is Kind.QUESTION:
            raise _Ask(block, name, bindings, event=name)
        try:
            self._define_with(block, bindings, forced=True)
        except ResponseSignal:
            self._pop_action(name)  # answered (json_response, response): the next turn must not answer it again
            raise
        self._pop_action(name)

    def seek(self, name: str) -> Any:
        """The value of `name`, asking or computing it first if needed."""
        for _ in range(_MAX_SEEK_DEPTH):
            try:
                return assign.lookup(self.namespace, name)
            except MissingVariable as missing:
                self._seek(missing.name)
        raise LoopError(f"{name!r} stays undefined after its blocks ran")

    def is_defined(self, name: str) -> bool:
        return assign.is_defined(self.namespace, canonical(name))

    def log(self, message: str, priority: str = MessagePriority.LOG) -> None:
        self.message_log.append({"message": str(message), "priority": priority})

    # ----------------------------------------------------------------- the loop
    def _prepare(self) -> None:
        self.namespace["url_args"].update(self.request.url_args)
        for block in self.interview.setup:
            self._run_setup(block)
        for block in self.interview.blocks:
            for name in block.reconsider if block.kind is Kind.CODE else ():
                assign.delete(self.namespace, name)
        if self.request.action and self.request.persistent_action:
            self.state.push_action(self.request.action, self.request.arguments)

    def _loop(self) -> Outcome:
        ask: _Ask | None = None
        pending: str | None = None
        while True:
            self._tick()
            try:
                if pending is not None:
                    name, pending = pending, None
                    self._seek(name)
                if ask is not None:
                    ask = self._for_this_role(ask)
                    self.stopped_seeking = ask.seeking if ask.seeking is not None else \
                        [ask.sought] if ask.event or ask.sought in ask.block.defines else []
                    return self._screen_outcome(self._render(ask))
                self._drive()
                raise EngineError(
                    f"the interview {self.interview.name} ran to its end without a question to show; "
                    "add a mandatory question (an end screen) after the last mandatory block"
                )
            except _Ask as new:
                ask = new
            except MissingVariable as missing:
                pending = missing.name
            except NameError as err:
                if err.name is None:
                    raise
                pending = err.name
            except ForceAskSignal as signal:
                self._push_force_ask(signal)
                self._action_done = False
                ask = None

    def _tick(self) -> None:
        self._rounds += 1
        if self._rounds > _MAX_ROUNDS:
            raise LoopError(
                f"the interview {self.interview.name} did not settle after {_MAX_ROUNDS} rounds; "
                "a block probably keeps undefining what another defines"
            )

    def _drive(self) -> None:
        if not self.interview.explicit_process_action:
            self.process_action()
        for block in self.interview.ordered:
            if block.initial is not False:
                if self._truthy(block.initial):
                    self._run_ordered(block)
                continue
            if self.state.has_answered(block.name) or not self._truthy(block.mandatory):
                continue
            self._run_ordered(block)
            self.state.mark_answered(block.name)

    def _run_ordered(self, block: Block) -> None:
        for need in block.need:
            self._evaluate(need, block)
        if block.kind is Kind.QUESTION:
            question = block.question
            assert question is not None
            variables = [v for v in block.defines if not block.is_event]
            if variables and all(self.is_defined(v) for v in variables):
                return
            raise _Ask(block, variables[0] if variables else block.name, {})
        self._define_with(block, {}, forced=True)

    # ----------------------------------------------------------------- roles
    def _for_this_role(self, ask: _Ask) -> _Ask:
        """The question to show: `ask`'s, if the user's `role` may answer it (its `role:`, else the
        interview's `default role`); otherwise the `role_event` screen, with `role_needed` set to
        the roles that may answer it (a multi-user interview waiting for someone else)."""
        needed = ask.block.roles or self.interview.default_role
        if not needed or ask.event == ROLE_EVENT or self.namespace.get("role") in needed:
            return ask
        self.namespace["role_needed"] = list(needed)
        screens = [block for block, _ in self._definers(ROLE_EVENT) if block.kind is Kind.QUESTION]
        if not screens:
            raise EngineError(
                f"the next question ({ask.block.where}) is for the role {' or '.join(needed)}, and this user's "
                f"role is {self.namespace.get('role')!r}; add an `event: {ROLE_EVENT}` question to show while "
                "the interview waits for that role")
        return _Ask(screens[0], ROLE_EVENT, {}, event=ROLE_EVENT)

    # ----------------------------------------------------------------- seeking
    def definers(self, name: str) -> list[tuple[Block, dict[str, Any]]]:
        """The blocks that can define `name`, latest first, with the generic names they bind."""
        return self._definers(name)

    def _definers(self, name: str) -> list[tuple[Block, dict[str, Any]]]:
        found: list[tuple[Block, dict[str, Any]]] = [(b, {}) for b in self.interview.definers.get(name, ())]
        for block in self.interview.generic_definers:
            for pattern in block.patterns:
                match = pattern.match(name)
                if match:
                    bindings = {k: _index_value(v) for k, v in match.groupdict().items()}
                    found.append((block, bindings))
                    break
        found.sort(key=lambda pair: -pair[0].number)
        return found

    def _seek(self, name: str) -> None:
        if name in self._seeking:
            chain = " → ".join([*self._seeking[self._seeking.index(name):], name])
            raise LoopError(f"the interview {self.interview.name} goes in a circle: {chain}; "
                            "change one of these blocks so that it does not need the other")
        if len(self._seeking) > _MAX_SEEK_DEPTH:
            raise LoopError(f"seeking {name!r} went {len(self._seeking)} names deep: {' → '.join(self._seeking)}")
        self._seeking.append(name)
        try:
            self._seek_candidates(name)
        except _Ask as ask:
            if ask.seeking is None:
                ask.seeking = self.sought
            raise
        except EngineError:
            if not self.stopped_seeking:
                self.stopped_seeking = self.sought
            raise
        finally:
            self._seeking.pop()

    def _seek_candidates(self, name: str) -> None:
        candidates = self._definers(name)
        if not candidates:
            parent = _parent_name(name)
            if parent and not self.is_defined(parent):
                return self._seek(parent)
            raise UndefinedVariableError(name, self.interview.name)
        for block, bindings in candidates:
            if block.kind is Kind.QUESTION:
                raise _Ask(block, name, bindings)
            self._define_with(block, bindings)
            if self.is_defined(name) or block.is_event:
                return None
        raise UndefinedVariableError(name, self.interview.name)

    def _define_with(self, block: Block, bindings: Mapping[str, Any], forced: bool = False) -> None:
        self.namespace.update(bindings)
        if block.kind is Kind.CODE:
            assert block.code is not None
            self._exec(block.code, block)
        elif block.kind is Kind.OBJECTS:
            self._make_objects(block)
        elif block.kind is Kind.TEMPLATE:
            self._define_template(block)
        elif block.kind is Kind.ATTACHMENT:
            assert block.attachment is not None
            document = self.assemble(block.attachment)
            if block.attachment.variable_name:
                assign.assign(self.namespace, block.attachment.variable_name, document)
        elif block.kind is Kind.QUESTION:
            raise _Ask(block, block.defines[0] if block.defines else block.name, bindings)

    def _exec(self, code: CodeType, block: Block) -> None:
        for _ in range(_MAX_SEEK_DEPTH):
            try:
                exec(code, self.namespace)  # interview code is author code
                return
            except MissingVariable as missing:
                self._seek(missing.name)
            except NameError as err:
                if not err.name:
                    raise self._code_error(block, err) from err
                self._seek(err.name)
            except (Signal, _Ask, EngineError):
                raise
            except Exception as err:  # author code failed: report where and why
                raise self._code_error(block, err) from err
        raise LoopError(f"the code at {block.where} keeps needing names that never get defined")

    def _evaluate(self, expr: Expr, block: Block) -> Any:
        for _ in range(_MAX_SEEK_DEPTH):
            try:
                return eval(expr.code, self.namespace)  # author expression
            except MissingVariable as missing:
                self._seek(missing.name)
            except NameError as err:
                if not err.name:
                    raise self._code_error(block, err) from err
                self._seek(err.name)
            except (Signal, _Ask, EngineError):
                raise
            except Exception as err:
                raise self._code_error(block, err) from err
        raise LoopError(f"the expression {expr.source!r} at {block.where} never settles")

    def _truthy(self, flag: bool | Expr) -> bool:
        if isinstance(flag, bool):
            return flag
        return bool(eval(flag.code, self.namespace))  # author expression

    def _code_error(self, block: Block, err: BaseException) -> InterviewCodeError:
        return InterviewCodeError(block.where, err, _author_trace(err, block.file), self.sought)

    # ----------------------------------------------------------------- block kinds
    def _run_setup(self, block: Block) -> None:
        import importlib

        for item in block.imports:
            star = item.startswith("*")
            module = importlib.import_module(item.lstrip("*"))
            if star:
                names = getattr(module, "__all__", [n for n in vars(module) if not n.startswith("_")])
                self.namespace.update({n: getattr(module, n) for n in names})
            else:
                self.namespace[item.split(".")[0]] = importlib.import_module(item.split(".")[0])

    def _make_objects(self, block: Block) -> None:
        for name, class_expr in block.objects:
            if self.is_defined(name):
                continue
            try:
                cls = eval(class_expr.code, self.namespace)  # author expression
            except NameError as err:
                raise EngineError(f"{block.where}: unknown object class {class_expr.source!r} for {name!r}; "
                                  "use a class the interview knows, such as DAObject or Individual") from err
            if not callable(cls):
                raise EngineError(f"{block.where}: {class_expr.source!r} for {name!r} is not a class")
            assign.assign(self.namespace, name, cls(name))

    def _define_template(self, block: Block) -> None:
        template = block.template
        assert template is not None
        if template.target and self.request.interface == Interface.CHECKIN:
            # A check-in reply: the content goes to the page's [TARGET], the variable stays undefined.
            raise BackgroundResponseSignal({"target": template.target,
                                            "content": Markup(template.content.html(self.namespace))})
        assign.assign(self.namespace, template.name, LazyTemplate(template.name))  # rendered when used

    def assemble(self, attachment: Attachment) -> DocumentValue:
        """Render an attachment's content now; its files are made and stored by the runtime."""
        ns = self.namespace
        document = DocumentValue(
            name=attachment.name.text(ns), filename=attachment.filename.text(ns),
            description=attachment.description.text(ns) if attachment.description else "",
            content_html=attachment.content.html(ns) if attachment.content else "",
            formats=attachment.valid_formats, session_id=self.request.session_id,
        )
        if document not in self.documents:
            self.documents.append(document)
        return document

    # ----------------------------------------------------------------- actions
    def _current_action(self) -> PendingAction | None:
        if self.request.action and not self.request.persistent_action and not self._request_action_taken:
            self._request_action_taken = True
            return PendingAction(self.request.action, dict(self.request.arguments))
        return self.state.current_action()

    def _pop_action(self, name: str) -> None:
        self.state.pop_action(name)

    def _special_action(self, name: str, arguments: dict[str, Any]) -> None:
        """url_ask() and url_action(..., _forget_prior=True) arrive as these built-in actions."""
        self._pop_action(name)
        if name == "_da_priority_action":
            self.state.replace_actions(str(arguments.get("_action")), arguments.get("_arguments"))
        else:
            self._push_force_ask(ForceAskSignal(list(arguments.get("variables") or [])))
        self._action_done = False
        self.process_action()

    def _push_force_ask(self, signal: ForceAskSignal) -> None:
        self.state.push_actions(
            PendingAction(str(item.get("action")), dict(item.get("arguments") or {}))
            if isinstance(item, Mapping) else PendingAction(str(item)) for item in signal.items)

    # ----------------------------------------------------------------- outcomes
    def _render(self, ask: _Ask) -> ScreenView:
        block = ask.block
        self.namespace.update(ask.bindings)
        for need in block.need:
            self._evaluate(need, block)
        for name in block.reconsider:
            assign.delete(self.namespace, name)
        event = ask.event or (None if ask.sought == block.name else ask.sought)
        try:
            return render_question(self, block, ask.bindings, event)
        except (MissingVariable, NameError, Signal, _Ask, EngineError):
            raise
        except Exception as err:  # a failing ${ } expression in the question's text
            raise self._code_error(block, err) from err

    def _screen_outcome(self, view: ScreenView) -> Outcome:
        self.state.show(view)
        return Outcome(OutcomeKind.SCREEN, screen=view, message_log=tuple(self.message_log))

    def _signal_outcome(self, signal: Signal) -> Outcome:
        log = tuple(self.message_log)
        if isinstance(signal, ResponseSignal):
            return Outcome(OutcomeKind.RESPONSE, body=signal.body, content_type=signal.content_type,
                           status=signal.status, url=signal.url, save=not signal.null, message_log=log)
        if isinstance(signal, CommandSignal):
            return Outcome(OutcomeKind.COMMAND, command=signal.kind, url=signal.url, sleep=signal.sleep,
                           message_log=log)
        if isinstance(signal, BackgroundResponseSignal):
            return Outcome(OutcomeKind.BACKGROUND, value=signal.value, ui=signal.kind, sleep=signal.sleep,
                           message_log=log)
        if isinstance(signal, BackgroundResponseActionSignal):
            return Outcome(OutcomeKind.CALLBACK, action=signal.action, arguments=dict(signal.arguments),
                           message_log=log)
        if isinstance(signal, MessageSignal):
            view = render_message(self, signal)
            self.state.show(view)
            return Outcome(OutcomeKind.SCREEN, screen=view, message_log=log)
        raise EngineError(f"{type(signal).__name__} is not allowed here")


def _author_trace(err: BaseException, file: str) -> str:
    """The traceback of an error in interview code, showing only the interview's own frames."""
    summary = traceback.TracebackException.from_exception(err)
    own = [frame for frame in summary.stack if frame.filename == file]
    if own:
        summary.stack = traceback.StackSummary.from_list(own)
    return "".join(summary.format())


def _transient(value: Any) -> bool:
    return isinstance(value, (ModuleType, type)) or callable(value) and not hasattr(value, "__dict__") \
        or type(value).__name__ in ("function", "builtin_function_or_method", "method")


def _index_value(text: str) -> Any:
    text = text.strip()
    if text.isdigit():
        return int(text)
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def _parent_name(name: str) -> str | None:
    """`user.name.first` → `user.name`; `fishes['a']` → `fishes`; `x` → None."""
    try:
        steps = assign.parse_target(name)
    except EngineError:
        return None
    if len(steps) < 2:
        return None
    text = steps[0][1]
    for kind, key in steps[1:-1]:
        text += f".{key}" if kind == "attr" else f"[{key!r}]"
    return str(text)
