"""Parsing of question blocks: the screen kind, fields, choices and buttons."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from chalicelib.language.blocks import (
    DATATYPES,
    DEFAULT_FORMATS,
    NOT_REQUIRED_BY_DEFAULT,
    Attachment,
    Button,
    Choice,
    Choices,
    Datatype,
    Expr,
    Field,
    Question,
    Screen,
)
from chalicelib.language.errors import InterviewSyntaxError
from chalicelib.language.markup import Text
from chalicelib.language.pycode import canonical, compile_code

# Keys a field item may hold besides its "Label: variable" pair.
FIELD_KEYS = frozenset({
    "label", "field", "datatype", "input type", "choices", "code", "required", "default", "hint", "help",
    "min", "max", "minlength", "maxlength", "note", "html", "raw html", "show if", "hide if",
    "js show if", "js hide if", "js enable if", "js disable if", "exclude", "none of the above",
    "all of the above", "shuffle", "rows", "css class", "step", "disabled", "validate", "accept",
    "maximum image size", "under text", "grid", "label above field", "floating label", "inline width",
    "uncheck others", "check others", "disable others", "validation messages", "address autocomplete",
    "object labeler", "item grid", "file css class", "read only", "persistent", "private",
    "allow privileges", "allow users", "image upload type", "currency symbol",
})

class QuestionParser:
    """Builds a Question from a block's data; `fail` raises with the block's position."""

    def __init__(self, data: Mapping[str, Any], file: str, line: int, number: int,
                 fail: Callable[[str, str], InterviewSyntaxError]) -> None:
        self.data = data
        self.file = file
        self.line = line
        self.number = number
        self.fail = fail

    def text(self, key: str) -> Text | None:
        value = self.data.get(key)
        return None if value is None else Text(value, self.file, self.line)

    def maybe_text(self, value: Any) -> Any:
        """A modifier's value as given, or a Text when it is a string with Mako in it."""
        if isinstance(value, str) and ("${" in value or "%" in value):
            return Text(value, self.file, self.line)
        return value

    def expr(self, source: Any, what: str) -> Expr:
        if not isinstance(source, str):
            source = repr(source)
        return Expr(source, compile_code(source.strip(), self.file, self.line, self.number, mode="eval"))

    def parse(self) -> Question:
        d = self.data
        screen, field_variable = self._screen_kind()
        fields: tuple[Field, ...] = ()
        if "fields" in d:
            raw = d["fields"]
            items = raw if isinstance(raw, list) else [raw]
            fields = tuple(self.field(item) for item in items)
        elif screen is Screen.FIELDS and field_variable and ("choices" in d or "dropdown" in d or "combobox" in d):
            fields = (self._single_choice_field(field_variable),)
        buttons = self._buttons(field_variable)
        return Question(
            text=Text(d.get("question", ""), self.file, self.line),
            screen=screen,
            subquestion=self.text("subquestion"),
            under=self.text("under"),
            right=self.text("right"),
            help=self.text("help") if isinstance(d.get("help"), str) else None,
            fields=fields,
            field_variable=field_variable,
            buttons=buttons,
            continue_label=self.text("continue button label"),
            continue_field=canonical(d["continue button field"]) if "continue button field" in d else None,
            reload=self.maybe_text(d.get("reload")),
            check_in=str(d["check in"]).strip() if d.get("check in") else None,
            prevent_back=bool(d.get("prevent going back")),
            attachments=self._attachments(),
            attachment_code=self.expr(d["attachment code"], "attachment code") if "attachment code" in d
            else None,
            id=str(d["id"]) if "id" in d else None,
        )

    def _screen_kind(self) -> tuple[Screen, str | None]:
        d = self.data
        for key, screen in (("yesno", Screen.YESNO), ("noyes", Screen.NOYES),
                            ("yesnomaybe", Screen.YESNOMAYBE), ("noyesmaybe", Screen.NOYESMAYBE)):
            if key in d:
                return screen, canonical(str(d[key]))
        if "fields" in d or "continue button field" in d:
            return Screen.FIELDS, None
        if "field" in d:
            variable = canonical(str(d["field"]))
            if "buttons" in d:
                return Screen.BUTTONS, variable
            if "choices" in d or "dropdown" in d or "combobox" in d:
                return Screen.FIELDS, variable
            return Screen.CONTINUE, variable
        if "buttons" in d:
            return Screen.BUTTONS, None
        return Screen.DEADEND, None

    def _buttons(self, field_variable: str | None) -> tuple[Button, ...]:
        raw = self.data.get("buttons")
        if raw is None:
            return ()
        if isinstance(raw, Mapping):  # `buttons:` then `Label: value` lines, one button each, in order
            raw = [self._mapped_button(label, value) for label, value in raw.items()]
        if not isinstance(raw, list):
            raise self.fail("'buttons' must be a list of '- Label: value' items or a mapping of 'Label: value' "
                            "lines", f"found a {type(raw).__name__}: {raw!r}")
        buttons = []
        for label, value in (self._label_value(item) for item in raw):
            buttons.append(Button(Text(label, self.file, self.line), value, is_command=field_variable is None))
        return tuple(buttons)

    def _mapped_button(self, label: Any, value: Any) -> dict[Any, Any]:
        if not isinstance(value, (str, int, float, bool)) and value is not None:
            raise self.fail("each line of a 'buttons' mapping must be 'Label: value' with a plain value (a command "
                            "such as exit, or the value to set)",
                            f"found {label!r} with a {type(value).__name__}: {value!r}")
        return {label: value}

    def _label_value(self, item: Any) -> tuple[str, Any]:
        if isinstance(item, Mapping):
            if "label" in item:
                return str(item["label"]), item.get("value", item["label"])
            if len(item) == 1:
                (label, value), = item.items()
                return str(label), value
            pairs = [(k, v) for k, v in item.items() if k not in ("help", "default", "image", "css class")]
            if len(pairs) == 1:
                return str(pairs[0][0]), pairs[0][1]
        if isinstance(item, (str, int, float, bool)):
            return str(item), item
        raise self.fail("each choice or button must be 'Label: value' or a plain label",
                        f"found {item!r}")

    def choices(self, raw: Any) -> Choices:
        if isinstance(raw, str):
            return Choices(code=self.expr(raw, "choices"))
        if isinstance(raw, Mapping):
            raw = [{k: v} for k, v in raw.items()]
        if not isinstance(raw, list):
            raise self.fail("'choices' must be a list, a mapping or code", f"found {raw!r}")
        out = []
        for item in raw:
            label, value = self._label_value(item)
            extra = item if isinstance(item, Mapping) else {}
            out.append(Choice(Text(label, self.file, self.line), value,
                              Text(extra["help"], self.file, self.line) if "help" in extra else None,
                              bool(extra.get("default", False))))
        return Choices(static=tuple(out))

    def _single_choice_field(self, variable: str) -> Field:
        d = self.data
        if "dropdown" in d:
            return Field(None, variable, Datatype.DROPDOWN.value, choices=self.choices(d["dropdown"]))
        if "combobox" in d:
            return Field(None, variable, Datatype.COMBOBOX.value, choices=self.choices(d["combobox"]))
        return Field(None, variable, Datatype.RADIO.value, choices=self.choices(d["choices"]))

    def field(self, item: Any) -> Field:
        if not isinstance(item, Mapping):
            raise self.fail("each item of 'fields' must be a mapping such as '- Name: user_name'",
                            f"found {item!r}")
        label, variable = self._field_label(item)
        datatype = str(item.get("datatype", "")).strip() or (Datatype.RADIO if "choices" in item else Datatype.TEXT)
        if "input type" in item and datatype == Datatype.TEXT:
            datatype = str(item["input type"])
        if datatype not in DATATYPES:
            raise self.fail(f"unknown datatype '{datatype}' for field {variable or label!r}",
                            f"use one of {', '.join(Datatype)}")
        if ("choices" in item or "code" in item) and datatype == Datatype.TEXT:
            datatype = Datatype.DROPDOWN
        choices = None
        if "choices" in item:
            choices = self.choices(item["choices"])
        elif "code" in item:
            choices = Choices(code=self.expr(item["code"], "code"))
        required = item.get("required", datatype not in NOT_REQUIRED_BY_DEFAULT)
        extras = tuple((k, v) for k, v in item.items() if k in FIELD_KEYS and k not in _PARSED_FIELD_KEYS)
        return Field(
            label=Text(label, self.file, self.line) if label is not None else None,
            variable=variable, datatype=Datatype(datatype).value, input_type=item.get("input type"), choices=choices,
            required=required if isinstance(required, bool) else self.expr(required, "required"),
            default=self.maybe_text(item.get("default")),
            hint=Text(item["hint"], self.file, self.line) if "hint" in item else None,
            help=Text(item["help"], self.file, self.line) if "help" in item else None,
            minimum=self.maybe_text(item.get("min")), maximum=self.maybe_text(item.get("max")),
            minlength=_int_or_none(item.get("minlength")), maxlength=_int_or_none(item.get("maxlength")),
            note=Text(item["note"], self.file, self.line) if "note" in item else None,
            html=Text(item["html"], self.file, self.line) if "html" in item else None,
            show_if=item.get("show if"), js_show_if=item.get("js show if"), js_hide_if=item.get("js hide if"),
            js_enable_if=item.get("js enable if"), js_disable_if=item.get("js disable if"),
            extras=extras,
        )

    def _field_label(self, item: Mapping[str, Any]) -> tuple[str | None, str | None]:
        if "field" in item:
            return (str(item["label"]) if "label" in item else None), canonical(str(item["field"]))
        others = [(k, v) for k, v in item.items() if k not in FIELD_KEYS]
        if len(others) == 1:
            label, variable = others[0]
            return str(label), canonical(str(variable))
        if not others and ("note" in item or "html" in item or "raw html" in item):
            return None, None
        raise self.fail(
            "each field needs exactly one 'Label: variable_name' pair (or 'label:' and 'field:')",
            f"found {len(others)} such pairs: {', '.join(map(str, (k for k, _ in others))) or 'none'}",
        )

    def _attachments(self) -> tuple[Attachment, ...]:
        raw = self.data.get("attachment", self.data.get("attachments"))
        if raw is None:
            return ()
        items = raw if isinstance(raw, list) else [raw]
        return tuple(parse_attachment(item, self.file, self.line, self.fail) for item in items)


_PARSED_FIELD_KEYS = frozenset({
    "label", "field", "datatype", "choices", "code", "required", "default", "hint", "help", "min", "max",
    "minlength", "maxlength", "note", "html", "show if", "js show if", "js hide if", "js enable if",
    "js disable if",
})


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


def parse_attachment(item: Any, file: str, line: int,
                     fail: Callable[[str, str], InterviewSyntaxError]) -> Attachment:
    if not isinstance(item, Mapping):
        raise fail("an attachment must be a mapping with 'name', 'filename' and 'content'", f"found {item!r}")
    formats = item.get("valid formats", DEFAULT_FORMATS)
    return Attachment(
        name=Text(item.get("name", "Document"), file, line),
        filename=Text(item.get("filename", "document"), file, line),
        content=Text(item["content"], file, line) if "content" in item else None,
        variable_name=canonical(str(item["variable name"])) if "variable name" in item else None,
        description=Text(item["description"], file, line) if "description" in item else None,
        valid_formats=tuple(formats if isinstance(formats, (list, tuple)) else [formats]),
    )
