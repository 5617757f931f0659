"""The functions that reach other sessions (library/other_sessions.py): what they hand the
Request's `sessions` port, and the arguments they refuse; interview_url to another session; and an
action answered with a response is done (it does not answer the next turn again)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from chalicelib.engine.errors import InterviewCodeError
from chalicelib.engine.screen import OutcomeKind
from tests.unit.engine.harness import Run

OTHER = "B" * 32


class RecordingPort:
    """The `sessions` port as the runtime's would be called: each call is noted; reads give `held`."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.held: dict[str, Any] = {"name": "Ada"}

    def create(self, interview: str, secret: str | None, url_args: Mapping[str, Any] | None) -> str:
        self.calls.append(("create", interview, secret, dict(url_args or {})))
        return OTHER

    def set(self, interview: str, session_id: str, values: Mapping[str, Any], secret: str | None,
            question_name: str | None, overwrite: bool, delete: Sequence[str], process_objects: bool) -> None:
        self.calls.append(("set", interview, session_id, dict(values), secret, question_name, overwrite,
                           list(delete), process_objects))

    def get(self, interview: str, session_id: str, secret: str | None, simplify: bool) -> Any:
        self.calls.append(("get", interview, session_id, secret, simplify))
        return self.held

    def run_action(self, interview: str, session_id: str, action: str, arguments: Mapping[str, Any],
                   secret: str | None, persistent: bool, overwrite: bool) -> None:
        self.calls.append(("action", interview, session_id, action, dict(arguments), secret, persistent, overwrite))


def run_code(code: str, port: RecordingPort | None) -> Run:
    run = Run(f"""
mandatory: True
code: |
{chr(10).join('  ' + line for line in code.strip().splitlines())}
---
mandatory: True
question: Done
""")
    run.turn(sessions=port)
    return run


def test_each_function_hands_its_arguments_to_the_port() -> None:
    port = RecordingPort()
    run = run_code("""
other = create_session('case_file.yml', url_args={'from': 'manager'})
set_session_variables('case_file.yml', other, {'client_name': 'Ada'}, delete='old', question_name='q1')
run_action_in_session('case_file.yml', other, 'close_case', {'note': 'ok'}, secret='s' * 16, overwrite=True)
pulled = get_session_variables('case_file.yml', other, simplify=False)
""", port)
    assert port.calls == [
        ("create", "case_file.yml", None, {"from": "manager"}),
        ("set", "case_file.yml", OTHER, {"client_name": "Ada"}, None, "q1", False, ["old"], False),
        ("action", "case_file.yml", OTHER, "close_case", {"note": "ok"}, "s" * 16, False, True),
        ("get", "case_file.yml", OTHER, None, False),
    ]
    assert run.answers["other"] == OTHER and run.answers["pulled"] == {"name": "Ada"}


@pytest.mark.parametrize("code, expected", [
    ("set_session_variables('b.yml', 'x' * 32, ['not', 'a', 'dict'])", "variables must be a dict"),
    ("set_session_variables('b.yml', 'x' * 32, {}, delete=3)", "delete must be a variable name or a list"),
    ("create_session('')", "yaml_filename must be non-empty text"),
    ("create_session('b.yml', secret=12345)", "secret must be text or None"),
    ("run_action_in_session('b.yml', 'x' * 32, 'go', arguments='x=1')", "arguments must be a dict"),
    ("get_session_variables('b.yml', None)", "session_id must be non-empty text"),
])
def test_bad_arguments_are_refused_before_the_port_is_asked(code: str, expected: str) -> None:
    port = RecordingPort()
    with pytest.raises(InterviewCodeError, match=expected):
        run_code(code, port)
    assert port.calls == []


def test_without_a_port_the_functions_say_they_are_not_available() -> None:
    with pytest.raises(InterviewCodeError, match="other sessions are not available here"):
        run_code("get_session_variables('b.yml', 'x' * 32)", None)


def test_interview_url_names_another_interview_and_session() -> None:
    run = run_code(f"""
link = interview_url(i='case_file.yml', session='{OTHER}', local=True, temporary=2, role='client')
here = interview_url(local=True)
""", RecordingPort())
    assert run.answers["link"] == f"/interview?i=case_file.yml&session={OTHER}&role=client"
    assert run.answers["here"] == f"/interview?i=inline.yml&session={'S' * 32}"


def test_an_action_answered_with_a_response_is_done_and_the_next_turn_shows_the_screen() -> None:
    run = Run("""
event: query
code: |
  json_response({'n': 1})
---
mandatory: True
question: The screen
""")
    assert run.turn(action="query").kind is OutcomeKind.RESPONSE
    outcome = run.turn()
    assert outcome.kind is OutcomeKind.SCREEN and outcome.screen is not None
    assert outcome.screen.question == "The screen"
