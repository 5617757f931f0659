"""Author text: Mako templates rendered against the answers, then Markdown → HTML.

`Text` wraps one piece of author text (a question, a label, a template's
content). It is compiled lazily, once per process, and rendered on every turn.

Names are looked up lazily: a name that is not defined yet renders as a
`_Missing` stand-in that raises MissingVariable the moment it is *used*. So a
name inside an `% if` branch that is not taken never needs to be defined (Mako's
own strict mode would demand every name up front).

In HTML, interpolated values cannot inject markup: their `<`, `>` and `&` are
replaced by private-use stand-ins before Markdown runs (so Markdown neither
interprets nor re-escapes them, even inside code blocks) and become `&lt;`,
`&gt;`, `&amp;` after it. Values with an `__html__` method are trusted as HTML.
"""

from __future__ import annotations

import builtins
import re
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from chalicelib.language.errors import InterviewSyntaxError
from chalicelib.language.missing import MissingVariable

_TARGET = re.compile(r"\[TARGET ([^\]]*)\]")
_BR = re.compile(r"\[BR\]")
_NO_MAKO = re.compile(r"\$\{|^\s*%|<%", re.MULTILINE)


class Markup(str):
    """A string that is already HTML; interpolation does not escape it."""

    def __html__(self) -> str:
        return str(self)


_STAND_INS = str.maketrans({"<": "\ue000", ">": "\ue001", "&": "\ue002"})
_ENTITIES = str.maketrans({"\ue000": "&lt;", "\ue001": "&gt;", "\ue002": "&amp;"})


def escape_html(value: Any) -> str:
    """The filter applied to every `${ }` in an HTML context (see the module docstring)."""
    method = getattr(type(value), "__html__", None)
    if method is not None:
        return str(method(value))
    return str(value).translate(_STAND_INS)


def _raise_missing(name: str) -> Any:
    raise MissingVariable(name)


class _Missing:
    """Stands in for an undefined name; any use of it asks for the name."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        object.__setattr__(self, "_name", name)

    def __getattr__(self, attr: str) -> Any:
        return _raise_missing(object.__getattribute__(self, "_name"))

    def _use(self, *args: Any, **kwargs: Any) -> Any:
        return _raise_missing(object.__getattribute__(self, "_name"))

    __str__ = __repr__ = __bool__ = __len__ = __iter__ = __call__ = _use
    __getitem__ = __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = _use
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _use
    __truediv__ = __rtruediv__ = __floordiv__ = __mod__ = __rmod__ = __neg__ = _use
    __float__ = __int__ = __index__ = __format__ = __contains__ = __hash__ = _use
    __html__ = _use


def _mako_context_class() -> type:
    from mako.runtime import Context

    class LazyContext(Context):  # type: ignore[misc]
        def get(self, key: str, default: Any = None) -> Any:
            data = self._data
            if key in data:
                return data[key]
            if hasattr(builtins, key):
                return getattr(builtins, key)
            return _Missing(key)

    return LazyContext


_context_class: type | None = None


def _preprocess(source: str) -> str:
    source = _TARGET.sub(lambda m: _target_span(m.group(1)), source)
    return _BR.sub("  \n", source)


def _target_span(name: str) -> str:
    clean = re.sub(r"[^A-Za-z0-9_]", "", name)
    return f'<span class="datarget{clean}" aria-live="polite"></span>'


class Text:
    """One piece of author text: Mako first, then (for HTML) Markdown."""

    __slots__ = ("source", "file", "line", "_compiled", "_static")

    def __init__(self, source: Any, file: str = "", line: int = 0) -> None:
        self.source = "" if source is None else str(source)
        self.file = file
        self.line = line
        self._compiled: dict[bool, Any] = {}
        self._static = not _NO_MAKO.search(self.source)

    def __repr__(self) -> str:
        return f"Text({self.source[:40]!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Text, (self.source, self.file, self.line))

    def _template(self, for_html: bool) -> Any:
        template = self._compiled.get(for_html)
        if template is None:
            from mako.exceptions import MakoException
            from mako.template import Template

            filters = ["_escape_html"] if for_html else ["str"]
            try:
                template = Template(
                    _preprocess(self.source) if for_html else self.source,
                    default_filters=filters,
                    imports=["from chalicelib.language.markup import escape_html as _escape_html"],
                )
            except MakoException as err:
                raise InterviewSyntaxError(
                    f"this text is not a valid Mako template: {err}", file=self.file, line=self.line,
                    hint="Check '${ ... }' expressions and that every '% if'/'% for' has its '% endif'/'% endfor'.",
                ) from err
            self._compiled[for_html] = template
        return template

    def _render(self, namespace: Mapping[str, Any], for_html: bool) -> str:
        if self._static:
            return _preprocess(self.source) if for_html else self.source
        global _context_class
        if _context_class is None:
            _context_class = _mako_context_class()
        from mako.util import FastEncodingBuffer

        buffer = FastEncodingBuffer()
        context = _context_class(buffer, **namespace)
        self._template(for_html).render_context(context)
        return str(buffer.getvalue())

    def text(self, namespace: Mapping[str, Any]) -> str:
        """Render as plain text (no escaping, no Markdown)."""
        return self._render(namespace, False).strip()

    def html(self, namespace: Mapping[str, Any], inline: bool = False) -> str:
        """Render as HTML: Mako with escaping, then Markdown."""
        return to_html(self._render(namespace, True), inline=inline).translate(_ENTITIES)


_md_cache: OrderedDict[tuple[str, bool], str] = OrderedDict()
_MD_CACHE_SIZE = 2048
_md: Any = None


def to_html(markdown_text: str, inline: bool = False) -> str:
    """Markdown → HTML, memoised (the same text is rendered on every turn)."""
    key = (markdown_text, inline)
    cached = _md_cache.get(key)
    if cached is not None:
        _md_cache.move_to_end(key)
        return cached
    global _md
    if _md is None:
        import markdown

        _md = markdown.Markdown(extensions=["extra", "sane_lists"], output_format="html")
    result: str = _md.reset().convert(markdown_text.strip())
    if inline and result.startswith("<p>") and result.endswith("</p>") and result.count("<p>") == 1:
        result = result[3:-4]
    _md_cache[key] = result
    if len(_md_cache) > _MD_CACHE_SIZE:
        _md_cache.popitem(last=False)
    return result
