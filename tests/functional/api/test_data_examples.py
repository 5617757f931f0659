"""docassemble's database_storage.yml (../shared/examples, unmodified) over the API: each session
writes its answer as a shared record, and every later session lists all of them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.functional.api.helpers import ApiSession, ok_json, plain

Start = Callable[[str], ApiSession]


def test_database_storage_lists_every_sessions_fruit(start: Start, examples: Path) -> None:
    first = start("database_storage.yml")
    assert ok_json(first.question())["questionText"].strip() == "What is your favorite fruit?"
    shown = ok_json(first.set({"favorite_fruit": "Apple"}))
    assert shown["questionText"].strip() == "Contents of database"
    assert "Apple" in plain(shown["subquestionText"])

    second = start("database_storage.yml")
    shown = ok_json(second.set({"favorite_fruit": "<i>Banana</i>"}))
    text = plain(shown["subquestionText"])
    assert "Apple" in text and "<i>Banana</i>" in text  # the user's text stays text
    assert "<i>" not in shown["subquestionText"]
    # the first session, shown again, now lists both (read_records is reconsidered)
    again = plain(ok_json(first.question())["subquestionText"])
    assert "Apple" in again and "Banana" in again
