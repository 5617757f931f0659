"""The project's own example of moving data between sessions, interviews/case_manager.yml: it opens
a case file (interviews/case_file.yml) as a session of its own, names the client in it, closes it
through the file's action and reads it back; driven here through the REST API."""

from __future__ import annotations

from collections.abc import Callable

from tests.conftest import Api
from tests.functional.api.helpers import ApiSession, ok_json, plain


def test_the_case_manager_opens_closes_and_reads_back_a_case_file(
        api: Api, start: Callable[[str], ApiSession]) -> None:
    # Given: a case manager session
    manager = start("case_manager.yml")
    assert ok_json(manager.question())["questionText"] == "Open a case"

    # When: the manager names the client, continues, closes the case with a note, and continues
    manager.set({"client_name": "Grace Hopper"})
    assert ok_json(manager.question())["questionText"] == "A case file for Grace Hopper is being opened"
    manager.set({"seen_opened": True})
    asking = ok_json(manager.question())
    assert "The case file says the case is open" in plain(asking["subquestionText"])
    manager.set({"closing_note": "Resolved by phone"})
    manager.set({"seen_closing": True})

    # Then: the summary shows what the case file holds now
    summary = ok_json(manager.question())
    assert summary["questionText"] == "The case of Grace Hopper"
    assert plain(summary["subquestionText"]) == (
        "client_name: Grace Hopper closing_note: Resolved by phone status: closed")
    # and the case file is a session of its own, opened with the manager's secret
    case_id = manager.variables().json["case_id"]
    case = ok_json(api.get(f"/api/session/question?i=case_file.yml&session={case_id}&secret={manager.secret}"))
    assert case["questionText"] == "Case of Grace Hopper"
    assert "Closing note: Resolved by phone" in plain(case["subquestionText"])
