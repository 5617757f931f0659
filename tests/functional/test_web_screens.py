"""Every screen kind and datatype answered through the browser form, and the web commands."""

from __future__ import annotations

import re
from typing import Any

from tests.functional.test_web_bad_input import Browser, _hidden


def _submit(browser: Browser, interview: str, form: dict[str, str]) -> Any:
    page = browser.page(f"/interview?i={interview}")
    return browser.post(f"/interview?i={interview}", {
        "_csrf": _hidden(page, "_csrf"), "_screen": _hidden(page, "_screen"), **form})


def test_every_screen_kind_and_datatype_takes_its_answer(client: Any) -> None:
    browser = Browser(client)
    first = browser.page("/interview?i=all_kinds.yml")
    assert "Do you like tea?" in first
    assert re.findall(r'name="_button" value="(\d)"[^>]*>(\w+)<', first) == [("0", "Yes"), ("1", "No")]
    _submit(browser, "all_kinds.yml", {"_button": "0"})               # yesno: Yes → True
    _submit(browser, "all_kinds.yml", {"_button": "0"})               # noyes: Yes → False
    form = browser.page("/interview?i=all_kinds.yml")
    assert 'type="radio"' in form and "<select" in form and 'type="checkbox"' in form
    assert '<datalist id="f4-list">' in form and 'type="date"' in form and "<textarea" in form
    assert '<p class="hint" id="f6-hint">Anything else</p>' in form
    _submit(browser, "all_kinds.yml", {"_f0": "1", "_f1": "1", "_f2": "1", "_f3": "True", "_f4": "Oslo",
                                       "_f5": "2026-11-23", "_f6": "two\nlines", "_continue": "1"})
    assert "Which way?" in browser.page("/interview?i=all_kinds.yml")
    _submit(browser, "all_kinds.yml", {"_button": "1"})
    summary = browser.page("/interview?i=all_kinds.yml")
    assert ("tea=True coffee=False size=L colour=blue\nextras=[&#x27;sugar&#x27;] agree=True city=Oslo\n"
            "day=2026-11-23 note=two\nlines direction=s") in summary


def test_command_wait_shows_a_page_that_refreshes_itself(client: Any) -> None:
    body = Browser(client).page("/interview?i=cmd_wait.yml")
    assert '<meta http-equiv="refresh" content="5">' in body
    assert "Please wait" in body


def test_command_refresh_shows_the_page_again(client: Any) -> None:
    browser = Browser(client)
    first = browser.get("/interview?i=cmd_refresh.yml")
    assert first.status_code == 303
    assert first.headers["Location"] == "/interview?i=cmd_refresh.yml"
    assert "Visits 2" in browser.page("/interview?i=cmd_refresh.yml")


def test_command_restart_clears_the_answers_but_keeps_url_args(client: Any) -> None:
    browser = Browser(client)
    browser.page("/interview?i=cmd_restart.yml&from=mail")
    _submit(browser, "cmd_restart.yml", {"_f0": "again", "_continue": "1"})
    restarted = browser.get("/interview?i=cmd_restart.yml")
    assert restarted.status_code == 303
    assert "Your name?" in browser.page("/interview?i=cmd_restart.yml")
    _submit(browser, "cmd_restart.yml", {"_f0": "Ann", "_continue": "1"})
    assert "Hello Ann from mail" in browser.page("/interview?i=cmd_restart.yml")


def test_command_new_session_starts_a_fresh_session(client: Any) -> None:
    browser = Browser(client)
    browser.page("/interview?i=cmd_restart.yml")
    old_cookie = browser.cookie
    _submit(browser, "cmd_restart.yml", {"_f0": "fresh", "_continue": "1"})
    # The interview asked for the new session: it starts at once, with no confirmation to answer
    moved = browser.get("/interview?i=cmd_restart.yml")
    assert moved.status_code == 303 and moved.headers["Location"] == "/interview?i=cmd_restart.yml"
    assert browser.cookie != old_cookie
    assert "Your name?" in browser.page(moved.headers["Location"])


def test_a_dropdown_whose_choices_a_check_in_replaced_takes_the_new_choice(client: Any, examples: Any) -> None:
    import json

    browser = Browser(client)
    page = browser.page("/interview?i=country-state.yml")
    canada = re.search(r'<option value="(\d+)" data-value="CA">', page)
    assert canada is not None
    # When the country changes to Canada, the check-in replaces the state's choices
    checkin = browser.post("/checkin?i=country-state.yml", {
        "csrf_token": _hidden(page, "_csrf"),
        "parameters": json.dumps({"country": canada.group(1), "state": "", "_changed": "country",
                                  "_initial": False})})
    (command,) = json.loads(checkin.body)["commands"]
    provinces = list(command["value"]["state"]["choices"])
    assert command["extra"] == "fields" and "QC" in provinces
    # Then submitting Quebec by its position in the new list gives Quebec, not a US state
    # (posted from the page that is open, as a browser does: no reload in between)
    browser.post("/interview?i=country-state.yml", {
        "_csrf": _hidden(page, "_csrf"), "_screen": _hidden(page, "_screen"), "_f0": canada.group(1),
        "_f1": str(provinces.index("QC")), "_continue": "1"})
    final = browser.page("/interview?i=country-state.yml")
    assert "You live in\nQuebec\nin\nCanada." in final


def test_back_shows_the_country_and_state_chosen_before_as_selected(client: Any, examples: Any) -> None:
    # Given: country-state.yml answered through the page (the United States, then New York)
    browser = Browser(client)
    page = browser.page("/interview?i=country-state.yml")
    usa = re.search(r'<option value="(\d+)" data-value="US">', page)
    new_york = re.search(r'<option value="(\d+)" data-value="NY">', page)
    assert usa is not None and new_york is not None
    _submit(browser, "country-state.yml", {"_f0": usa.group(1), "_f1": new_york.group(1), "_continue": "1"})
    final = browser.page("/interview?i=country-state.yml")
    assert "Your state code is <code>NY</code>" in final
    # When: the user presses Back
    browser.post("/interview?i=country-state.yml", {"_csrf": _hidden(final, "_csrf"), "_back": "1"})
    # Then: the question shows again with the country and the state chosen before selected
    again = browser.page("/interview?i=country-state.yml")
    assert "Where do you live?" in again
    assert re.findall(r'<option value="\d+" data-value="(\w+)" selected>', again) == ["US", "NY"]


def test_an_answer_restored_by_back_stays_text_in_the_page(client: Any) -> None:
    from urllib.parse import quote

    # Given: a hostile text answered on the first screen, then the second screen
    browser = Browser(client)
    hostile = '"><script>alert(1)</script><b>x</b>'
    _submit(browser, "two_questions.yml", {"_f0": quote(hostile), "_continue": "1"})
    assert "What is your favorite fruit?" in browser.page("/interview?i=two_questions.yml")
    # When: the user presses Back
    page = browser.page("/interview?i=two_questions.yml")
    browser.post("/interview?i=two_questions.yml", {"_csrf": _hidden(page, "_csrf"), "_back": "1"})
    # Then: the field shows the answer, escaped in its value attribute: no markup of it reaches the page
    again = browser.page("/interview?i=two_questions.yml")
    assert "What is your favorite color?" in again
    assert 'value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;b&gt;x&lt;/b&gt;"' in again
    assert "<script>alert" not in again and "<b>x</b>" not in again


def test_an_empty_post_to_an_end_screen_shows_it_again_and_adds_no_step(client: Any) -> None:
    # Given: two_questions.yml answered up to its end screen
    browser = Browser(client)
    _submit(browser, "two_questions.yml", {"_f0": "red", "_continue": "1"})
    _submit(browser, "two_questions.yml", {"_f0": "apples", "_continue": "1"})
    assert "You like red apples." in browser.page("/interview?i=two_questions.yml")
    # When: its (empty) form is posted, twice
    for _ in range(2):
        posted = _submit(browser, "two_questions.yml", {})
        assert posted.status_code == 303
    # Then: the end screen shows again, and one Back goes to the question before it (no step was added)
    final = browser.page("/interview?i=two_questions.yml")
    assert "You like red apples." in final
    browser.post("/interview?i=two_questions.yml", {"_csrf": _hidden(final, "_csrf"), "_back": "1"})
    assert "What is your favorite fruit?" in browser.page("/interview?i=two_questions.yml")
