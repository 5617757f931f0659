"""GET /local/outbox: only while a local stack runs, listing what its messenger sent."""

from __future__ import annotations

import json
from email.message import EmailMessage

from chalice import Chalice
from chalice.test import Client

from chalicelib.local import outbox
from chalicelib.local.outbox import LocalOutbox, RecordingMessenger
from chalicelib.runtime.messenger import MemoryMessenger


def _app() -> Chalice:
    app = Chalice("outbox-test")
    outbox.install_route(app)
    outbox.install_route(app)  # a second stack in the same process adds nothing
    return app


def test_without_a_running_stack_the_outbox_is_not_found() -> None:
    outbox.activate(None)
    with Client(_app()) as client:
        response = client.http.get("/local/outbox")
    assert response.status_code == 404
    assert "local stack" in json.loads(response.body)["error"]


def test_the_outbox_lists_each_email_and_sms_sent_in_the_contracts_shape() -> None:
    sent = LocalOutbox()
    messenger = RecordingMessenger(MemoryMessenger(), sent)
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "noreply@mail.localhost", "ann@example.com", "Hi"
    message.set_content("Hello")
    message.add_alternative("<p>Hello</p>", subtype="html")
    message.add_attachment(b"%PDF-1.4 x", maintype="application", subtype="pdf", filename="letter.pdf")
    messenger.send_email("noreply@mail.localhost", ["ann@example.com"], message.as_bytes())
    messenger.send_sms("+16502530000", "Hello by SMS")
    outbox.activate(sent)
    try:
        with Client(_app()) as client:
            response = client.http.get("/local/outbox")
    finally:
        outbox.activate(None)

    assert response.status_code == 200
    mail, sms = json.loads(response.body)
    assert {k: v for k, v in mail.items() if k != "time"} == {
        "kind": "email", "to": ["ann@example.com"], "from": "noreply@mail.localhost", "subject": "Hi",
        "body_text": "Hello\n", "body_html": "<p>Hello</p>\n",
        "attachments": [{"filename": "letter.pdf", "content_type": "application/pdf", "size": 10}]}
    assert (sms["kind"], sms["to"], sms["body_text"]) == ("sms", ["+16502530000"], "Hello by SMS")
    assert mail["time"].endswith("+00:00")
