"""Templates are compiled from interview source only, never from a value known at run time.

A run-time string (an action argument, an answer) that reaches any function
taking author strings renders literally: `${ 7*191 }` never becomes 1337. And the
places that compile templates are listed here, so a new one fails this test.
"""

from __future__ import annotations

import ast
from pathlib import Path

from chalicelib.engine.screen import OutcomeKind
from tests.unit.engine.harness import Run

ROOT = Path(__file__).resolve().parents[3]
INJECTION = "${ 7*191 } <% x = 1 %>"

# The only modules that may build a Text (a Mako template) or a mako Template: the parsers,
# which read interview source, and markup.py itself.
TEMPLATE_SITES = {
    "chalicelib/language/markup.py": {"Template"},
    "chalicelib/language/questions.py": {"Text"},
    "chalicelib/language/parser.py": {"Text", "Template"},  # Template here is the `template` block's record
}


def _called_names(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if name in ("Text", "Template"):
                names.add(name)
    return names


def test_only_the_parsers_build_templates() -> None:
    found = {str(p.relative_to(ROOT)): _called_names(p) for p in sorted((ROOT / "chalicelib").rglob("*.py"))}
    builders = {path: names for path, names in found.items() if names}
    assert builders == TEMPLATE_SITES, "a new place builds a template: make it from interview source only"


MESSAGE = """
mandatory: True
question: Not shown
---
event: show
code: |
  message(action_argument('text'), action_argument('text'), buttons=[{action_argument('text'): 'exit'}],
          reload=action_argument('text'))
"""


def test_message_texts_buttons_and_reload_from_run_time_values_are_not_templates() -> None:
    outcome = Run(MESSAGE).turn(action="show", arguments={"text": INJECTION}, persistent_action=False)
    view = outcome.screen
    assert view is not None
    assert view.question == "${ 7*191 } &lt;% x = 1 %&gt;"
    assert view.subquestion == "<p>${ 7*191 } &lt;% x = 1 %&gt;</p>"
    assert view.buttons[0].label == "${ 7*191 } &lt;% x = 1 %&gt;"
    assert view.reload_seconds == 71911.0  # the digits of the text, never the value of an expression


CHOICES_AND_TARGET = """
question: Pick
fields:
  - Which: which
    code: |
      [[1, label], [2, label + '!']]
check in: fill
---
mandatory: True
code: |
  which
---
event: fill
code: |
  log(label, 'info')
  background_response(target='feedback', content=label)
---
code: |
  label = url_args['label']
"""


def test_code_choice_labels_targets_and_flashes_from_run_time_values_are_not_templates() -> None:
    run = Run(CHOICES_AND_TARGET)
    view = run.turn(url_args={"label": INJECTION}).screen
    assert view is not None
    assert [c.label for c in view.fields[0].choices] == ["${ 7*191 } &lt;% x = 1 %&gt;",
                                                         "${ 7*191 } &lt;% x = 1 %&gt;!"]
    checkin = run.turn(action="fill", arguments={}, persistent_action=False, interface="checkin")
    assert checkin.kind is OutcomeKind.BACKGROUND
    assert checkin.value == {"target": "feedback", "content": INJECTION}
    assert checkin.message_log == ({"message": INJECTION, "priority": "info"},)
