"""send_email/send_sms on the in-memory runtime: numbers by country, dry runs, one send per call."""

from __future__ import annotations

import dataclasses

import pytest

from chalicelib.engine.request import Request
from chalicelib.runtime.messenger import MemoryMessenger, Sent
from chalicelib.runtime.sessions import Sessions, VariableChanges
from tests.unit.runtime.conftest import Runtime

SMS_TO_CLIENT = """
objects:
  - client: Individual
---
mandatory: True
code: |
  sent = send_sms(to=client, body="Hello", dry_run=dry)
---
mandatory: True
question: Sent ${ sent }
"""


def _sent(runtime: Runtime) -> list[Sent]:
    messenger = runtime.services.messenger
    assert isinstance(messenger, MemoryMessenger)
    return messenger.sent


def _set(runtime: Runtime, name: str, values: dict[str, object]) -> str:
    ref, _ = runtime.sessions.start(name, interface="api")
    runtime.sessions.set_variables(ref, Request(name, ref.session_id), VariableChanges(values=values))
    return runtime.question(ref)


@pytest.mark.parametrize(("country", "setting", "number", "expected"), [
    (None, "US", "(650) 253-0000", "+16502530000"),
    ("GB", "US", "020 7946 0958", "+442079460958"),
    (None, "GB", "020 7946 0958", "+442079460958"),
    ("FR", "US", "+1 650 253 0000", "+16502530000"),
])
def test_a_number_is_read_in_the_persons_country_else_default_country(
    runtime: Runtime, country: str | None, setting: str, number: str, expected: str
) -> None:
    runtime.services = dataclasses.replace(runtime.services, settings=dataclasses.replace(
        runtime.services.settings, default_country=setting))
    runtime.sessions = Sessions(runtime.services)
    name = runtime.interview("sms.yml", SMS_TO_CLIENT)
    values: dict[str, object] = {"dry": False, "client.phone_number": number}
    if country:
        values["client.country"] = country

    assert _set(runtime, name, values) == "Sent True"
    assert _sent(runtime) == [Sent("sms", (expected,), text="Hello")]


def test_a_dry_run_sends_nothing_and_gives_false(runtime: Runtime) -> None:
    name = runtime.interview("sms.yml", SMS_TO_CLIENT)
    assert _set(runtime, name, {"dry": True, "client.phone_number": "(650) 253-0000"}) == "Sent False"
    assert _sent(runtime) == []


def test_a_block_run_again_in_the_same_turn_sends_its_message_once(runtime: Runtime) -> None:
    # The block sends, then needs a name that another code block defines: it runs again from the top.
    name = runtime.interview("again.yml", """
        mandatory: True
        code: |
          sent = send_email(to="ann@example.com", subject="Once", body="Only once.")
          texted = send_sms(to="+16502530000", body="Only once.")
          total = defined_later + 1
        ---
        code: |
          defined_later = 1
        ---
        mandatory: True
        question: Sent ${ sent } ${ texted } ${ total }
        """)
    ref, _ = runtime.sessions.start(name, interface="api")

    assert runtime.question(ref) == "Sent True True 2"
    assert [(s.kind, s.recipients) for s in _sent(runtime)] == [("email", ("ann@example.com",)),
                                                                 ("sms", ("+16502530000",))]
    assert [r.status for r in runtime.services.store.list_sends(ref.session_id)] == ["sent", "sent"]
