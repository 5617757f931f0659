"""Author text: Mako templates rendered against the answers, then Markdown → HTML.

`Text` wraps one piece of author text (a question, a label, a template's
content). It is compiled lazily, once per process, and rendered on every turn.
A `Text` is made only from interview source (the parser); a value known only at
run time is never compiled as a template.

Names are looked up lazily: a name that is not defined yet renders as a
`_Missing` stand-in that raises MissingVariable the moment it is *used*. So a
name inside an `% if` branch that is not taken never needs to be defined (Mako's
own strict mode would demand every name up front).

In HTML, a value interpolated with `${ }` is always text. Rendering swaps each
value for an opaque slot (private-use characters around a number), runs
Markdown on what is left (the author's own text), sanitizes the result with an
allowlist (`sanitize_html`), and only then puts each value back, escaped with
`html.escape(quote=True)`. So no answer is ever read as Markdown or HTML, and
Markdown's work depends on the author's text only. One exception keeps
docassemble's `indent()` idiom: an `Indented` value's line breaks and leading
spaces reach Markdown (so it can be a code block), with each line's text in a
slot of its own. Only a value that interview
code marked as markup (`Markup` — MarkupSafe's, which escapes what is added to
it — or any object with an `__html__` method, such as a rendered `template`) is
inserted as HTML, and then the whole result is
sanitized once more. A value that lands inside a tag (a link's address, say)
also makes the result go through the sanitizer again, which drops a
`javascript:` address.
"""

from __future__ import annotations

import builtins
import html as _html
import re
from collections import OrderedDict
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import markupsafe

from chalicelib.language.errors import InterviewSyntaxError
from chalicelib.language.missing import MissingVariable

_TARGET = re.compile(r"\[TARGET ([^\]]*)\]")
_BR = re.compile(r"\[BR\]")
_NO_MAKO = re.compile(r"\$\{|^\s*%|<%", re.MULTILINE)

# A slot stands for the n-th interpolated value while Markdown runs. Private-use
# characters are left alone by Markdown and by the sanitizer, and never appear in
# author text (they are removed from it before compiling).
_OPEN, _CLOSE = "\ue000", "\ue001"
_SLOT = re.compile("\ue000([0-9]+)\ue001")
_SLOT_IN_TAG = re.compile("<[^>]*\ue000")
_PRIVATE = str.maketrans({_OPEN: None, _CLOSE: None})

# What author HTML may contain (see README, "Security"): no scripts, styles,
# event handlers, forms or frames; links and images only to http(s), mailto and tel.
_TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "col", "colgroup", "dd", "del",
    "details", "dfn", "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6",
    "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "samp", "small", "span",
    "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "time", "tr", "u",
    "ul", "var",
})
_ATTRIBUTES = {
    "*": {"class", "id", "title", "lang", "dir", "role"},
    "a": {"href", "target", "hreflang"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "ol": {"start", "type"},
    "li": {"value"},
    "time": {"datetime"},
}
_URL_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
_DROPPED_WITH_CONTENT = frozenset({"script", "style"})

__all__ = ["Indented", "Markup", "Text", "escape_html", "is_markup", "sanitize_html", "to_html"]


class Markup(markupsafe.Markup):
    """Text that interview code vouches for as HTML: `${ }` inserts it as markup (sanitized)
    instead of escaping it. Plain strings added to it, or formatted into it, are escaped.

    Example::

        badge = Markup('<strong>') + user_name + Markup('</strong>')   # user_name stays text
    """

    __slots__ = ()


class Indented(str):
    """Text whose line breaks and indentation count as Markdown structure (what `indent()` gives):
    indented by four spaces, it is a code block, as in docassemble. Each line's characters
    are still text."""

    __slots__ = ()


def sanitize_html(markup: str) -> str:
    """Keep only the allowed tags, attributes and URL schemes of `markup` (nh3, an allowlist)."""
    import nh3

    return str(nh3.clean(markup, tags=set(_TAGS), attributes={k: set(v) for k, v in _ATTRIBUTES.items()},
                         clean_content_tags=set(_DROPPED_WITH_CONTENT), url_schemes=set(_URL_SCHEMES),
                         generic_attribute_prefixes={"aria-"}))


def is_markup(value: Any) -> bool:
    return getattr(type(value), "__html__", None) is not None


def escape_html(value: Any) -> str:
    """A run-time value as HTML: text escaped (quotes too), markup sanitized."""
    if is_markup(value):
        return sanitize_html(str(value.__html__()))
    return _html.escape(str(value), quote=True)


_slots: ContextVar[list[tuple[str, bool]] | None] = ContextVar("markup_slots", default=None)


def _slot(value: Any) -> str:
    """The Mako filter of `${ }` in HTML: record the value, leave a slot in its place."""
    slots = _slots.get()
    if slots is None:  # a template rendered outside Text.html: escape in place
        return escape_html(value)
    if isinstance(value, Indented):  # keep the line structure; each line's text goes in a slot
        return "\n".join(_indented_line(line, slots) for line in value.split("\n"))
    markup = is_markup(value)
    slots.append((str(value.__html__()) if markup else _html.escape(str(value), quote=True), markup))
    return f"{_OPEN}{len(slots) - 1}{_CLOSE}"


def _indented_line(line: str, slots: list[tuple[str, bool]]) -> str:
    text = line.lstrip(" \t")
    if not text:
        return line
    slots.append((_html.escape(text, quote=True), False))
    return f"{line[: len(line) - len(text)]}{_OPEN}{len(slots) - 1}{_CLOSE}"


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
    source = _TARGET.sub(lambda m: _target_span(m.group(1)), source.translate(_PRIVATE))
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

            filters = ["_slot"] if for_html else ["str"]
            try:
                template = Template(
                    _preprocess(self.source) if for_html else self.source,
                    default_filters=filters,
                    imports=["from chalicelib.language.markup import _slot"],
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
        """Render as plain text (no escaping, no Markdown): for sinks that are not HTML."""
        return self._render(namespace, False).strip()

    def html(self, namespace: Mapping[str, Any], inline: bool = False) -> str:
        """Render as HTML: values into slots, Markdown on the author's text, values back escaped."""
        token = _slots.set([])
        try:
            rendered = self._render(namespace, True)
            slots = _slots.get() or []
        finally:
            _slots.reset(token)
        page = _author_html(rendered, inline)
        if not slots:
            return page.html
        filled = _SLOT.sub(lambda m: slots[int(m.group(1))][0] if int(m.group(1)) < len(slots) else "", page.html)
        if page.slot_in_tag or any(markup for _, markup in slots):
            return sanitize_html(filled)
        return filled


@dataclass(frozen=True)
class _AuthorHtml:
    html: str  # Markdown's output, sanitized; slots still in place
    slot_in_tag: bool  # a slot sits inside a tag (an attribute value): sanitize again once filled


class _Cache:
    """An LRU cache of Markdown results, bounded by the characters it holds (keys and values)."""

    def __init__(self, max_chars: int, max_item_chars: int) -> None:
        self.max_chars, self.max_item_chars = max_chars, max_item_chars
        self.items: OrderedDict[tuple[str, bool], _AuthorHtml] = OrderedDict()
        self.size = 0

    def get(self, key: tuple[str, bool]) -> _AuthorHtml | None:
        found = self.items.get(key)
        if found is not None:
            self.items.move_to_end(key)
        return found

    def put(self, key: tuple[str, bool], value: _AuthorHtml) -> None:
        cost = len(key[0]) + len(value.html)
        if cost > self.max_item_chars or key in self.items:
            return
        self.items[key] = value
        self.size += cost
        while self.size > self.max_chars:
            old_key, old = self.items.popitem(last=False)
            self.size -= len(old_key[0]) + len(old.html)


_cache = _Cache(max_chars=8_000_000, max_item_chars=200_000)
_md: Any = None


def _author_html(markdown_text: str, inline: bool) -> _AuthorHtml:
    """Markdown → sanitized HTML, memoised (the same author text is rendered on every turn)."""
    key = (markdown_text, inline)
    cached = _cache.get(key)
    if cached is not None:
        return cached
    global _md
    if _md is None:
        import markdown

        _md = markdown.Markdown(extensions=["extra", "sane_lists"], output_format="html")
    result = sanitize_html(_md.reset().convert(markdown_text.strip()))
    if inline and result.startswith("<p>") and result.endswith("</p>") and result.count("<p>") == 1:
        result = result[3:-4]
    made = _AuthorHtml(result, bool(_SLOT_IN_TAG.search(result)))
    _cache.put(key, made)
    return made


def to_html(markdown_text: str, inline: bool = False) -> str:
    """Author Markdown (interview source, never a run-time value) → sanitized HTML."""
    return _author_html(markdown_text.translate(_PRIVATE), inline).html
