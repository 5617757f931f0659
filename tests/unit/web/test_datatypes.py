"""Every datatype the parser accepts is rendered, shown as a form control, and answered."""

from __future__ import annotations

import datetime as dt
import pickle
from typing import Any

import pytest

from chalicelib.engine.files import DAFile, DAFileList
from chalicelib.language.blocks import NEGATED, NOT_REQUIRED_BY_DEFAULT, Datatype
from chalicelib.web import page
from tests.unit.engine.harness import Run

_CHOICES = "    choices:\n      - Apple: apple\n      - Pear: pear\n"
_WITH_CHOICES = {Datatype.RADIO, Datatype.DROPDOWN, Datatype.COMBOBOX, Datatype.CHECKBOXES, Datatype.OBJECT_RADIO,
                 Datatype.OBJECT_CHECKBOXES, Datatype.MULTISELECT}

# The files of an upload field as the runtime hands them in (stored, runtime.uploads).
_UPLOADED = DAFileList([DAFile("s" * 32, "t.yml", "ab" * 16, "f.png", "image/png", 9)])

# What a browser posts for the field, and the value the interview then gets.
_ANSWERS: dict[Datatype, tuple[Any, Any]] = {
    Datatype.TEXT: (" hi ", "hi"),
    Datatype.AREA: (" two\nlines ", " two\nlines "),
    Datatype.INTEGER: ("42", 42),
    Datatype.NUMBER: ("1.5", 1.5),
    Datatype.CURRENCY: ("$1,000.50", 1000.5),
    Datatype.FLOAT: ("2.5", 2.5),
    Datatype.EMAIL: ("a@example.com", "a@example.com"),
    Datatype.DATE: ("2024-02-29", dt.date(2024, 2, 29)),
    Datatype.TIME: ("13:45", dt.time(13, 45)),
    Datatype.DATETIME: ("2024-02-29T13:45", dt.datetime(2024, 2, 29, 13, 45)),
    Datatype.YESNO: ("True", True),
    Datatype.NOYES: ("True", False),
    Datatype.YESNORADIO: ("True", True),
    Datatype.NOYESRADIO: ("True", False),
    Datatype.YESNOWIDE: ("True", True),
    Datatype.NOYESWIDE: ("True", False),
    Datatype.RADIO: ("1", "pear"),
    Datatype.DROPDOWN: ("1", "pear"),
    Datatype.CHECKBOXES: (["1"], {"apple": False, "pear": True}),
    Datatype.COMBOBOX: ("Plum", "Plum"),
    Datatype.HIDDEN: ("h", "h"),
    Datatype.FILE: (_UPLOADED, _UPLOADED),
    Datatype.FILES: (_UPLOADED, _UPLOADED),
    Datatype.PASSWORD: (" s3cret ", " s3cret "),
    Datatype.RANGE: ("5", 5.0),
    Datatype.URL: ("https://example.com", "https://example.com"),
    Datatype.ML: ("hi", "hi"),
    Datatype.MLAREA: ("hi", "hi"),
    Datatype.OBJECT: ("hi", "hi"),
    Datatype.OBJECT_RADIO: ("1", "pear"),
    Datatype.OBJECT_CHECKBOXES: (["1"], ["pear"]),
    Datatype.MULTISELECT: (["1"], {"apple": False, "pear": True}),
    Datatype.CAMERA: (_UPLOADED, _UPLOADED),
    Datatype.USER: (_UPLOADED, _UPLOADED),
    Datatype.ENVIRONMENT: (_UPLOADED, _UPLOADED),
    Datatype.RAW: (" <b> ", " <b> "),
    Datatype.SIGNATURE: ("f.png", "f.png"),
}


def test_every_datatype_has_an_answer_here() -> None:
    assert set(_ANSWERS) == set(Datatype)


def _interview(datatype: Datatype) -> str:
    return ("mandatory: True\nquestion: Done\nsubquestion: ${ repr(thing) }\n---\n"
            f"question: Q\nfields:\n  - Thing: thing\n    datatype: {datatype}\n"
            f"{_CHOICES if datatype in _WITH_CHOICES else ''}")


@pytest.mark.parametrize("datatype", list(Datatype))
def test_every_datatype_is_shown_and_its_answer_converted(datatype: Datatype) -> None:
    # Given an interview that asks for one field of this datatype
    run = Run(_interview(datatype))
    view = run.turn().screen
    assert view is not None and view.question == "Q"
    (field,) = view.fields
    # Then the screen, as saved with the answers, holds the datatype as a plain string
    assert type(field.datatype) is str and field.datatype == datatype
    assert b"Datatype" not in pickle.dumps(view)
    # and the page shows a control for it, named by position
    html = page.screen_page(view, title="T", action_url="/a", base="", csrf="c", can_go_back=False)
    assert 'name="_f0"' in html
    # When the user posts a value, the interview gets it converted
    raw, expected = _ANSWERS[datatype]
    applied = run.answer({"thing": raw})
    assert applied.errors == ()
    outcome = run.turn()
    assert outcome.screen is not None and outcome.screen.question == "Done"
    assert run.answers["thing"] == expected


@pytest.mark.parametrize("datatype", sorted(NOT_REQUIRED_BY_DEFAULT))
def test_yes_no_and_checkbox_kinds_may_be_left_unanswered(datatype: Datatype) -> None:
    # An unchecked box is an answer: no (yes for the noyes kinds), or no choice checked
    run = Run(_interview(datatype))
    run.turn()
    applied = run.answer({})
    assert applied.errors == ()
    unchecked = {Datatype.CHECKBOXES: {"apple": False, "pear": False}, Datatype.MULTISELECT: {"apple": False,
                 "pear": False}, Datatype.OBJECT_CHECKBOXES: []}.get(datatype, datatype in NEGATED)
    assert run.answers["thing"] == unchecked


@pytest.mark.parametrize(("datatype", "control", "shown_checked"), [
    (Datatype.CHECKBOXES, 'type="checkbox"', "checked"),
    (Datatype.OBJECT_CHECKBOXES, 'type="checkbox"', "checked"),
    (Datatype.MULTISELECT, "<select id=\"f0\" name=\"_f0\" multiple", "selected"),
])
def test_multiple_choice_kinds_let_the_user_pick_several_and_show_them_picked_again(
        datatype: Datatype, control: str, shown_checked: str) -> None:
    # Given a screen asking for several things, answered with both choices
    run = Run(_interview(datatype))
    first = run.turn().screen
    assert first is not None
    html = page.screen_page(first, title="T", action_url="/a", base="", csrf="c", can_go_back=False)
    assert control in html
    assert run.answer({"thing": ["0", "1"]}).errors == ()
    # When the same question is asked again (force_ask, Back, a review screen)
    again = run.turn(action="_da_force_ask", arguments={"variables": ["thing"]}, persistent_action=False).screen
    assert again is not None and again.question == "Q"
    # Then both choices show as picked
    html = page.screen_page(again, title="T", action_url="/a", base="", csrf="c", can_go_back=False)
    assert html.count(f" {shown_checked}") == 2
