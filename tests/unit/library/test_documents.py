"""Document assembly: attachment HTML → PDF (fpdf2) and DOCX (python-docx), checked as a reader sees them."""

from __future__ import annotations

import io
import pickle
import re
import zlib
from pathlib import Path

import docx
import pytest
from docx.document import Document as DocxDocument

from chalicelib.engine.documents import DocumentValue
from chalicelib.language.blocks import DEFAULT_FORMATS, DocumentFormat
from chalicelib.language.markup import Text, to_html
from chalicelib.language.parser import parse_interview
from chalicelib.library.documents import (
    CONTENT_TYPES,
    AssembledDocument,
    assemble,
    clean_html,
    render_docx,
    render_pdf,
    safe_filename,
)

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

RICH = """\
# The agreement

This is **bold**, this is *italic*, and this is a [link](https://example.com/terms).
Second line of the same paragraph.

## Parties

- Alice
- Bob
    - Bob's dog

### Terms

1. Pay on time
2. Be nice

Between the lists.

5. Fifth
6. Sixth

Roses are red\x20\x20
violets are blue
"""


# --- helpers: read the files back the way a viewer would ------------------------------------------

_PDF_TOKEN = re.compile(rb"\((?:\\.|[^\\()])*\)|\bBT\b|\bET\b", re.DOTALL)
_PDF_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def _pdf_string(literal: bytes) -> str:
    """The text of a PDF string literal `(...)` (escapes undone; core fonts use Windows-1252)."""
    body = literal[1:-1]
    out = bytearray()
    i = 0
    while i < len(body):
        char = body[i:i + 1]
        if char == b"\\":
            octal = re.match(rb"[0-7]{1,3}", body[i + 1:i + 4])
            if octal:
                out.append(int(octal.group(), 8))
                i += 1 + len(octal.group())
                continue
            nxt = body[i + 1:i + 2]
            out += _PDF_ESCAPES.get(nxt, nxt)
            i += 2
            continue
        out += char
        i += 1
    return out.decode("cp1252", errors="replace")


def pdf_text(data: bytes) -> str:
    """The text the PDF shows: each content stream inflated, string operands joined per text object.

    fpdf2 compresses its streams (FlateDecode); each text object (BT ... ET) becomes one line.
    """
    lines: list[str] = []
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", data, re.DOTALL):
        try:
            content = zlib.decompress(stream)
        except zlib.error:
            continue  # not a content stream
        current: list[str] | None = None
        for token in _PDF_TOKEN.finditer(content):
            value = token.group()
            if value == b"BT":
                current = []
            elif value == b"ET":
                if current:
                    lines.append("".join(current))
                current = None
            elif current is not None:
                current.append(_pdf_string(value))
    return "\n".join(lines)


def open_docx(data: bytes) -> DocxDocument:
    return docx.Document(io.BytesIO(data))


def paragraphs(document: DocxDocument) -> list[tuple[str, str]]:
    """(style name, text) of each non-empty paragraph, in order."""
    return [(p.style.name if p.style is not None else "", p.text) for p in document.paragraphs if p.text]


def docx_xml(data: bytes) -> str:
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return "".join(archive.read(name).decode("utf-8") for name in archive.namelist() if name.endswith(".xml"))


# --- the assemble-in-background letter -------------------------------------------------------------


def test_the_letter_is_assembled_as_pdf_and_docx() -> None:
    made = assemble("A letter", "letter", "", to_html("Ann, will you\nmarry me?"))

    assert isinstance(made, AssembledDocument)
    assert (made.name, made.filename, made.description) == ("A letter", "letter", "")
    assert list(made.formats) == ["pdf", "docx"]
    assert made.content_types == {"pdf": "application/pdf", "docx": DOCX_TYPE}
    assert made.file_name("pdf") == "letter.pdf"

    pdf = made.formats["pdf"]
    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")
    text = pdf_text(pdf)
    assert "Ann, will you" in text
    assert "marry me?" in text
    assert b"/Title (A letter)" in pdf

    document = open_docx(made.formats["docx"])
    assert paragraphs(document) == [("Normal", "Ann, will you marry me?")]
    assert document.core_properties.title == "A letter"
    assert made.formats["docx"].startswith(b"PK")


def test_the_example_interview_attachment_renders_with_the_answer(examples: Path) -> None:
    source = (examples / "assemble-in-background.yml").read_text(encoding="utf-8")
    interview = parse_interview(source, "assemble-in-background.yml")
    attachment = next(b.attachment for b in interview.blocks if b.attachment is not None)
    answers = {"sweetheart": "Ann"}
    assert attachment.content is not None

    made = assemble(attachment.name.text(answers), attachment.filename.text(answers), "",
                    attachment.content.html(answers), attachment.valid_formats)

    assert made.file_name("docx") == "letter.docx"
    assert "Ann, will you" in pdf_text(made.formats["pdf"])
    assert "marry me?" in pdf_text(made.formats["pdf"])
    assert [text for _, text in paragraphs(open_docx(made.formats["docx"]))] == ["Ann, will you marry me?"]


def test_answers_are_escaped_not_interpreted() -> None:
    html = Text("Dear ${ name },").html({"name": "<b>Bob</b> & Co"})
    assert [text for _, text in paragraphs(open_docx(render_docx(html)))] == ["Dear <b>Bob</b> & Co,"]
    assert "Dear <b>Bob</b> & Co," in pdf_text(render_pdf(html))


# --- PDF ------------------------------------------------------------------------------------------


def test_pdf_is_letter_size_with_the_content_in_order() -> None:
    data = render_pdf(to_html(RICH), title="The agreement")

    assert b"/MediaBox [0 0 612.00 792.00]" in data  # 8.5 x 11 in
    text = pdf_text(data)
    order = ["The agreement", "This is ", "bold", "italic", "link", "Second line of the same paragraph",
             "Parties", "Alice", "Bob", "Bob's dog", "Terms", "1.", "Pay on time", "2.", "Be nice",
             "Between the lists.", "5.", "Fifth", "6.", "Sixth", "Roses are red", "violets are blue"]
    positions = [text.find(piece) for piece in order]
    assert -1 not in positions, [p for p, at in zip(order, positions, strict=True) if at == -1]
    assert positions == sorted(positions)
    # the line break is kept: the two halves are on separate lines
    assert "Roses are red\nviolets are blue" in text
    assert "\u2022" in text  # bullets


def test_pdf_uses_helvetica_bold_and_italic_and_links_out() -> None:
    data = render_pdf(to_html(RICH))

    for font in (b"/BaseFont /Helvetica\n", b"/BaseFont /Helvetica-Bold", b"/BaseFont /Helvetica-Oblique"):
        assert font in data
    assert b"/URI (https://example.com/terms)" in data


def test_pdf_title_metadata_keeps_unicode() -> None:
    data = render_pdf("<p>x</p>", title="Zoë ✓")
    title = re.search(rb"/Title <([0-9a-f]+)>", data)
    assert title is not None
    assert bytes.fromhex(title.group(1).decode()).decode("utf-16") == "Zoë ✓"


def test_pdf_long_content_flows_onto_more_pages() -> None:
    data = render_pdf(to_html("\n\n".join(f"Paragraph number {n}." for n in range(120))))
    count = re.search(rb"/Count (\d+)", data)
    assert count is not None and int(count.group(1)) >= 3
    assert "Paragraph number 119." in pdf_text(data)


def test_pdf_never_fetches_or_links_unsafe_targets() -> None:
    html = to_html('![a picture](http://192.0.2.1/x.png) [click](javascript:alert(1)) <script>evil()</script>')
    data = render_pdf(html)
    text = pdf_text(data)
    assert "a picture" in text and "click" in text
    assert "evil" not in text
    assert b"javascript" not in data and b"192.0.2.1" not in data


def test_pdf_table_cells_with_mixed_formatting_keep_their_text() -> None:
    html = to_html("| Name | [Site](https://x.example) |\n|---|---|\n| `Ann` | **very** *nice* |\n| **Bob** | |\n")
    text = pdf_text(render_pdf(html))
    for cell in ("Name", "Site", "Ann", "very nice", "Bob"):
        assert cell in text


@pytest.mark.parametrize(
    "markup",
    [
        "<table><tr><td><ul><li>a</li></ul><table><tr><td>n</td></tr></table></td></tr></table>",
        "<li>orphan item</li><tr><td>orphan cell</td></tr><td>loose</td>",
        "<b><p>block in inline</p></b></i></li><p><div>div in p</div>",
        "<blockquote><blockquote><ul><li><h2>deep</h2><hr><pre>x</pre></li></ul></blockquote></blockquote>",
        "<a href='#x'>anchor</a> <a>bare</a> <a href='https://a.example'><a href='https://b.example'>n</a></a>",
        "<ul type='square'><li>t</li></ul><ol start='x'><li>t</li></ol><ol start='-3'><li>t</li></ol>",
        "<dl><dt>term<dd>definition</dl><center>c</center><font color=red>f</font>x<sup>2</sup>H<sub>2</sub>O",
    ],
)
def test_messy_html_renders_in_both_formats(markup: str) -> None:
    words = [w for w in re.findall(r">([^<>]+)<", markup) if w.strip()]
    text = pdf_text(render_pdf(markup))
    document = open_docx(render_docx(markup))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    document_text = "\n".join([t for _, t in paragraphs(document)] + cells)
    for word in words:
        assert word.strip() in text
        assert word.strip() in document_text


# --- DOCX -----------------------------------------------------------------------------------------


def test_docx_has_the_paragraphs_in_order_with_word_styles() -> None:
    document = open_docx(render_docx(to_html(RICH), title="The agreement"))

    assert paragraphs(document) == [
        ("Heading 1", "The agreement"),
        ("Normal", "This is bold, this is italic, and this is a link. Second line of the same paragraph."),
        ("Heading 2", "Parties"),
        ("List Bullet", "Alice"),
        ("List Bullet", "Bob"),
        ("List Bullet 2", "Bob's dog"),
        ("Heading 3", "Terms"),
        ("List Number", "Pay on time"),
        ("List Number", "Be nice"),
        ("Normal", "Between the lists."),
        ("List Number", "Fifth"),
        ("List Number", "Sixth"),
        ("Normal", "Roses are red\nviolets are blue"),
    ]
    assert document.core_properties.title == "The agreement"
    section = document.sections[0]
    assert (section.page_width.inches, section.page_height.inches) == (8.5, 11)  # type: ignore[union-attr]


def test_docx_runs_are_bold_and_italic_and_links_are_hyperlinks() -> None:
    document = open_docx(render_docx(to_html(RICH)))
    body = document.paragraphs[1]

    bold = [run.text for run in body.runs if run.bold]
    italic = [run.text for run in body.runs if run.italic]
    assert bold == ["bold"]
    assert italic == ["italic"]
    assert [(link.text, link.address) for link in body.hyperlinks] == [("link", "https://example.com/terms")]
    plain = [run for run in body.runs if run.text.startswith("This is ")]
    assert plain and not plain[0].bold and not plain[0].italic


def test_docx_numbered_lists_restart_at_their_own_start() -> None:
    document = open_docx(render_docx(to_html(RICH)))
    numbered = [p for p in document.paragraphs if p.style is not None and p.style.name == "List Number"]
    num_ids = [p._p.pPr.numPr.numId.val for p in numbered]  # type: ignore[union-attr]

    assert num_ids[0] == num_ids[1] != num_ids[2] == num_ids[3]  # two lists, two counters
    numbering = document.part.numbering_part.element
    starts = {
        num.numId: [override.startOverride.val for override in num.lvlOverride_lst]
        for num in numbering.num_lst
    }
    assert starts[num_ids[0]] == [1]
    assert starts[num_ids[2]] == [5]


def test_docx_loose_list_items_keep_their_paragraphs_in_the_item() -> None:
    document = open_docx(render_docx(to_html("1. first\n\n    more about first\n\n2. second")))
    assert paragraphs(document) == [("List Number", "first\nmore about first"), ("List Number", "second")]


def test_docx_tables_quotes_and_code() -> None:
    markdown = "| Name | Age |\n|---|---|\n| **Ann** | 30 |\n\n> quoted\n\n```\ncode  line\n```\n"
    document = open_docx(render_docx(to_html(markdown)))

    [table] = document.tables
    assert [[cell.text for cell in row.cells] for row in table.rows] == [["Name", "Age"], ["Ann", "30"]]
    assert table.rows[0].cells[0].paragraphs[0].runs[0].bold  # header cell
    assert table.rows[1].cells[0].paragraphs[0].runs[0].bold  # **Ann**
    quote = next(p for p in document.paragraphs if p.text == "quoted")
    assert quote.paragraph_format.left_indent is not None and quote.paragraph_format.left_indent > 0
    code = next(p for p in document.paragraphs if "code" in p.text)
    assert code.text == "code  line"  # spaces kept in preformatted text
    assert code.runs[0].font.name == "Courier New"


# --- what must never reach a document -------------------------------------------------------------


def test_target_spans_are_gone_from_both() -> None:
    html = Text("Hello [TARGET status] there").html({})
    assert 'class="datargetstatus"' in html  # what the engine makes for screens

    pdf = render_pdf(html)
    docx_data = render_docx(html)
    assert "Hello there" in pdf_text(pdf)
    assert "TARGET" not in pdf_text(pdf)
    assert paragraphs(open_docx(docx_data)) == [("Normal", "Hello there")]
    assert "datarget" not in docx_xml(docx_data) and "TARGET" not in docx_xml(docx_data)
    assert "datarget" not in clean_html(html)


def test_literal_target_markers_are_gone_too() -> None:
    html = to_html("Before [TARGET x] after")
    assert "Before after" in pdf_text(render_pdf(html))
    assert [text for _, text in paragraphs(open_docx(render_docx(html)))] == ["Before after"]


# --- characters -----------------------------------------------------------------------------------


def test_non_ascii_text_does_not_crash_either_renderer() -> None:
    html = to_html("Zoë — café ✓ “quoted” ā 日本")

    text = pdf_text(render_pdf(html, title="Zoë ✓"))
    assert "Zoë — café ? “quoted” a ??" in text  # Windows-1252 kept, the rest approximated or "?"

    document = open_docx(render_docx(html, title="Zoë ✓"))
    assert [t for _, t in paragraphs(document)] == ["Zoë — café ✓ “quoted” ā 日本"]
    assert document.core_properties.title == "Zoë ✓"


def test_control_characters_are_dropped_not_fatal() -> None:
    html = "<p>a\x00b\x0bc\x1fd</p>"
    assert [t for _, t in paragraphs(open_docx(render_docx(html)))] == ["abcd"]
    assert "abcd" in pdf_text(render_pdf(html))


def test_empty_content_still_makes_valid_files() -> None:
    made = assemble("Empty", "", "", "")
    assert made.filename == "document"
    assert made.formats["pdf"].startswith(b"%PDF-")
    assert paragraphs(open_docx(made.formats["docx"])) == []


# --- formats and file names -----------------------------------------------------------------------


def test_only_the_requested_formats_are_made() -> None:
    made = assemble("A letter", "letter", "For Ann", "<p>Hi</p>", formats=["PDF"])
    assert list(made.formats) == ["pdf"]
    assert made.content_types == {"pdf": CONTENT_TYPES["pdf"]}
    assert made.description == "For Ann"


@pytest.mark.parametrize("fmt", list(DocumentFormat))
def test_every_document_format_is_made_and_served_with_its_content_type(fmt: DocumentFormat) -> None:
    made = assemble("A letter", "letter", "", "<p>Hi</p>", formats=[fmt.value])
    assert made.formats[fmt] and made.content_types == {fmt: CONTENT_TYPES[fmt]}
    assert CONTENT_TYPES[fmt].count("/") == 1


def test_a_document_in_the_answers_keeps_its_formats_as_plain_strings() -> None:
    # Given formats as an author wrote them: one unknown, one as the enum
    value = DocumentValue("A letter", "letter", "", "<p>Hi</p>", ("docx", "rtf", DocumentFormat.PDF), "S" * 32)
    # Then only the known ones are kept, as plain strings, so a pickle never names the enum
    assert value.formats == ("docx", "pdf") and all(type(f) is str for f in value.formats)
    assert b"DocumentFormat" not in pickle.dumps(value)
    # and none known means the default formats
    assert DocumentValue("A letter", "letter", "", "", ("rtf",), "S" * 32).formats == DEFAULT_FORMATS


@pytest.mark.parametrize("formats", [("pdf", "rtf"), ("html",), ()])
def test_unknown_or_no_format_is_an_error_naming_the_supported_ones(formats: tuple[str, ...]) -> None:
    with pytest.raises(ValueError, match="supported formats: pdf, docx"):
        assemble("A letter", "letter", "", "<p>Hi</p>", formats=formats)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("letter", "letter"),
        ("A letter", "A_letter"),
        ("../x y", "x_y"),  # no directories, no dots at the ends, spaces become "_"
        ("a/b\\c:d", "a_b_c_d"),
        ("  ", "document"),
        ("", "document"),
        ("  My letter  ", "My_letter"),
        ("x" * 200, "x" * 80),
    ],
)
def test_file_names_are_made_safe(given: str, expected: str) -> None:
    assert safe_filename(given) == expected
    assert assemble("x", given, "", "", formats=("pdf",)).filename == expected


def test_content_html_is_the_cleaned_html() -> None:
    made = assemble("x", "x", "", Text("**Hi** [TARGET t]<script>x()</script>").html({}), formats=("pdf",))
    assert made.content_html.strip() == "<p><b>Hi</b></p>"
