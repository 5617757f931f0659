"""The question JSON of docassemble's API, made from a ScreenView.

Shapes follow the question JSON of docassemble's session API: `questionType`, `questionText`,
`subquestionText`, `fields` (with `variable_name`, `datatype`, `choices`),
`questionName`, `event_list`, `allow_going_back`, `steps`, `message_log`,
`reload_after`, ...
"""

from __future__ import annotations

from typing import Any

from chalicelib.engine.screen import MessagePriority, Outcome, RenderedField, ScreenView
from chalicelib.language.blocks import Screen
from chalicelib.library.serialize import jsonable

_TYPES = {
    Screen.FIELDS: "fields", Screen.YESNO: "yesno", Screen.NOYES: "noyes", Screen.YESNOMAYBE: "yesnomaybe",
    Screen.NOYESMAYBE: "noyesmaybe", Screen.BUTTONS: "multiple_choice", Screen.CONTINUE: "settrue",
    Screen.DEADEND: "deadend",
}


def question_json(view: ScreenView, outcome: Outcome, *, title: str, step: int) -> dict[str, Any]:
    data: dict[str, Any] = {
        "questionType": _TYPES[view.kind],
        "questionText": view.question,
        "questionName": view.block,
        "title": title,
        "browser_title": title,
        "steps": step,
        "allow_going_back": step > 1 and not view.prevent_back,
        "message_log": [m for m in outcome.message_log if m.get("priority") != MessagePriority.LOG],
        "event_list": list(view.event_list),
        "continueLabel": view.continue_label,
    }
    if data["allow_going_back"]:
        data["cornerBackButton"] = "Back"
    for key, value in (("subquestionText", view.subquestion), ("underText", view.under),
                       ("rightText", view.right), ("helpText", view.help)):
        if value:
            data[key] = value
    if view.mandatory:
        data["mandatory"] = True
    if view.question_id:
        data["id"] = view.question_id
    if view.reload_seconds:
        data["reload_after"] = int(view.reload_seconds * 1000)
        data["reload"] = data["reload_after"]
    if view.check_in:
        data["check_in"] = view.check_in
    if view.attachments:
        data["attachments"] = [{"name": d.name, "description": d.description, "filename": d.filename,
                                "valid_formats": list(d.formats), "file_id": d.file_id,
                                "filename_with_extension": {f: f"{d.filename}.{f}" for f in d.formats}}
                               for d in view.attachments]
    if view.kind is Screen.BUTTONS:
        data["questionVariety"] = "buttons"
        data["fields"] = [_buttons_field(view)]
    elif view.kind in (Screen.YESNO, Screen.NOYES, Screen.YESNOMAYBE, Screen.NOYESMAYBE, Screen.CONTINUE):
        data["fields"] = [{"variable_name": view.variable, "number": 0}]
    else:
        data["fields"] = [_field(n, f) for n, f in enumerate(view.fields)]
        if view.continue_field:
            data["continue_button_field"] = view.continue_field
    return data


def _field(number: int, f: RenderedField) -> dict[str, Any]:
    out: dict[str, Any] = {"number": number, "label": f.label}
    if f.variable is None:
        out["note"] = f.note
        return out
    out.update({"variable_name": f.variable, "datatype": f.datatype, "required": f.required, "active": True})
    if f.hint:
        out["hint"] = f.hint
    if f.help:
        out["helptext"] = f.help
    for key, value in (("min", f.minimum), ("max", f.maximum), ("minlength", f.minlength),
                       ("maxlength", f.maxlength)):
        if value not in (None, ""):
            out[key] = value
    if f.value is not None and not isinstance(f.value, dict):
        out["default"] = jsonable(f.value)
    if f.choices:
        out["choices"] = [
            {"label": c.label, "value": jsonable(v), **({"selected": True} if c.selected else {})}
            for c, v in zip(f.choices, f.choice_values, strict=False)
        ]
    if f.js_enable_if:
        out["js_enable_if"] = f.js_enable_if
    if f.js_show_if:
        out["show_if_js"] = {"expression": f.js_show_if}
    return out


def _buttons_field(view: ScreenView) -> dict[str, Any]:
    choices = []
    for button in view.buttons:
        choice: dict[str, Any] = {"label": button.label, "value": jsonable(button.value)}
        if view.variable:
            choice["variable_name"] = view.variable
        else:
            choice["command"] = True
        choices.append(choice)
    field: dict[str, Any] = {"number": 0, "choices": choices}
    if view.variable:
        field["variable_name"] = view.variable
    return field
