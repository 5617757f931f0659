"""Author text to HTML: values are text, author markup is sanitized, the Markdown cache is bounded."""

from __future__ import annotations

from chalicelib.language import markup
from chalicelib.language.markup import Markup, Text, sanitize_html, to_html


def test_a_value_with_markdown_and_html_is_text() -> None:
    value = '*hi*{: onmouseover=alert(1) } [x](javascript:alert(1)) <b>"q"</b>'
    html = Text("Hello ${ name }").html({"name": value}, inline=True)
    assert html == "Hello *hi*{: onmouseover=alert(1) } [x](javascript:alert(1)) &lt;b&gt;&quot;q&quot;&lt;/b&gt;"


def test_values_never_change_how_the_author_text_is_read() -> None:
    # 6,000 brackets in an answer once took Markdown 11 s; now Markdown never sees them.
    html = Text("**Dear** ${ name }, [see](https://example.org)").html({"name": "[" * 6000}, inline=True)
    assert html == ('<strong>Dear</strong> ' + "[" * 6000 +
                    ', <a href="https://example.org" rel="noopener noreferrer">see</a>')


def test_markup_from_code_is_html_but_sanitized() -> None:
    value = Markup("<strong>bold</strong><script>alert(1)</script><em onclick='x()'>e</em>")
    html = Text("${ value }").html({"value": value}, inline=True)
    assert html == "<strong>bold</strong><em>e</em>"


def test_markup_escapes_what_is_added_to_it() -> None:
    value = Markup("<strong>") + '<img src=x onerror="alert(1)">' + Markup("</strong>")
    html = Text("${ value }").html({"value": value}, inline=True)
    assert html == '<strong>&lt;img src=x onerror="alert(1)"&gt;</strong>'  # text: quotes are harmless here


def test_a_value_in_a_link_cannot_make_it_run_code() -> None:
    text = Text("[click](${ url }) ![pic](${ url })")
    assert text.html({"url": "javascript:alert(1)"}, inline=True) == (
        '<a rel="noopener noreferrer">click</a> <img alt="pic">')
    assert text.html({"url": "https://example.org/?a=1&b=2"}, inline=True) == (
        '<a href="https://example.org/?a=1&amp;b=2" rel="noopener noreferrer">click</a> '
        '<img alt="pic" src="https://example.org/?a=1&amp;b=2">')


def test_a_value_cannot_forge_a_slot() -> None:
    html = Text("${ a } and ${ b }").html({"a": "\ue0001\ue001", "b": "<i>"}, inline=True)
    assert html == "\ue0001\ue001 and &lt;i&gt;"


def test_author_html_is_sanitized_too() -> None:
    assert sanitize_html('<p style="color:red" onclick="x()">a<script>b</script></p>') == "<p>a</p>"
    assert to_html('<span class="c" aria-live="polite" data-js-show-if="1">x</span>', inline=True) == (
        '<span class="c" aria-live="polite">x</span>')


def test_the_markdown_cache_is_bounded_by_characters() -> None:
    cache = markup._Cache(max_chars=1000, max_item_chars=400)
    for n in range(50):
        cache.put((f"{n:03d}" + "x" * 100, False), markup._AuthorHtml("y" * 100, False))
    assert cache.size <= 1000 and len(cache.items) == 4
    cache.put(("z" * 500, False), markup._AuthorHtml("", False))
    assert ("z" * 500, False) not in cache.items  # too big for one entry: not kept at all


def test_an_indented_value_is_a_code_block_of_text_as_in_docassemble() -> None:
    from chalicelib.library.text import indent

    trace = 'Traceback:\n  File "x.yml"\n<script>*boom*</script> [x](javascript:y)'
    html = Text("The trace was\n\n${ indent(trace) }\n\nDone").html({"indent": indent, "trace": trace})
    assert html == ('<p>The trace was</p>\n<pre><code>Traceback:\n  File &quot;x.yml&quot;\n'
                    '&lt;script&gt;*boom*&lt;/script&gt; [x](javascript:y)\n</code></pre>\n<p>Done</p>')
