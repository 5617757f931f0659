"""Converting one field's raw value: ordinary answers are taken, hostile ones get a message
saying what to enter, before any slow conversion runs (issue 7, §3)."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.engine.convert import InvalidInput, convert
from chalicelib.engine.screen import RenderedField

WHOLE_TOO_BIG = "Enter a whole number with at most 15 digits."
NUMBER_TOO_BIG = "Enter a number of at most 50 characters, with at most 15 digits before the decimal point."
EMAIL_TOO_LONG = "Enter an e-mail address of at most 254 characters, such as name@example.com."
EMAIL_PART_TOO_LONG = ("Enter a valid e-mail address, such as name@example.com: at most 64 characters before the @ "
                       "and 63 between the dots after it.")
EMAIL_INVALID = "Enter a valid e-mail address, such as name@example.com."


def _field(datatype: str) -> RenderedField:
    return RenderedField(variable="x", label="X", datatype=datatype, required=True)


def _refusal(datatype: str, raw: str) -> str:
    with pytest.raises(InvalidInput) as refused:
        convert(_field(datatype), raw)
    return str(refused.value)


@pytest.mark.parametrize(("datatype", "raw", "value"), [
    ("integer", "1,234", 1234),
    ("integer", "-5", -5),
    ("integer", "+7", 7),
    ("integer", " 42 ", 42),
    ("integer", "3.0", 3),
    ("integer", "1e3", 1000),
    ("integer", "999,999,999,999,999", 999_999_999_999_999),
    ("integer", "0e1000000", 0),
    ("number", "3.50", 3.5),
    ("number", "-1,234.5", -1234.5),
    ("number", ".5", 0.5),
    ("number", "2.5e-3", 0.0025),
    ("float", "1234567.125", 1234567.125),
    ("range", "10", 10.0),
    ("currency", "$12.00", 12.0),
    ("currency", "-$1,234.50", -1234.5),
    ("currency", "12", 12.0),
])
def test_ordinary_numbers_are_taken(datatype: str, raw: str, value: Any) -> None:
    converted = convert(_field(datatype), raw)
    assert converted == value
    assert type(converted) is type(value)


@pytest.mark.parametrize("address", [
    "a@example.com", "first.last+tag@sub.example.co.uk", "o'brien@example.ie", "x" * 64 + "@" + "d" * 63 + ".org",
])
def test_ordinary_email_addresses_are_taken(address: str) -> None:
    assert convert(_field("email"), address) == address


@pytest.mark.parametrize(("datatype", "raw", "message"), [
    ("integer", "1e1000000", WHOLE_TOO_BIG),
    ("integer", "9" * 300_000, WHOLE_TOO_BIG),
    ("integer", "1,000,000,000,000,000", WHOLE_TOO_BIG),
    ("integer", "-1" + "0" * 15, WHOLE_TOO_BIG),
    ("number", "1e1000000", NUMBER_TOO_BIG),
    ("number", "1" * 16, NUMBER_TOO_BIG),
    ("float", "0." + "1" * 60, NUMBER_TOO_BIG),
    ("currency", "$" + "9" * 300_000, NUMBER_TOO_BIG),
    ("range", "-1e15", NUMBER_TOO_BIG),
])
def test_numbers_too_big_are_refused_saying_what_is_allowed(datatype: str, raw: str, message: str) -> None:
    assert _refusal(datatype, raw) == message


@pytest.mark.parametrize(("datatype", "raw", "message"), [
    ("integer", "forty", "Enter a whole number."),
    ("integer", "1.5", "Enter a whole number."),
    ("integer", "1,2", "Enter a whole number."),         # not a thousands separator: 1.2 in much of Europe
    ("integer", "12,34", "Enter a whole number."),
    ("number", "nan", "Enter a number."),
    ("number", "inf", "Enter a number."),
    ("number", "-Infinity", "Enter a number."),
    ("number", "$5", "Enter a number."),                 # a dollar sign only in a currency field
    ("number", "5$", "Enter a number."),
    ("number", ".", "Enter a number."),
    ("number", "e5", "Enter a number."),
    ("number", "1e99999999999999999999999999", "Enter a number."),
    ("number", "1_000", "Enter a number."),
    ("number", "١٢٣", "Enter a number."),                # digits other than 0-9
    ("currency", "$-5", "Enter a number."),
])
def test_text_that_is_not_a_number_is_refused(datatype: str, raw: str, message: str) -> None:
    assert _refusal(datatype, raw) == message


@pytest.mark.parametrize(("raw", "message"), [
    ("a@" * 5000, EMAIL_TOO_LONG),                       # 10 KB that made the old pattern backtrack
    ("a@" + "." * 10_000 + "@", EMAIL_TOO_LONG),
    ("a@" + "." * 10_000 + " ", EMAIL_TOO_LONG),
    ("x" * 65 + "@example.com", EMAIL_PART_TOO_LONG),
    ("a@" + "d" * 64 + ".com", EMAIL_PART_TOO_LONG),
    ("a@b@example.com", EMAIL_INVALID),
    ("a b@example.com", EMAIL_INVALID),
    ("a@example", EMAIL_INVALID),
    ("a@example..com", EMAIL_INVALID),
    ("a@example.com.", EMAIL_INVALID),
    ("@example.com", EMAIL_INVALID),
    ("a@", EMAIL_INVALID),
])
def test_email_addresses_are_checked_with_rfc_5321_lengths(raw: str, message: str) -> None:
    assert _refusal("email", raw) == message
