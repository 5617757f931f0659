"""assemble-in-background.yml in the browser routes: the letter is made in the background and downloaded."""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

from tests.functional.test_web_bad_input import Browser, _hidden


def test_the_background_letter_downloads_as_pdf_and_docx(client: Any, fresh_aws: dict[str, Any],
                                                         examples: Any) -> None:
    from app import app
    from chalicelib.local.drainer import QueueDrainer

    # Given the sweetheart's name is answered
    browser = Browser(client)
    page = browser.page("/interview?i=assemble-in-background.yml")
    browser.post("/interview?i=assemble-in-background.yml", {
        "_csrf": _hidden(page, "_csrf"), "_screen": _hidden(page, "_screen"), "_f0": "Zoë", "_continue": "1"})
    assert "Please wait..." in browser.page("/interview?i=assemble-in-background.yml")

    # When the worker runs the assembly task
    assert QueueDrainer(app, sqs=fresh_aws["sqs"]).drain() == 1

    # Then the final screen offers the letter in both formats, and both download
    final = browser.page("/interview?i=assemble-in-background.yml")
    assert "Document created" in final and "send\nit to Zoë immediately" in final
    links = re.findall(r'href="(/interview/file/[^"]+)"', final)
    assert [link.split("?")[0].rsplit(".", 1)[1] for link in links] == ["pdf", "docx"]
    pdf = browser.get(links[0].replace("&amp;", "&"))
    assert pdf.status_code == 200 and pdf.body.startswith(b"%PDF-")
    assert pdf.headers["Content-Disposition"] == 'attachment; filename="letter.pdf"'
    docx = browser.get(links[1].replace("&amp;", "&"))
    document = zipfile.ZipFile(io.BytesIO(docx.body)).read("word/document.xml").decode()
    assert "Zoë, will you" in document and "marry me?" in document


def test_another_browser_cannot_download_the_letter(client: Any, fresh_aws: dict[str, Any], examples: Any) -> None:
    from app import app
    from chalicelib.local.drainer import QueueDrainer

    owner = Browser(client)
    page = owner.page("/interview?i=assemble-in-background.yml")
    owner.post("/interview?i=assemble-in-background.yml", {
        "_csrf": _hidden(page, "_csrf"), "_screen": _hidden(page, "_screen"), "_f0": "Ann", "_continue": "1"})
    owner.page("/interview?i=assemble-in-background.yml")  # the redirect after the answer starts the task
    QueueDrainer(app, sqs=fresh_aws["sqs"]).drain()
    final = owner.page("/interview?i=assemble-in-background.yml")
    link = re.findall(r'href="(/interview/file/[^"]+)"', final)[0]
    stranger = Browser(client)
    stranger.page("/interview?i=assemble-in-background.yml")
    response = stranger.get(link.replace("&amp;", "&"))
    assert response.status_code == 404
    assert not response.body.startswith(b"%PDF")
