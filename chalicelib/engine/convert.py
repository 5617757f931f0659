"""Turn raw form values into typed answers, or say what is wrong with them.

Every function here takes the raw string(s) a browser or API client sent for
one field and returns the value to store, or raises InvalidInput with a
message that tells the user what to enter. Nothing is assigned here.

Every check runs in time linear in the value and bounds it before any
conversion: a number is at most MAX_NUMBER_CHARS characters of the shape
`[sign][$]digits[,ddd...][.digits][e[sign]digits]` (`$` for currency only) and
below 10**MAX_WHOLE_DIGITS in size, so Decimal/int/float never see a huge
value; an e-mail address keeps to RFC 5321's lengths and is checked by
splitting, not by a backtracking pattern.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from chalicelib.engine.files import FILE_DATATYPES, DAFileList
from chalicelib.engine.screen import RenderedField
from chalicelib.language.blocks import (
    MULTIPLE_CHOICE,
    NEGATED,
    NUMERIC,
    SINGLE_CHOICE,
    UNSTRIPPED,
    YESNO_CHECKBOXES,
    YESNO_RADIOS,
    Datatype,
)

MAX_NUMBER_CHARS = 50
MAX_WHOLE_DIGITS = 15  # digits before the decimal point: |value| < 10**15, exact in a float
MAX_EMAIL_CHARS = 254  # RFC 5321: a path of 256 octets, less the angle brackets
MAX_EMAIL_LOCAL = 64
MAX_DOMAIN_LABEL = 63
_NUMBER = re.compile(  # sign, $ (currency), 1234 or 1,234 with an optional .5, or .5; then e-3, say
    r"[+-]?(?P<dollar>\$?)(?:(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_INTEGER_SIZE = f"Enter a whole number with at most {MAX_WHOLE_DIGITS} digits."
_NUMBER_SIZE = (f"Enter a number of at most {MAX_NUMBER_CHARS} characters, with at most {MAX_WHOLE_DIGITS} digits"
                " before the decimal point.")
_EMAIL_INVALID = "Enter a valid e-mail address, such as name@example.com."
_TRUE = {"true", "1", "yes", "on", "y", "t"}
_FALSE = {"false", "0", "no", "off", "n", "f", ""}


class InvalidInput(ValueError):  # reported to the user, not raised to callers
    """A value the user must correct; the message is shown next to the field."""


def convert(field: RenderedField, raw: Any) -> Any:
    """Convert one field's raw value (str, list of str, or JSON value from the API)."""
    datatype = field.datatype
    if datatype in FILE_DATATYPES:
        return _files(field, raw)
    if datatype in MULTIPLE_CHOICE:
        checked = _checkboxes(field, raw)
        return [value for value, on in checked.items() if on] if datatype == Datatype.OBJECT_CHECKBOXES else checked
    if isinstance(raw, list):
        raw = raw[-1] if raw else ""
    if datatype in YESNO_CHECKBOXES:
        value = _boolean(raw)
        return (not value) if datatype in NEGATED else value
    text = "" if raw is None else (str(raw) if not isinstance(raw, str) else raw)
    if datatype not in UNSTRIPPED:
        text = text.strip()
    if text == "":
        if field.required:
            raise InvalidInput("This field is required.")
        return _empty(datatype)
    converter = _CONVERTERS.get(datatype, _text)
    value = converter(field, text)
    _check_limits(field, value)
    return value


def _files(field: RenderedField, raw: Any) -> DAFileList | None:
    """The stored files of an upload field (the runtime stores what was posted and hands them in
    as a DAFileList); a single-file field keeps the first."""
    if isinstance(raw, DAFileList) and len(raw):
        return raw if field.datatype == Datatype.FILES else DAFileList(raw.elements[:1])
    if raw in (None, "", []) or isinstance(raw, DAFileList):
        if field.required:
            raise InvalidInput("Choose a file to upload.")
        return None
    raise InvalidInput("This field takes a file: choose one to upload (text cannot be sent for it).")


def _empty(datatype: str) -> Any:
    if datatype in NUMERIC or datatype in YESNO_RADIOS:
        return None
    return ""


def _boolean(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower() if raw is not None else ""
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InvalidInput("Choose yes or no.")


def _text(field: RenderedField, text: str) -> str:
    if field.minlength is not None and len(text) < field.minlength:
        raise InvalidInput(f"Enter at least {field.minlength} characters.")
    if field.maxlength is not None and len(text) > field.maxlength:
        raise InvalidInput(f"Enter no more than {field.maxlength} characters.")
    return text


def _integer(field: RenderedField, text: str) -> int:
    number = _decimal(text, "Enter a whole number.", _INTEGER_SIZE, currency=False)
    if number != number.to_integral_value():
        raise InvalidInput("Enter a whole number.")
    return int(number)


def _number(field: RenderedField, text: str) -> float:
    return float(_decimal(text, "Enter a number.", _NUMBER_SIZE, currency=field.datatype == Datatype.CURRENCY))


def _decimal(text: str, invalid: str, too_big: str, currency: bool) -> Decimal:
    """The number in `text`, checked for shape and size before Decimal sees it."""
    if len(text) > MAX_NUMBER_CHARS:
        raise InvalidInput(too_big)
    shape = _NUMBER.fullmatch(text)
    if shape is None or (shape["dollar"] and not currency):
        raise InvalidInput(invalid)
    try:
        number = Decimal(text.replace(",", "").replace("$", ""))
    except InvalidOperation as err:  # an exponent beyond what Decimal can hold
        raise InvalidInput(invalid) from err
    if number.is_zero():
        return Decimal(0)
    if number.adjusted() >= MAX_WHOLE_DIGITS:  # adjusted() is the exponent of the first digit: no arithmetic
        raise InvalidInput(too_big)
    return number


def _email(field: RenderedField, text: str) -> str:
    if len(text) > MAX_EMAIL_CHARS:
        raise InvalidInput(f"Enter an e-mail address of at most {MAX_EMAIL_CHARS} characters, such as "
                           "name@example.com.")
    local, at, domain = text.rpartition("@")
    labels = domain.split(".")
    if not at or not local or "@" in local or len(labels) < 2 or not all(labels) \
            or any(c.isspace() for c in text):
        raise InvalidInput(_EMAIL_INVALID)
    if len(local) > MAX_EMAIL_LOCAL or any(len(label) > MAX_DOMAIN_LABEL for label in labels):
        raise InvalidInput(f"Enter a valid e-mail address, such as name@example.com: at most {MAX_EMAIL_LOCAL} "
                           f"characters before the @ and {MAX_DOMAIN_LABEL} between the dots after it.")
    return _text(field, text)


def _date(field: RenderedField, text: str) -> dt.date:
    for parse in (dt.date.fromisoformat, lambda t: dt.datetime.strptime(t, "%m/%d/%Y").date()):
        try:
            return parse(text)
        except ValueError:
            continue
    raise InvalidInput("Enter a date as YYYY-MM-DD.")


def _time(field: RenderedField, text: str) -> dt.time:
    try:
        return dt.time.fromisoformat(text)
    except ValueError as err:
        raise InvalidInput("Enter a time as HH:MM.") from err


def _datetime(field: RenderedField, text: str) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError as err:
        raise InvalidInput("Enter a date and time as YYYY-MM-DDTHH:MM.") from err


def _choice(field: RenderedField, text: str) -> Any:
    for choice, value in zip(field.choices, field.choice_values, strict=False):
        if choice.value == text:
            return value
    if field.datatype == Datatype.COMBOBOX:
        return text
    raise InvalidInput("Choose one of the options shown.")


def _yesnoradio(field: RenderedField, text: str) -> bool | None:
    value = text.strip().lower()
    if value in ("none", "null", "maybe"):
        return None
    result = _boolean(value)
    return (not result) if field.datatype in NEGATED else result


def _checkboxes(field: RenderedField, raw: Any) -> dict[Any, bool]:
    """Each choice's value, and whether it was checked (posted as its position, or by the API as its value)."""
    chosen = raw if isinstance(raw, list) else ([] if raw in (None, "") else [raw])
    if isinstance(raw, dict):  # API clients may send {value: true}
        chosen = [k for k, v in raw.items() if v]
    chosen_text = {str(c) for c in chosen}
    result = {value: (choice.value in chosen_text or str(value) in chosen_text)
              for choice, value in zip(field.choices, field.choice_values, strict=False)}
    if field.required and not any(result.values()):
        raise InvalidInput("Check at least one option.")
    return result


def _check_limits(field: RenderedField, value: Any) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return
    if field.minimum not in (None, "") and value < float(field.minimum):
        raise InvalidInput(f"Enter a value of at least {_plain(field.minimum)}.")
    if field.maximum not in (None, "") and value > float(field.maximum):
        raise InvalidInput(f"Enter a value of no more than {_plain(field.maximum)}.")


def _plain(number: Any) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


# Datatypes not named here are text (`_text`); yes/no checkboxes and checkboxes are handled in `convert`.
_CONVERTERS: dict[str, Callable[[RenderedField, str], Any]] = {
    Datatype.INTEGER: _integer, **dict.fromkeys(NUMERIC - {Datatype.INTEGER}, _number),
    Datatype.EMAIL: _email, Datatype.DATE: _date, Datatype.TIME: _time, Datatype.DATETIME: _datetime,
    **dict.fromkeys(SINGLE_CHOICE, _choice), **dict.fromkeys(YESNO_RADIOS, _yesnoradio),
}
