"""Roles in a shared interview (issue 11 §6): `default role`, `role:` on a question, the `role`
variable and the `role_event` waiting screen, through the API with two users' keys.

Interview: tests/fixtures/interviews/roles_meeting.yml (the first user organizes, others attend).
"""

from __future__ import annotations

from typing import Any

from tests.conftest import Api
from tests.functional.api.helpers import ApiSession, ok_json

ATTENDEE_KEY = "AttendeeKey0123456789abcdefghijk"
INTERVIEW = "roles_meeting.yml"


def question(session: ApiSession) -> str:
    data = ok_json(session.question())
    return str(data["questionText"]).strip()


def test_each_role_answers_its_own_questions_and_waits_for_the_other(api: Api, services: Any) -> None:
    services.accounts.create_user("attendee@example.com", "attendee-password", privileges=("user",))
    services.accounts.add_api_key("attendee@example.com", ATTENDEE_KEY, "tests")
    data = api.new_session(INTERVIEW)
    organizer = ApiSession(api, INTERVIEW, data["session"], data.get("secret") or "")
    attendee = ApiSession(Api(api.client, ATTENDEE_KEY), INTERVIEW, data["session"], "")

    # The organizer (the user who started it) answers the unmarked question: the default role's
    assert question(organizer) == "When shall we meet?"
    ok_json(organizer.set({"meeting_day": "Friday"}))

    # The next question is the attendee's: the organizer waits, the attendee is asked
    assert question(organizer) == "Waiting for the attendee"
    assert question(attendee) == "Will you come on Friday?"
    ok_json(attendee.set({"attending": True}))

    # The end screen has no role of its own, so it is the organizer's; the attendee now waits
    assert question(organizer) == "They will come on Friday."
    assert question(attendee) == "Waiting for the organizer"
    # The role is a variable like any other: the last turn's (the attendee's), and who was waited for
    variables = ok_json(organizer.variables())
    assert (variables["role"], variables["role_needed"]) == ("attendee", ["organizer"])
    assert variables["organizer_email"] == "admin@localhost"
