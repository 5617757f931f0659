"""The language layer: blocks, line numbers, and author-facing errors."""

from __future__ import annotations

import pytest

from chalicelib.language.blocks import Kind, Screen
from chalicelib.language.errors import InterviewSyntaxError
from chalicelib.language.markup import Text
from chalicelib.language.missing import MissingVariable
from chalicelib.language.parser import parse_interview
from chalicelib.language.pycode import assigned_names, canonical


def test_blocks_know_their_first_line_and_position() -> None:
    # Given a file with a metadata block, a comment line and two more blocks
    text = "metadata:\n  title: T\n---\n# a comment\nquestion: Hi\nfield: ok\n---\ncode: |\n  x = 1\n"
    # When it is parsed
    interview = parse_interview(text, "demo.yml")
    # Then each block knows where it starts and its number in the file
    assert [(b.line, b.number, b.kind) for b in interview.blocks] == [
        (1, 1, Kind.METADATA), (5, 2, Kind.QUESTION), (8, 3, Kind.CODE)]
    assert interview.title == "T"


def test_invalid_yaml_names_file_line_and_block() -> None:
    text = "question: one\nfield: a\n---\nquestion: two\nfields:\n  - A: a\n - B: b\n"
    with pytest.raises(InterviewSyntaxError) as caught:
        parse_interview(text, "broken.yml")
    error = caught.value
    assert (error.file, error.block) == ("broken.yml", 2)
    assert error.line == 7
    assert str(error).startswith("broken.yml, line 7, block 2: this is not valid YAML")


def test_unknown_directive_is_named_with_its_block() -> None:
    expected = r"x.yml, line 4, block 2: unknown directive 'feilds' in a question block; did you mean 'fields'\?"
    with pytest.raises(InterviewSyntaxError, match=expected):
        parse_interview("question: a\nfield: b\n---\nquestion: c\nfeilds:\n  - X: x\n", "x.yml")


def test_block_without_a_kind_says_what_was_expected() -> None:
    with pytest.raises(InterviewSyntaxError, match="no directive that says what it is.*expected one of question"):
        parse_interview("mandatory: True\n", "k.yml")


def test_python_syntax_error_points_at_the_file_line_of_the_code() -> None:
    text = "question: a\nfield: b\n---\nmandatory: True\ncode: |\n  x = 1\n  y = (\n"
    with pytest.raises(InterviewSyntaxError) as caught:
        parse_interview(text, "code.yml")
    assert caught.value.block == 2
    assert caught.value.line in (7, 8)
    assert "syntax error" in str(caught.value)


def test_unknown_datatype_lists_the_known_ones() -> None:
    with pytest.raises(InterviewSyntaxError, match="unknown datatype 'numbr'.*use one of text"):
        parse_interview("question: a\nfields:\n  - N: n\n    datatype: numbr\n", "d.yml")


def test_field_without_a_variable_is_an_error() -> None:
    with pytest.raises(InterviewSyntaxError, match="exactly one 'Label: variable_name' pair"):
        parse_interview("question: a\nfields:\n  - datatype: text\n", "f.yml")


def test_screen_kinds_follow_the_directives() -> None:
    text = ("question: a\nyesno: likes\n---\nquestion: b\nfield: go\nbuttons:\n  - One: 1\n---\n"
            "question: c\nfield: ok\n---\nquestion: d\n---\nquestion: e\nfields:\n  - E: e\n")
    kinds = [b.question.screen for b in parse_interview(text, "s.yml").blocks if b.question]
    assert kinds == [Screen.YESNO, Screen.BUTTONS, Screen.CONTINUE, Screen.DEADEND, Screen.FIELDS]


def test_later_blocks_come_first_among_definers() -> None:
    text = "question: first\nfields:\n  - X: x\n---\ncode: |\n  x = 2\n"
    interview = parse_interview(text, "d.yml")
    assert [b.number for b in interview.definers["x"]] == [2, 1]


def test_code_blocks_define_every_assignment_target() -> None:
    source = "a = 1\nuser.name.first = 'A'\nfishes['blue'] = 2\nfor i in range(3):\n  b = i\ndef f():\n  hidden = 1\n"
    assert assigned_names(source) == ("a", "user.name.first", "fishes['blue']", "i", "b")


def test_variable_names_are_spelled_canonically() -> None:
    assert canonical('fishes["blue"]') == "fishes['blue']"
    assert canonical(" user.name.first ") == "user.name.first"


def test_text_renders_names_only_when_used() -> None:
    text = Text("Hello ${ name }.\n% if show:\n${ never_defined }\n% endif\n")
    assert text.text({"name": "Ann", "show": False}) == "Hello Ann."
    with pytest.raises(MissingVariable) as caught:
        text.text({"show": False})
    assert caught.value.name == "name"


def test_html_escapes_answers_but_keeps_markdown() -> None:
    html = Text("**Hi** ${ who }").html({"who": "<script>alert(1)</script>"})
    assert html == "<p><strong>Hi</strong> &lt;script&gt;alert(1)&lt;/script&gt;</p>"


def test_target_markers_become_live_regions() -> None:
    html = Text("[TARGET my-feedback]").html({})
    assert '<span class="datargetmyfeedback" aria-live="polite"></span>' in html


def test_broken_mako_is_an_author_error() -> None:
    with pytest.raises(InterviewSyntaxError, match="not a valid Mako template"):
        Text("% if x:\nno end\n", "m.yml", 3).text({"x": True})


def test_answers_in_code_blocks_are_escaped_once() -> None:
    html = Text("Trace:\n\n    ${ trace }\n\nand `${ trace }`").html({"trace": "<module> & co"})
    assert html.count("&lt;module&gt; &amp; co") == 2
    assert "&amp;lt;" not in html and "<module>" not in html


def test_answers_in_link_targets_keep_their_ampersands() -> None:
    html = Text("[go](${ url })").html({"url": "/interview?i=a.yml&action=x"})
    assert html == '<p><a href="/interview?i=a.yml&amp;action=x" rel="noopener noreferrer">go</a></p>'


def test_an_event_code_block_defines_only_its_event() -> None:
    text = "code: |\n  total = 0\n---\nevent: add\ncode: |\n  total = total + 1\n"
    interview = parse_interview(text, "e.yml")
    assert [b.number for b in interview.definers["total"]] == [1]
    assert [b.number for b in interview.definers["add"]] == [2]


def test_buttons_written_as_a_mapping_parse_like_the_list_form() -> None:
    # Given the same buttons as `Label: value` lines and as a list of one-item mappings
    mapping = "question: Bye\nbuttons:\n  Leave: leave\n  Continue: continue\n  Start again: restart\n"
    listed = "question: Bye\nbuttons:\n  - Leave: leave\n  - Continue: continue\n  - Start again: restart\n"
    # When both are parsed
    parsed = [parse_interview(text, "b.yml").blocks[0].question for text in (mapping, listed)]
    # Then they are the same command buttons, in the order written
    buttons = [[(b.label.source, b.value, b.is_command) for b in q.buttons] for q in parsed if q]
    assert buttons[0] == buttons[1] == [("Leave", "leave", True), ("Continue", "continue", True),
                                        ("Start again", "restart", True)]
    assert [q.screen for q in parsed if q] == [Screen.BUTTONS, Screen.BUTTONS]


def test_a_single_button_mapping_with_a_field_sets_the_field() -> None:
    question = parse_interview("question: Go?\nfield: going\nbuttons:\n  Leave: leave\n", "b.yml").blocks[0].question
    assert question is not None
    assert [(b.label.source, b.value, b.is_command) for b in question.buttons] == [("Leave", "leave", False)]


@pytest.mark.parametrize(("buttons", "found"), [
    ("buttons: leave", "found a str: 'leave'"),
    ("buttons:\n  Leave:\n    - a\n    - b", "found 'Leave' with a list"),
    ("buttons:\n  Leave:\n    url: x", "found 'Leave' with a dict"),
])
def test_a_malformed_buttons_value_names_file_line_and_block(buttons: str, found: str) -> None:
    with pytest.raises(InterviewSyntaxError) as caught:
        parse_interview(f"question: a\nfield: b\n---\nquestion: Bye\n{buttons}\n", "bad.yml")
    assert (caught.value.file, caught.value.line, caught.value.block) == ("bad.yml", 4, 2)
    assert str(caught.value).startswith("bad.yml, line 4, block 2: ")
    assert "'buttons'" in str(caught.value) and found in str(caught.value)


def test_roles_parse_as_names_and_a_default_role_block_runs_as_initial_code() -> None:
    interview = parse_interview(
        "default role: [client, advocate]\ncode: |\n  role = 'client'\n---\n"
        "question: Review\nrole: advocate\nyesno: reviewed\n", "roles.yml")
    default, review = interview.blocks
    assert interview.default_role == ("client", "advocate") and default.initial is True
    assert review.roles == ("advocate",)
    with pytest.raises(InterviewSyntaxError, match="'role' should be a role name or a list of role names"):
        parse_interview("question: Review\nrole: {a: 1}\nyesno: reviewed\n", "roles.yml")
