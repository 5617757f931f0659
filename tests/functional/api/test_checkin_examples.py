"""docassemble's check-in examples through POST /api/session/checkin (issue 4, server side)."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api


class CheckinSession:
    def __init__(self, api: Api, interview: str) -> None:
        self.api = api
        data = api.new_session(interview)
        self.ids = {"i": interview, "session": data["session"], "secret": data["secret"]}
        self.query = "&".join(f"{k}={v}" for k, v in self.ids.items())
        assert api.get(f"/api/session/question?{self.query}").status == 200

    def checkin(self, parameters: dict[str, str], changed: str | None = None,
                initial: bool = False) -> list[dict[str, Any]]:
        result = self.api.post("/api/session/checkin", {**self.ids, "parameters": parameters, "changed": changed,
                                                         "initial": initial})
        assert result.status == 200, result.body
        commands: list[dict[str, Any]] = result.json["commands"]
        return commands

    def answer(self, variables: dict[str, Any]) -> dict[str, Any]:
        result = self.api.post("/api/session", {**self.ids, "variables": variables})
        assert result.status == 200, result.body
        data: dict[str, Any] = result.json
        return data

    def variables(self) -> dict[str, Any]:
        data: dict[str, Any] = self.api.get(f"/api/session?{self.query}").json
        return data


def test_check_in_counts_each_check_in_and_keeps_the_drafts(api: Api, examples: Any) -> None:
    session = CheckinSession(api, "check-in.yml")
    assert session.checkin({"favorite_food": ""}, initial=True) == []
    assert session.checkin({"favorite_food": "app"}, changed="favorite_food") == []
    assert session.checkin({"favorite_food": "apple"}) == []
    final = session.answer({"favorite_food": "apple"})
    assert "You checked in 3 times." in final["subquestionText"]
    assert "app and apple" in final["subquestionText"]


def test_target_code_fills_the_target_with_its_text_as_html(api: Api, examples: Any) -> None:
    session = CheckinSession(api, "target-code.yml")
    assert session.checkin({"favorite_food": "pizza"}, changed="favorite_food") == [
        {"action": "question_food", "value": {"target": "feedback", "content": "What? You like PIZZA?"},
         "extra": "backgroundresponse"}]
    assert session.checkin({"favorite_food": ""})[0]["value"] == {"target": "feedback", "content": ""}
    # The content is the user's answer: text, escaped, never markup the page would run.
    (command,) = session.checkin({"favorite_food": '<img src=x onerror="alert(1)">'})
    assert command["value"]["content"] == "What? You like &lt;IMG SRC=X ONERROR=&quot;ALERT(1)&quot;&gt;?"


def test_target_code_multiple_fills_each_target(api: Api, examples: Any) -> None:
    session = CheckinSession(api, "target-code-multiple.yml")
    (command,) = session.checkin({"favorite_food": "eel"})
    assert command["extra"] == "backgroundresponse"
    assert command["value"] == [{"target": "feedback_one", "content": "  (Please don&#x27;t be gross.)"},
                                {"target": "feedback_two", "content": "What? You like EEL?"}]


def test_a_template_with_a_target_answers_with_its_html_and_stays_undefined(api: Api, examples: Any) -> None:
    for interview, action in (("target-template.yml", "question_food"), ("target-code-template.yml", "question_food")):
        session = CheckinSession(api, interview)
        (command,) = session.checkin({"favorite_food": "pie"})
        assert (command["action"], command["extra"], command["value"]["target"]) == (action, "backgroundresponse",
                                                                                     "feedback")
        assert "<em>What?</em>" in command["value"]["content"] and "PIE?" in command["value"]["content"]
        assert "question_food" not in session.variables() and "food_message" not in session.variables()


def test_ajax_calc_fills_c_from_a_times_b(api: Api, examples: Any) -> None:
    session = CheckinSession(api, "ajax-calc.yml")
    assert session.checkin({"var_a": "3", "var_b": "", "var_c": ""}, changed="var_a") == []
    assert session.checkin({"var_a": "3", "var_b": "4", "var_c": ""}, changed="var_b") == [
        {"action": "add_numbers", "value": {"var_c": 12.0}, "extra": "fields"}]
    final = session.answer({"var_a": 3, "var_b": 4, "var_c": 12})
    assert final["questionText"] == "The correct answer is 12."


def test_ajax_flash_criticizes_each_new_food_once(api: Api, examples: Any) -> None:
    session = CheckinSession(api, "ajax-flash.yml")
    flash = [{"action": "criticize_food", "value": "What? You like PIE?", "extra": "flash"}]
    assert session.checkin({"favorite_food": "pie", "favorite_drink": ""}, changed="favorite_food") == flash
    assert session.checkin({"favorite_food": "pie", "favorite_drink": "tea"}, changed="favorite_drink") == []


def test_a_check_in_on_a_plain_screen_leaves_the_session_unchanged(api: Api, services: Any, examples: Any) -> None:
    session = CheckinSession(api, "actions.yml")
    before, _ = services.store.load("actions.yml", session.ids["session"])
    assert session.checkin({"info_is_verified": "True"}) == []
    after, _ = services.store.load("actions.yml", session.ids["session"])
    assert after.version == before.version


def test_country_state_replaces_the_state_choices_when_the_country_changes(api: Api, examples: Any) -> None:
    session = CheckinSession(api, "country-state.yml")
    screen = api.get(f"/api/session/question?{session.query}").json
    country, state = screen["fields"]
    assert {"label": "Germany", "value": "DE"} in country["choices"]
    assert {"label": "Texas", "value": "TX"} in state["choices"]
    assert state["js_enable_if"] == "val('country')"
    # When the country changes to Canada, the state dropdown gets Canada's provinces
    (command,) = session.checkin({"country": "CA", "state": ""}, changed="country")
    assert (command["action"], command["extra"]) == ("update_states_list", "fields")
    assert command["value"]["state"]["choices"]["QC"] == "Quebec"
    # and a change of another field replaces nothing
    assert session.checkin({"country": "CA", "state": "QC"}, changed="state") == []
    final = session.answer({"country": "CA", "state": "QC"})
    assert final["questionText"] == "You live in\nQuebec\nin\nCanada."
    assert "Your state code is <code>QC</code>." in final["subquestionText"]


def test_ajax_refresh_asks_for_a_refresh_when_the_number_changes(api: Api, examples: Any) -> None:
    session = CheckinSession(api, "ajax-refresh.yml")
    assert session.checkin({"number_of_things": "3"}) == []
    assert session.checkin({"number_of_things": "5"}, changed="number_of_things") == [
        {"action": "set_number_of_things", "value": None, "extra": "refresh"}]
    screen = api.get(f"/api/session/question?{session.query}").json
    assert [c["value"] for c in screen["fields"][1]["choices"]] == [1, 2, 3, 4, 5]


def test_ajax_calc_javascript_answers_with_a_hint_script(api: Api, examples: Any) -> None:
    session = CheckinSession(api, "ajax-calc-javascript.yml")
    assert session.checkin({"var_a": "", "var_b": "2", "var_c": ""}) == []
    assert session.checkin({"var_a": "3", "var_b": "2", "var_c": ""}, changed="var_a") == [
        {"action": "add_numbers", "value": 'flash("Hint: C should be " + 6.0, "success")', "extra": "javascript"}]


def test_check_in_end_screen_takes_no_answer_from_an_empty_post(api: Api, examples: Any) -> None:
    # Given: check-in.yml answered up to its mandatory end screen
    session = CheckinSession(api, "check-in.yml")
    end = session.answer({"favorite_food": "soup"})
    assert end["questionText"].startswith("Your favorite food") and end["questionType"] == "deadend"
    # When: the client posts nothing to it, once plainly and once naming it as answered, and checks in
    plain = session.answer({})
    named = api.post("/api/session", {**session.ids, "variables": {}, "question_name": end["questionName"]})
    assert session.checkin({}, initial=True) == []
    # Then: each time the same end screen, at the same step (nothing saved), and it stays current
    assert named.status == 200, named.body
    for screen in (plain, named.json, api.get(f"/api/session/question?{session.query}").json):
        assert (screen["questionName"], screen["steps"]) == (end["questionName"], end["steps"])
