"""Document assembly: an attachment's HTML made into PDF and DOCX bytes.

An `attachment` block's `content` is Markdown with Mako; the engine renders it
to HTML (`Text.html`). This module turns that HTML into the files docassemble
offers for download:

- PDF with fpdf2: letter size, one-inch margins, the core Helvetica font. The
  core fonts only cover Windows-1252, so other characters are approximated
  ("ā" → "a", "≤" → "<=") or replaced with "?"; the DOCX keeps them exactly.
- DOCX with python-docx: the same structure with Word's own styles (Heading 1-6,
  List Bullet / List Number, Table Grid), letter size, one-inch margins.

Both start from one pass over the HTML with the stdlib parser that keeps a small
set of tags (paragraphs, headings h1-h6, bold/italic/underline/strike, code and
pre, sub/sup, lists, block quotes, tables, rules, line breaks, http/https/mailto/
tel links), unwraps the rest, and drops docassemble's `[TARGET name]` spans,
images (their alt text is kept), scripts and styles. Nothing is fetched: no
fonts, no images, no URLs.

Everything here is pure (bytes are built in memory) and fpdf2/python-docx are
imported inside the functions that use them, so importing this module costs
nothing at cold start.
"""

from __future__ import annotations

import html
import io
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any

from chalicelib.engine import documents as _engine_documents
from chalicelib.language.blocks import CONTENT_TYPES, DEFAULT_FORMATS, DocumentFormat

if TYPE_CHECKING:
    from docx.document import Document as DocxDocument
    from docx.text.paragraph import Paragraph

__all__ = [
    "CONTENT_TYPES",
    "SUPPORTED_FORMATS",
    "AssembledDocument",
    "assemble",
    "clean_html",
    "render_docx",
    "render_pdf",
    "safe_filename",
]

SUPPORTED_FORMATS: tuple[str, ...] = tuple(f.value for f in DocumentFormat)


# ---------------------------------------------------------------------------
# One pass over the HTML: a small, well-formed stream of events
# ---------------------------------------------------------------------------

# An event is ("start", tag, value), ("end", tag, "") or ("text", text, "");
# value is the href of <a> and the start number of <ol>, else "".
_Event = tuple[str, str, str]

_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_LEAF_BLOCKS = frozenset(("p", "pre", *_HEADINGS))  # hold inline content only
_CONTAINERS = frozenset(("ul", "ol", "li", "blockquote", "table", "tr", "td", "th"))
_INLINE = {
    "b": "b", "strong": "b", "i": "i", "em": "i", "cite": "i", "var": "i", "u": "u", "ins": "u",
    "s": "s", "del": "s", "strike": "s", "code": "code", "kbd": "code", "samp": "code", "tt": "code",
    "sup": "sup", "sub": "sub",
}
_BLOCK = {"p": "p", "pre": "pre", "blockquote": "blockquote", "dd": "blockquote", "ul": "ul", "ol": "ol", "li": "li"}
_BLOCK.update({h: h for h in _HEADINGS})
# Block-level tags that only separate what is around them.
_BOUNDARIES = frozenset((
    "div", "section", "article", "header", "footer", "main", "aside", "nav", "figure", "figcaption",
    "address", "center", "dl", "details", "summary", "form", "fieldset", "legend", "caption", "body", "html",
))
# Dropped together with everything inside them.
_DROPPED = frozenset((
    "script", "style", "head", "title", "template", "iframe", "object", "embed", "svg", "math", "canvas",
    "video", "audio", "noscript", "button", "select", "textarea", "map",
))
_VOID = frozenset(("br", "hr", "img", "wbr", "input", "meta", "link", "area", "base", "col", "source", "track"))
_SAFE_HREF = re.compile(r"^(?:https?:|mailto:|tel:)", re.IGNORECASE)
_TARGET_TEXT = re.compile(r"\[TARGET [^\]]*\]")
_SPACES = re.compile(r"[ \t\n\r\f\v]+")
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@dataclass(eq=False)
class _Open:
    """What a start tag became: an output element, or None for a tag that was unwrapped.

    `dropped` elements hide their content; the end of a `boundary` ends the paragraph.
    """

    tag: str | None
    dropped: bool = False
    boundary: bool = False


class _Cleaner(HTMLParser):
    """Reduce HTML to the events both renderers understand, always well nested."""

    def __init__(self, text_filter: Callable[[str], str]) -> None:
        super().__init__(convert_charrefs=True)
        self.events: list[_Event] = []
        self._filter = text_filter
        self._input: list[tuple[str, _Open]] = []  # every non-void start tag seen and what it became
        self._output: list[_Open] = []  # output elements currently open, innermost last
        self._dropping = 0
        self._line_start = True  # leading spaces are not significant here
        self._space_before = False  # the text so far ends with a space

    # -- parser callbacks ---------------------------------------------------

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._dropping:
            if tag not in _VOID:
                self._input.append((tag, _Open(None, dropped=tag in _DROPPED)))
                self._dropping += tag in _DROPPED
            return
        values = {name: value or "" for name, value in attrs}
        if tag in _VOID:
            self._void(tag, values)
            return
        self._input.append((tag, self._start(tag, values)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self._input) - 1, -1, -1):
            if self._input[index][0] == tag:
                break
        else:
            return  # a stray end tag
        while len(self._input) > index:
            _, opened = self._input.pop()
            if opened.dropped:
                self._dropping -= 1
            elif opened.tag is not None:
                self._close(opened)
            elif opened.boundary and not self._dropping:
                self._boundary()

    def handle_data(self, data: str) -> None:
        if self._dropping:
            return
        text = self._filter(_TARGET_TEXT.sub("", data))
        if "pre" not in self._open_tags():
            text = _SPACES.sub(" ", text)
        if text:
            self._text(text)

    def close(self) -> None:
        """Finish parsing and close everything still open."""
        super().close()
        while self._output:
            self._close(self._output[-1])

    # -- what a start tag becomes -------------------------------------------

    def _start(self, tag: str, attrs: dict[str, str]) -> _Open:
        classes = attrs.get("class", "").split()
        if tag in _DROPPED or any(c.startswith("datarget") for c in classes) or "footnote-backref" in classes:
            self._dropping += 1
            return _Open(None, dropped=True)
        if tag in _INLINE:
            return self._inline(_INLINE[tag])
        if tag == "a":
            href = attrs.get("href", "").strip()
            return self._inline("a", href) if _SAFE_HREF.match(href) else _Open(None)
        if tag == "dt":
            self._block("p")
            return self._inline("b")
        if tag in ("table", "tr", "td", "th"):
            return self._table_part(tag)
        if tag in _BLOCK:
            return self._block_tag(_BLOCK[tag], attrs)
        if tag in _BOUNDARIES:
            self._boundary()
            return _Open(None, boundary=True)
        return _Open(None)

    def _block_tag(self, tag: str, attrs: dict[str, str]) -> _Open:
        if self._in_cell():
            self._separate()  # a cell holds one paragraph of text
            return _Open(None, boundary=True)
        if tag == "p" and self._container() == "li":
            # Paragraphs of a list item stay in the item, one line apart.
            if self.events[-1][:2] != ("start", "li"):
                self._trim_trailing()
                self._emit("start", "br")
                self._line_start = True
            return _Open(None, boundary=True)
        value = ""
        if tag == "ol":
            start = attrs.get("start", "").strip()
            value = start if start.isdigit() and start != "1" else ""
        return self._block(tag, value)

    def _table_part(self, tag: str) -> _Open:
        if (tag == "table") == ("table" in self._open_tags()):
            # A table inside a table, or a row or cell outside one: keep only the text.
            self._boundary()
            return _Open(None, boundary=True)
        if tag == "table":
            return self._block("table")
        self._close_to(("table",) if tag == "tr" else ("table", "tr"))
        if tag != "tr" and self._output[-1].tag == "table":
            self._push("tr")
        return self._push(tag)

    def _void(self, tag: str, attrs: dict[str, str]) -> None:
        if tag == "br":
            if self._in_cell():
                self._separate()
            else:
                self._ensure_paragraph()
                self._trim_trailing()
                self._emit("start", "br")
                self._line_start = True
        elif tag == "hr" and not self._in_cell():
            self._close_leaves()
            self._emit("start", "hr")
            self._line_start = True
        elif tag == "img" and attrs.get("alt", "").strip():
            self.handle_data(attrs["alt"])

    # -- output ---------------------------------------------------------------

    def _open_tags(self) -> list[str | None]:
        return [o.tag for o in self._output]

    def _container(self) -> str | None:
        """The innermost open block, or None at the top level."""
        for opened in reversed(self._output):
            if opened.tag in _CONTAINERS or opened.tag in _LEAF_BLOCKS:
                return opened.tag
        return None

    def _in_cell(self) -> bool:
        return any(o.tag in ("td", "th") for o in self._output)

    def _emit(self, kind: str, tag: str, value: str = "") -> None:
        self.events.append((kind, tag, value))

    def _push(self, tag: str, value: str = "") -> _Open:
        opened = _Open(tag)
        self._output.append(opened)
        self._emit("start", tag, value)
        self._line_start = tag not in _INLINE.values() and tag != "a"
        return opened

    def _close(self, opened: _Open) -> None:
        """Close `opened` and everything inside it (if it is still open)."""
        if not any(o is opened for o in self._output):
            return
        while self._output:
            top = self._output.pop()
            assert top.tag is not None
            if top.tag in _LEAF_BLOCKS and self.events[-1] == ("start", top.tag, ""):
                self.events.pop()  # an empty paragraph or heading leaves no trace
            else:
                if top.tag in _LEAF_BLOCKS or top.tag in _CONTAINERS:
                    self._trim_trailing()
                self._emit("end", top.tag)
            if top.tag not in _INLINE.values() and top.tag != "a":
                self._line_start = True
            if top is opened:
                return

    def _close_to(self, stops: tuple[str | None, ...]) -> None:
        while self._output and self._output[-1].tag not in stops:
            self._close(self._output[-1])

    def _close_leaves(self) -> None:
        """Close inline elements and paragraphs, down to the innermost container."""
        while self._output and self._output[-1].tag not in _CONTAINERS:
            self._close(self._output[-1])

    def _block(self, tag: str, value: str = "") -> _Open:
        self._close_leaves()
        if tag == "li" and self._output and self._output[-1].tag == "li":
            self._close(self._output[-1])  # <li> closes an unclosed sibling
        return self._push(tag, value)

    def _boundary(self) -> None:
        """A block boundary inside no block of our own: end the paragraph."""
        if self._in_cell():
            self._separate()
        else:
            self._close_leaves()
            self._line_start = True

    def _separate(self) -> None:
        if self.events and self.events[-1][0] == "text" and not self.events[-1][1].endswith(" "):
            self._emit("text", " ")
            self._space_before = True

    def _ensure_paragraph(self) -> None:
        container = self._container()
        if container in ("ul", "ol"):
            self._push("li")
        elif container is None or container == "blockquote":
            self._push("p")

    def _inline(self, tag: str, value: str = "") -> _Open:
        if self._container() in ("table", "tr"):
            return _Open(None)
        self._ensure_paragraph()
        return self._push(tag, value)

    def _text(self, text: str) -> None:
        if self._container() in ("table", "tr"):
            return  # stray text between table rows (browsers move it before the table)
        pre = "pre" in self._open_tags()
        if (self._line_start or self._space_before) and not pre:
            text = text.lstrip(" ")  # at the start of a line, or after a space: "a <span></span> b"
            if not text:
                return
        self._ensure_paragraph()
        self._emit("text", text)
        self._line_start = False
        self._space_before = text.endswith(" ") and not pre

    def _trim_trailing(self) -> None:
        """Drop spaces and newlines at the end of the block (or line) being closed."""
        for index in range(len(self.events) - 1, -1, -1):
            kind, value, _ = self.events[index]
            if kind == "text":
                trimmed = value.rstrip(" \n\xa0")
                if trimmed:
                    self.events[index] = ("text", trimmed, "")
                else:
                    del self.events[index]
                    continue
                return
            if value not in _INLINE.values() and value != "a":
                return


def _events(markup: str, text_filter: Callable[[str], str]) -> list[_Event]:
    cleaner = _Cleaner(text_filter)
    cleaner.feed(markup)
    cleaner.close()
    return cleaner.events


def _serialize(events: Sequence[_Event]) -> str:
    parts: list[str] = []
    for kind, tag, value in events:
        if kind == "text":
            parts.append(html.escape(tag, quote=False))
        elif kind == "end":
            parts.append(f"</{tag}>")
        elif tag == "a":
            parts.append(f'<a href="{html.escape(value)}">')
        elif tag == "ol" and value:
            parts.append(f'<ol start="{value}">')
        elif tag == "table" and value:
            parts.append(f'<table border="{value}">')
        else:
            parts.append(f"<{tag}>")
        if kind != "text" and (tag in ("br", "hr") or kind == "end" and tag not in _INLINE.values() and tag != "a"):
            parts.append("\n")  # one block a line, for whoever reads the HTML
    return "".join(parts)


def _for_fpdf(events: Sequence[_Event]) -> list[_Event]:
    """Adapt the events to what fpdf2's HTML rendering can do.

    fpdf2 indents a block by its own tag only, so a paragraph inside a block
    quote becomes a <blockquote> of its own. A table cell holds one piece of
    plain text there (bold or italic only for the whole cell), so a cell's
    text is joined and its inline tags dropped. Tables get all their borders,
    like Word's Table Grid.
    """
    out: list[_Event] = []
    quotes = 0
    cell: list[_Event] | None = None
    for event in events:
        kind, tag, value = event
        if cell is not None and not (kind == "end" and tag in ("td", "th")):
            cell.append(event)
        elif kind == "text":
            out.append(event)
        elif tag in ("td", "th"):
            if kind == "start":
                out.append(event)
                cell = []
            else:
                out.extend(_plain_cell(cell or []))
                out.append(event)
                cell = None
        elif tag == "blockquote":
            quotes += 1 if kind == "start" else -1
        elif tag == "p" and quotes:
            out.append((kind, "blockquote", ""))
        elif tag == "table" and kind == "start":
            out.append((kind, tag, "1"))
        else:
            out.append(event)
    return out


def _plain_cell(events: Sequence[_Event]) -> list[_Event]:
    """One text event for a table cell, in <b>/<i> if all of its text is bold/italic."""
    texts: list[str] = []
    open_tags: list[str] = []
    bold = italic = True
    for kind, tag, _ in events:
        if kind == "start":
            open_tags.append(tag)
        elif kind == "end" and tag in open_tags:
            del open_tags[len(open_tags) - 1 - open_tags[::-1].index(tag)]
        elif kind == "text":
            texts.append(tag)
            if tag.strip():  # a space between a bold and an italic word decides nothing
                bold = bold and "b" in open_tags
                italic = italic and "i" in open_tags
    text = "".join(texts).strip()
    if not text:
        return []
    wrappers = [tag for tag, on in (("b", bold), ("i", italic)) if on]
    return [("start", t, "") for t in wrappers] + [("text", text, "")] + [("end", t, "") for t in reversed(wrappers)]


def _xml_safe(text: str) -> str:
    return _XML_INVALID.sub("", unicodedata.normalize("NFC", text))


def clean_html(markup: str) -> str:
    """The HTML as the documents show it: only the tags they render, no `[TARGET]` spans.

    Safe to show on a page: no scripts, styles, images or attributes survive
    except http/https/mailto/tel link targets and ordered-list start numbers.
    """
    return _serialize(_events(markup, _xml_safe))


# ---------------------------------------------------------------------------
# PDF (fpdf2)
# ---------------------------------------------------------------------------

_MARGIN_MM = 25.4
_WINDOWS_1252_FALLBACKS = {
    "\u2010": "-", "\u2011": "-", "\u2012": "\u2013", "\u2015": "\u2014", "\u2212": "-", "\u2043": "-",
    "\u2023": "\u2022", "\u25aa": "\u2022", "\u25cf": "\u2022", "\u2219": "\u2022", "\u00ad": "",
    "\u2032": "'", "\u2033": '"', "\u2190": "<-", "\u2192": "->", "\u2194": "<->", "\u21d2": "=>",
    "\u2264": "<=", "\u2265": ">=", "\u2260": "!=", "\u2248": "~",
    "\u200b": "", "\u200c": "", "\u200d": "", "\u2060": "", "\ufeff": "",
}


def _windows_1252(text: str) -> str:
    """Approximate characters the core PDF fonts lack; '?' where there is nothing close."""
    text = _xml_safe(text)
    try:
        text.encode("cp1252")
        return text
    except UnicodeEncodeError:
        pass
    out: list[str] = []
    for char in text:
        out.append(char if _encodable(char) else _approximate(char))
    return "".join(out)


def _encodable(text: str) -> bool:
    try:
        text.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def _approximate(char: str) -> str:
    if char in _WINDOWS_1252_FALLBACKS:
        return _WINDOWS_1252_FALLBACKS[char]
    category = unicodedata.category(char)
    if category == "Zs":
        return " "
    if category in ("Mn", "Me", "Cf"):
        return ""  # combining marks and format controls have no glyph of their own
    decomposed = "".join(c for c in unicodedata.normalize("NFKD", char) if unicodedata.category(c) != "Mn")
    if decomposed and _encodable(decomposed):
        return decomposed  # "ā" → "a", "ﬁ" → "fi", "①" → "1"
    return "?"


def render_pdf(html: str, title: str = "") -> bytes:
    """A letter-size PDF of `html` (as `to_html` makes it), with `title` as its title metadata.

    Paragraphs, headings, bold/italic/underline, lists, block quotes, tables,
    line breaks and links are kept; text is set in Helvetica 12 pt, so characters
    outside Windows-1252 are approximated or shown as "?".
    """
    from fpdf import FPDF, FontFace, TextStyle

    black = (0, 0, 0)
    sizes = {"h1": 20.0, "h2": 16.0, "h3": 14.0, "h4": 12.0, "h5": 12.0, "h6": 12.0}
    tag_styles: dict[str, FontFace] = {
        h: TextStyle(font_style="B", font_size_pt=size, color=black, t_margin=4, b_margin=0.4)
        for h, size in sizes.items()
    }
    tag_styles["blockquote"] = TextStyle(color=black, t_margin=2, b_margin=2, l_margin=10)
    tag_styles["a"] = FontFace(color=(5, 99, 193), emphasis="UNDERLINE")
    tag_styles["p"] = TextStyle(b_margin=2)

    pdf = FPDF(orientation="portrait", unit="mm", format="letter")
    pdf.core_fonts_encoding = "cp1252"  # curly quotes, dashes, €, • as well as Latin-1
    pdf.set_margins(_MARGIN_MM, _MARGIN_MM, _MARGIN_MM)
    pdf.set_auto_page_break(True, margin=_MARGIN_MM)
    if title:
        pdf.set_title(title)
    pdf.set_creator("serverless-interviews")
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    markup = _serialize(_for_fpdf(_events(html, _windows_1252)))
    pdf.write_html(
        markup, font_family="Helvetica", tag_styles=tag_styles, ul_bullet_char="\u2022",
        li_prefix_color=black, table_line_separators=True, warn_on_tags_not_matching=False,
    )
    return bytes(pdf.output())


# ---------------------------------------------------------------------------
# DOCX (python-docx)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Format:
    bold: bool = False
    italic: bool = False
    underline: bool = False
    strike: bool = False
    code: bool = False
    superscript: bool = False
    subscript: bool = False
    href: str = ""


_PLAIN = _Format()
_FORMAT_FLAGS = {"b": "bold", "i": "italic", "u": "underline", "s": "strike", "code": "code",
                 "sup": "superscript", "sub": "subscript"}


@dataclass
class _List:
    ordered: bool
    start: int
    num_id: int | None = None  # the numbering instance of an ordered list (restarts at `start`)
    has_paragraph: bool = False  # the current item already has its first paragraph


@dataclass
class _Cell:
    header: bool
    runs: list[tuple[str, _Format]] = field(default_factory=list)


class _DocxWriter:
    """Write the cleaned events into a python-docx Document."""

    def __init__(self, document: DocxDocument) -> None:
        self.document = document
        self.paragraph: Paragraph | None = None
        self.counts: dict[str, int] = dict.fromkeys(_FORMAT_FLAGS.values(), 0)
        self.hrefs: list[str] = []
        self.lists: list[_List] = []
        self.heading = 0
        self.quotes = 0
        self.pre = 0
        self.rows: list[list[_Cell]] | None = None  # the table being read

    def write(self, events: Sequence[_Event]) -> None:
        for kind, tag, value in events:
            if kind == "text":
                self._text(tag)
            elif kind == "start":
                self._start(tag, value)
            else:
                self._end(tag)

    def _format(self) -> _Format:
        on = {name for name, count in self.counts.items() if count > 0}
        return _Format(
            bold="bold" in on, italic="italic" in on, underline="underline" in on, strike="strike" in on,
            code="code" in on, superscript="superscript" in on, subscript="subscript" in on,
            href=self.hrefs[-1] if self.hrefs else "",
        )

    def _start(self, tag: str, value: str) -> None:
        if tag in _FORMAT_FLAGS:
            self.counts[_FORMAT_FLAGS[tag]] += 1
        elif tag == "a":
            self.hrefs.append(value)
        elif tag == "br":
            self._text("\n")
        elif tag == "hr":
            _bottom_border(self.document.add_paragraph())
            self.paragraph = None
        elif tag in ("ul", "ol"):
            self.lists.append(_List(ordered=tag == "ol", start=int(value or 1)))
            self.paragraph = None
        elif tag == "table":
            self.rows = []
        elif tag == "tr" and self.rows is not None:
            self.rows.append([])
        elif tag in ("td", "th") and self.rows:
            self.rows[-1].append(_Cell(header=tag == "th"))
        else:
            self._start_block(tag)

    def _start_block(self, tag: str) -> None:
        self.paragraph = None
        if tag in _HEADINGS:
            self.heading = int(tag[1])
        elif tag == "blockquote":
            self.quotes += 1
        elif tag == "pre":
            self.pre += 1
        elif tag == "li" and self.lists:
            self.lists[-1].has_paragraph = False

    def _end(self, tag: str) -> None:
        if tag in _FORMAT_FLAGS:
            self.counts[_FORMAT_FLAGS[tag]] -= 1
        elif tag == "a":
            self.hrefs.pop()
        elif tag in ("ul", "ol"):
            self.lists.pop()
        elif tag == "table" and self.rows is not None:
            _write_table(self.document, self.rows)
            self.rows = None
        elif tag in _HEADINGS:
            self.heading = 0
        elif tag == "blockquote":
            self.quotes -= 1
        elif tag == "pre":
            self.pre -= 1
        if tag not in _FORMAT_FLAGS and tag != "a":
            self.paragraph = None

    def _text(self, text: str) -> None:
        fmt = self._format()
        if self.rows is not None:
            if self.rows and self.rows[-1]:
                self.rows[-1][-1].runs.append((text, fmt))
            return
        if self.paragraph is None:
            self.paragraph = self._new_paragraph()
        _add_run(self.paragraph, text, fmt)

    def _new_paragraph(self) -> Paragraph:
        if self.heading:
            return self.document.add_paragraph(style=f"Heading {self.heading}")
        if self.lists:
            return self._list_paragraph(self.lists[-1])
        paragraph = self.document.add_paragraph()
        if self.quotes:
            from docx.shared import Inches

            paragraph.paragraph_format.left_indent = Inches(0.5 * self.quotes)
        return paragraph

    def _list_paragraph(self, current: _List) -> Paragraph:
        level = min(len(self.lists), 3)
        suffix = "" if level == 1 else f" {level}"
        if current.has_paragraph:  # a later paragraph of the same item
            return self.document.add_paragraph(style=f"List Continue{suffix}")
        current.has_paragraph = True
        style = f"List Number{suffix}" if current.ordered else f"List Bullet{suffix}"
        paragraph = self.document.add_paragraph(style=style)
        if current.ordered:
            if current.num_id is None:
                current.num_id = _restart_numbering(self.document, style, current.start)
            if current.num_id is not None:
                _set_numbering(paragraph, current.num_id)
        return paragraph


def _add_run(paragraph: Paragraph, text: str, fmt: _Format) -> None:
    from docx.shared import RGBColor

    run = paragraph.add_run(text)  # "\n" becomes a line break, "\t" a tab
    if fmt == _PLAIN:
        return
    font = run.font
    for name in ("bold", "italic", "strike", "superscript", "subscript"):
        if getattr(fmt, name):
            setattr(font, name, True)
    if fmt.underline or fmt.href:
        font.underline = True
    if fmt.code:
        font.name = "Courier New"
    if fmt.href:
        font.color.rgb = RGBColor(0x05, 0x63, 0xC1)
        _wrap_in_hyperlink(paragraph, run._r, fmt.href)


def _wrap_in_hyperlink(paragraph: Paragraph, run_element: Any, href: str) -> None:
    from docx.opc.constants import RELATIONSHIP_TYPE
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    relationship_id = paragraph.part.relate_to(href, RELATIONSHIP_TYPE.HYPERLINK, is_external=True)
    hyperlink: Any = OxmlElement("w:hyperlink")
    hyperlink.set(qn("r:id"), relationship_id)
    run_element.addprevious(hyperlink)
    hyperlink.append(run_element)


def _restart_numbering(document: DocxDocument, style: str, start: int) -> int | None:
    """A new numbering instance for `style` that starts at `start`, or None if the style is not numbered.

    Without this every "List Number" paragraph in a document would continue one
    count: a second list would start at 4 after a three-item first list.
    """
    style_element: Any = document.styles[style].element
    num_pr = style_element.pPr.numPr if style_element.pPr is not None else None
    if num_pr is None or num_pr.numId is None:
        return None
    numbering: Any = document.part.numbering_part.element
    abstract_id = numbering.num_having_numId(num_pr.numId.val).abstractNumId.val
    num = numbering.add_num(abstract_id)
    num.add_lvlOverride(ilvl=0).add_startOverride(start)
    return int(num.numId)


def _set_numbering(paragraph: Paragraph, num_id: int) -> None:
    num_pr: Any = paragraph._p.get_or_add_pPr().get_or_add_numPr()
    num_pr.get_or_add_ilvl().val = 0
    num_pr.get_or_add_numId().val = num_id


def _bottom_border(paragraph: Paragraph) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    borders: Any = OxmlElement("w:pBdr")
    bottom: Any = OxmlElement("w:bottom")
    for name, value in (("val", "single"), ("sz", "6"), ("space", "1"), ("color", "auto")):
        bottom.set(qn(f"w:{name}"), value)
    borders.append(bottom)
    paragraph._p.get_or_add_pPr().append(borders)


def _write_table(document: DocxDocument, rows: list[list[_Cell]]) -> None:
    rows = [row for row in rows if row]
    if not rows:
        return
    columns = max(len(row) for row in rows)
    table = document.add_table(rows=len(rows), cols=columns)
    table.style = "Table Grid"
    for row, cells in zip(table.rows, rows, strict=True):
        for cell, source in zip(row.cells, cells, strict=False):
            paragraph = cell.paragraphs[0]
            for text, fmt in source.runs:
                _add_run(paragraph, text, replace(fmt, bold=fmt.bold or source.header))


def render_docx(html: str, title: str = "") -> bytes:
    """A letter-size DOCX of `html` (as `to_html` makes it), with `title` in its core properties.

    Headings use Word's Heading styles, list items List Bullet / List Number
    (each numbered list restarts at its own start number), tables Table Grid;
    bold, italic, underline, line breaks and links (real hyperlinks) are kept,
    and every Unicode character is kept as it is.
    """
    import docx
    from docx.shared import Inches

    document = docx.Document()
    for section in document.sections:
        section.left_margin = section.right_margin = Inches(1)
        section.top_margin = section.bottom_margin = Inches(1)
    properties = document.core_properties
    properties.title = _xml_safe(title)
    properties.author = properties.last_modified_by = ""
    properties.comments = ""
    _DocxWriter(document).write(_events(html, _xml_safe))
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


# ---------------------------------------------------------------------------
# Assembly
# ---------------------------------------------------------------------------

_RENDERERS: dict[str, Callable[[str, str], bytes]] = {
    DocumentFormat.PDF: render_pdf,
    DocumentFormat.DOCX: render_docx,
}


def safe_filename(name: str) -> str:
    """A file name without extension that is safe anywhere: "../x y" → "x_y".

    Letters and digits (ASCII), "-" and "_" are kept; spaces and every other
    character become "_"; "_" and "." are trimmed from the ends; at most 80
    characters; "document" when nothing is left. It is the engine's rule, so
    these names match the ones the runtime stores the files under.
    """
    return _engine_documents.safe_filename(name)


@dataclass(frozen=True)
class AssembledDocument:
    """A document made from an attachment: its names and its files, one per format."""

    name: str
    filename: str  # safe, without extension
    description: str
    formats: dict[str, bytes]  # extension → file bytes, e.g. {"pdf": b"%PDF-...", "docx": b"PK..."}
    content_html: str  # the HTML the files were made from, as `clean_html` leaves it

    @property
    def content_types(self) -> dict[str, str]:
        """Extension → MIME type, for each format this document has."""
        return {ext: CONTENT_TYPES[ext] for ext in self.formats}

    def file_name(self, ext: str) -> str:
        """The download name of one format, e.g. "letter.pdf"."""
        return f"{self.filename}.{ext}"


def assemble(name: str, filename: str, description: str, content_html: str,
             formats: Sequence[str] = DEFAULT_FORMATS) -> AssembledDocument:
    """Render `content_html` in each of `formats` ("pdf", "docx"); `name` is the documents' title.

    `filename` is made safe with `safe_filename` (letters, digits, "-" and "_";
    spaces become "_"; "../x y" → "x_y"; "document" if nothing is left). An
    unknown or empty list of formats raises ValueError naming the supported ones.
    """
    wanted: list[str] = []
    for fmt in formats:
        ext = fmt.strip().lower().lstrip(".")
        if ext not in _RENDERERS:
            raise ValueError(f"unsupported document format {fmt!r}; supported formats: {', '.join(SUPPORTED_FORMATS)}")
        if ext not in wanted:
            wanted.append(ext)
    if not wanted:
        raise ValueError(f"no document format requested; supported formats: {', '.join(SUPPORTED_FORMATS)}")
    files = {ext: _RENDERERS[ext](content_html, name) for ext in wanted}
    return AssembledDocument(name=name, filename=safe_filename(filename), description=description,
                             formats=files, content_html=clean_html(content_html))
