"""The value of a `template` block: docassemble's DALazyTemplate.

Defining a template renders nothing. Its `subject` and `content` are rendered
each time they are used, from the answers as they are at that moment, so a
template may refer to names defined (or changed) after it was defined; a name
still undefined when the template is used is sought then, as in any text.

The object lives in the answers and is pickled with them, so it holds no
reference to the interview or the evaluation: it finds its block by name in the
running evaluation's interview (`active.running()`), which compiles Mako only
from the interview source. Outside an evaluation (the API's variables JSON, a
block removed since) it gives what it rendered last.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from chalicelib.engine import active
from chalicelib.language.blocks import Kind, Template

if TYPE_CHECKING:
    from chalicelib.engine.evaluator import Evaluation


class LazyTemplate:
    """A `template` block's variable: `subject`, `content` (plain text) and `content_html`, rendered
    when read; `${ letter }` in a question shows the content as HTML, `str(letter)` as text."""

    def __init__(self, name: str) -> None:
        self.instanceName = name
        self._last: dict[str, str] = {"subject": "", "content": "", "content_html": ""}

    @property
    def subject(self) -> str:
        return self._rendered("subject", lambda t, ns: t.subject.text(ns) if t.subject else "")

    @property
    def content(self) -> str:
        return self._rendered("content", lambda t, ns: t.content.text(ns))

    @property
    def content_html(self) -> str:
        return self._rendered("content_html", lambda t, ns: t.content.html(ns))

    def show(self) -> str:
        return self.content_html

    def __str__(self) -> str:
        return self.content

    def __html__(self) -> str:
        return self.content_html

    def __repr__(self) -> str:
        return f"LazyTemplate({self.instanceName!r})"

    def _rendered(self, part: str, render: Any) -> str:
        source = _source(self.instanceName)
        if source is None:
            return self._last.get(part, "")
        template, namespace = source
        value = str(render(template, namespace))
        self._last[part] = value
        return value


def _source(name: str) -> tuple[Template, Mapping[str, Any]] | None:
    """The template block that defines `name` in the running interview, and the names to render it with."""
    evaluation: Evaluation | None = active.running()
    if evaluation is None:
        return None
    for block, bindings in evaluation.definers(name):
        if block.kind is Kind.TEMPLATE and block.template is not None:
            namespace = {**evaluation.namespace, **bindings} if bindings else evaluation.namespace
            return block.template, namespace
    return None
