"""assemble-in-background.yml through the REST API: the letter is made by the worker and downloads."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from chalicelib.local.drainer import QueueDrainer
from tests.conftest import Api
from tests.functional.tasks.conftest import Start


def test_the_letter_is_assembled_in_the_background_and_downloads(start: Start, drainer: QueueDrainer,
                                                                 api: Api, examples: Any) -> None:
    # Given the sweetheart's name is answered
    session = start("assemble-in-background.yml")
    waiting = session.set({"sweetheart": "Ann"}).json
    assert waiting["questionText"] == "Please wait..."
    assert session.checkin() == []
    # When the worker runs the assembly task
    assert drainer.drain() == 1
    # Then the page is told to refresh, once, and the final screen offers the letter
    assert session.checkin() == [{"action": "assembly_task", "value": None, "extra": "refresh"}]
    assert session.checkin() == []
    final = session.screen()
    assert final["questionText"] == "Document created"
    (letter,) = final["attachments"]
    assert (letter["name"], letter["filename"], letter["valid_formats"]) == ("A letter", "letter", ["pdf", "docx"])
    secret = f"&secret={session.secret}"
    pdf = api.get(letter["url"]["pdf"] + secret)
    assert pdf.status == 200 and pdf.body.startswith(b"%PDF-")
    docx = api.get(letter["url"]["docx"] + secret)
    text = zipfile.ZipFile(io.BytesIO(docx.body)).read("word/document.xml").decode()
    assert "Ann, will you" in text and "marry me?" in text
    # and without the session's secret the file is refused
    assert api.get(letter["url"]["pdf"]).status == 403
