"""Render a question block (or a `message()`) into a ScreenView.

Rendering may need names that are not defined yet; it then raises
MissingVariable and the evaluator seeks the name and renders again.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from chalicelib.engine import assign
from chalicelib.engine.documents import DocumentValue
from chalicelib.engine.screen import RenderedAttachment, RenderedButton, RenderedChoice, RenderedField, ScreenView
from chalicelib.engine.signals import Command, MessageSignal
from chalicelib.language.blocks import (
    MULTIPLE_CHOICE,
    YESNO_RADIOS,
    Block,
    Choices,
    Expr,
    Field,
    Question,
    Screen,
)
from chalicelib.language.markup import Text, escape_html, is_markup

if TYPE_CHECKING:
    from chalicelib.engine.evaluator import Evaluation

_GENERIC = re.compile(r"\[([ijklmn])\]")


class RenderedTemplate:
    """A `template` block's value as sessions saved it before templates were lazy (engine/templates.py):
    kept so that those sessions still open."""

    def __init__(self, subject: str, content: str, content_html: str) -> None:
        self.subject = subject
        self.content = content
        self.content_html = content_html

    def __str__(self) -> str:
        return self.content

    def __html__(self) -> str:
        return self.content_html

    def show(self) -> str:
        return self.content_html


def concrete(variable: str, bindings: Mapping[str, Any]) -> str:
    """`people[i].name` with i=0 → `people[0].name`."""
    if not bindings:
        return variable
    return _GENERIC.sub(lambda m: f"[{bindings[m.group(1)]!r}]" if m.group(1) in bindings else m.group(0),
                        variable)


def render_question(ev: Evaluation, block: Block, bindings: Mapping[str, Any], event: str | None) -> ScreenView:
    q = block.question
    assert q is not None
    ns = ev.namespace
    parts = ev.interview.screen_parts
    fields = tuple(_field(ev, f, bindings) for f in q.fields)
    variable = concrete(q.field_variable, bindings) if q.field_variable else None
    return ScreenView(
        block=block.name,
        kind=q.screen,
        question=q.text.html(ns, inline=True),
        subquestion=_html(q.subquestion, ns),
        under=_html(q.under or parts.get("under"), ns),
        right=_html(q.right or parts.get("right"), ns),
        help=_html(q.help, ns),
        fields=fields,
        buttons=_buttons(q, ns),
        variable=variable,
        continue_label=q.continue_label.text(ns) if q.continue_label else "Continue",
        continue_field=concrete(q.continue_field, bindings) if q.continue_field else None,
        reload_seconds=reload_seconds(_source(q.reload, ns)),
        check_in=q.check_in,
        prevent_back=q.prevent_back,
        event_list=(event,) if event else (),
        mandatory=block.mandatory is not False,
        question_id=q.id,
        attachments=_attachments(ev, q),
    )


def _attachments(ev: Evaluation, q: Question) -> tuple[RenderedAttachment, ...]:
    documents = [ev.assemble(a) for a in q.attachments]
    if q.attachment_code is not None:
        value = eval(q.attachment_code.code, ev.namespace)  # author expression
        documents += [d for d in (value if isinstance(value, (list, tuple)) else [value])
                      if isinstance(d, DocumentValue)]
    return tuple(RenderedAttachment(d.name, d.description, d.file_id, d.filename, d.formats) for d in documents)


def render_message(ev: Evaluation, signal: MessageSignal) -> ScreenView:
    """A `message()` screen. Its texts are run-time values, so they are text (escaped), never
    templates or Markdown; only values that interview code marked as markup pass as HTML."""
    buttons: list[RenderedButton] = []
    if signal.buttons:
        for item in signal.buttons:
            for label, value in item.items():
                buttons.append(RenderedButton(escape_html(label), value, is_command=True))
    elif not signal.dead_end:
        leave = bool(signal.show_leave) and not signal.show_exit
        if signal.show_exit is not False:
            label, command = ("Leave", Command.LEAVE) if leave else ("Exit", Command.EXIT)
            buttons.append(RenderedButton(label, command.value, True))
        if signal.show_restart is not False:
            buttons.append(RenderedButton("Restart", Command.RESTART.value, True))
    return ScreenView(
        block="_message",
        kind=Screen.BUTTONS if buttons else Screen.DEADEND,
        question=escape_html(signal.question),
        subquestion=paragraphs_html(signal.subquestion) if signal.subquestion else "",
        buttons=tuple(buttons),
        reload_seconds=reload_seconds(signal.reload),
        is_message=True,
        message_url=signal.url,
    )


def paragraphs_html(value: Any) -> str:
    """A run-time text as HTML paragraphs (blank lines part them, newlines break lines)."""
    if is_markup(value):
        return escape_html(value)
    parts = [p.strip() for p in re.split(r"\n\s*\n", str(value)) if p.strip()]
    return "".join(f"<p>{escape_html(p).replace(chr(10), '<br>')}</p>" for p in parts)


def _html(text: Text | None, ns: Mapping[str, Any]) -> str:
    return text.html(ns) if text is not None else ""


def reload_seconds(value: Any) -> float | None:
    """docassemble's `reload`: True is 10 s, a number (non-digits dropped) at least 4 s; off otherwise."""
    if value in (None, False) or value == "False":
        return None
    if value is True:
        return 10.0
    digits = re.sub(r"[^0-9.]", "", str(value))[:12]
    try:
        return max(4.0, float(digits)) if digits else None
    except ValueError:
        return None


def _buttons(q: Question, ns: Mapping[str, Any]) -> tuple[RenderedButton, ...]:
    if q.screen in (Screen.YESNO, Screen.NOYES, Screen.YESNOMAYBE, Screen.NOYESMAYBE):
        yes, no = (True, False) if q.screen in (Screen.YESNO, Screen.YESNOMAYBE) else (False, True)
        out = [RenderedButton("Yes", yes), RenderedButton("No", no)]
        if q.screen in (Screen.YESNOMAYBE, Screen.NOYESMAYBE):
            out.append(RenderedButton("I don't know", None))
        return tuple(out)
    return tuple(RenderedButton(b.label.html(ns, inline=True), b.value, b.is_command) for b in q.buttons)


def _field(ev: Evaluation, f: Field, bindings: Mapping[str, Any]) -> RenderedField:
    ns = ev.namespace
    variable = concrete(f.variable, bindings) if f.variable else None
    choices, values = _choices(ev, f.choices, variable, ns) if f.choices else ((), ())
    if f.datatype in YESNO_RADIOS and not choices:
        choices = (RenderedChoice("True", "Yes"), RenderedChoice("False", "No"))
        values = (True, False)
    current = _current_value(ns, variable, f, ev)
    if choices and f.datatype not in MULTIPLE_CHOICE:
        choices = tuple(RenderedChoice(c.value, c.label, _same(v, current), c.help)
                        for c, v in zip(choices, values, strict=False))
    elif f.datatype in MULTIPLE_CHOICE and isinstance(current, (Mapping, list)):
        checked = {n for n, v in enumerate(values) if
                   (current.get(v) if isinstance(current, Mapping) else any(_same(v, c) for c in current))}
        choices = tuple(RenderedChoice(c.value, c.label, n in checked, c.help) for n, c in enumerate(choices))
    return RenderedField(
        variable=variable,
        label=f.label.html(ns, inline=True) if f.label else "",
        datatype=f.datatype,
        required=f.required if isinstance(f.required, bool) else bool(eval(f.required.code, ns)),
        value=current,
        choices=choices,
        choice_values=values,
        hint=f.hint.text(ns) if f.hint else "",
        help=f.help.html(ns) if f.help else "",
        note=_note_html(f, ns),
        minimum=_source(f.minimum, ns), maximum=_source(f.maximum, ns),
        minlength=f.minlength, maxlength=f.maxlength, input_type=f.input_type,
        js_show_if=f.js_show_if, js_hide_if=f.js_hide_if,
        js_enable_if=f.js_enable_if, js_disable_if=f.js_disable_if,
    )


def _note_html(f: Field, ns: Mapping[str, Any]) -> str:
    text = f.note or f.html
    return text.html(ns) if text is not None else ""


def _source(value: Any, ns: Mapping[str, Any]) -> Any:
    """A modifier's value from the interview source: a Text (it had Mako) is rendered as plain text."""
    return value.text(ns) if isinstance(value, Text) else value


def _same(value: Any, current: Any) -> bool:
    return current is not None and (value == current or str(value) == str(current))


def _current_value(ns: Any, variable: str | None, f: Field, ev: Evaluation) -> Any:
    """What the field shows: the variable's value, else the answer Back discarded, else the default."""
    if variable and assign.is_defined(ns, variable):
        return assign.lookup(ns, variable)
    if variable and assign.is_defined(ev.state.prior, variable):
        return assign.lookup(ev.state.prior, variable)
    return _source(f.default, ns)


def _choices(ev: Evaluation, spec: Choices, variable: str | None,
             ns: Mapping[str, Any]) -> tuple[tuple[RenderedChoice, ...], tuple[Any, ...]]:
    if spec.code is not None:
        return normalize_choices(_eval_choices(ev, spec.code))
    rendered = tuple(RenderedChoice(str(i), c.label.html(ns, inline=True),
                                    help=c.help.html(ns) if c.help else "")
                     for i, c in enumerate(spec.static))
    return rendered, tuple(c.value for c in spec.static)


def _eval_choices(ev: Evaluation, expr: Expr) -> Any:
    return eval(expr.code, ev.namespace)  # author expression; MissingVariable propagates


def normalize_choices(raw: Any) -> tuple[tuple[RenderedChoice, ...], tuple[Any, ...]]:
    """Choices from code, in any of docassemble's four shapes, as (value, label) pairs.

    A dict {value: label}; a list of one-item dicts [{value: label}]; a list of
    [value, label] pairs; a list of plain values (label = value). Dicts with
    'label'/'value' keys are accepted too. Labels are run-time values: text, escaped
    (a `Markup` label passes as sanitized HTML).
    """
    pairs = list(_pairs(raw))
    choices = tuple(RenderedChoice(str(i), escape_html(label)) for i, (_, label) in enumerate(pairs))
    return choices, tuple(value for value, _ in pairs)


def _pairs(raw: Any) -> Iterable[tuple[Any, Any]]:
    if isinstance(raw, Mapping):
        yield from raw.items()
        return
    for item in raw or ():
        if isinstance(item, Mapping):
            if "value" in item or "label" in item:
                yield item.get("value", item.get("label")), item.get("label", item.get("value"))
            else:
                yield from item.items()
        elif isinstance(item, (list, tuple)) and len(item) >= 2:
            yield item[0], item[1]
        else:
            yield item, item
