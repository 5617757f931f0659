"""Inbound mail on `make run`: a real SMTP client sends to the local stack's SMTP server.

The mail goes the way it goes on AWS: the SMTP server stores it in the mail bucket as
SES does and publishes SES's notification (with the envelope's recipients) to the mail
topic, which reaches the mail queue; the worker hands it to the app's mail handler,
which records it and queues the session's incoming_email event.
"""

from __future__ import annotations

import json
import re
import smtplib
import time
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.error import HTTPError
from urllib.request import Request

import pytest

from tests.functional.test_local_stack import API_KEY, Browser, make_run, stack_env

pytestmark = pytest.mark.slow

DELIVERY_SECONDS = 60.0  # a bound on the wait, never an assertion on speed


def api(web: Browser, path: str, form: dict[str, Any] | None = None) -> Any:
    headers = {"X-API-Key": API_KEY}
    if form is not None:
        page = web.request(path, {k: json.dumps(v) if not isinstance(v, str) else v for k, v in form.items()},
                           headers=headers)
    else:
        page = web.request(path, headers=headers)
    assert page.status == 200, page.body
    return json.loads(page.body) if page.body else None


def message(to: str, subject: str, attachment: tuple[str, bytes] | None = None) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = "Pat Client <pat@example.com>"
    mail["To"] = to
    mail["Subject"] = subject
    mail.set_content("Here is the contract.")
    if attachment is not None:
        mail.add_attachment(attachment[1], maintype="application", subtype="pdf", filename=attachment[0])
    return mail


def test_mail_sent_over_smtp_reaches_the_sessions_incoming_email_event(tmp_path: Path) -> None:
    env = stack_env()
    with make_run(tmp_path, **env) as run:
        listing = run.wait_ready()
        # Then: the ready listing names the SMTP server
        assert listing["smtp"] == f"127.0.0.1:{env['SMTP_PORT']} (mail to *@mail.localhost)", run.output()
        web = Browser(f"http://127.0.0.1:{env['PORT']}")

        # Given: an email-to-case.yml session waiting for mail at its address
        session = api(web, "/api/session/new?i=email-to-case.yml")["session"]
        ref = f"i=email-to-case.yml&session={session}"
        waiting = api(web, "/api/session", {"i": "email-to-case.yml", "session": session,
                                             "variables": {"intro_seen": True}})
        found = re.search(r"\b([a-z]{10}@mail\.localhost)\b", waiting["subquestionText"])
        assert found, waiting
        address = found.group(1)

        with smtplib.SMTP("127.0.0.1", int(env["SMTP_PORT"]), timeout=20) as smtp:
            # When: a mail to an unknown address is sent
            # Then: the server refuses the recipient, and nothing is stored
            with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
                smtp.send_message(message("nosuchcode@mail.localhost", "Lost"))
            assert refused.value.recipients["nosuchcode@mail.localhost"][0] == 550
            with pytest.raises(smtplib.SMTPRecipientsRefused):
                smtp.send_message(message("someone@example.org", "Elsewhere"))

            # When: a mail with a PDF attachment is sent to the session's address, in Bcc only
            # (its headers name another address; the session's is only in the envelope's RCPT TO)
            smtp.send_message(message("Case desk <desk@example.org>", "Signed contract",
                                      ("contract.pdf", b"%PDF-1.4 contract")), to_addrs=[address])

        # Then: the incoming_email event runs; its callback saves the mail, and all_done shows it
        deadline = time.monotonic() + DELIVERY_SECONDS
        screen = api(web, f"/api/session/question?{ref}")
        while screen["questionText"] != "E-mails received" and time.monotonic() < deadline:
            time.sleep(0.2)
            screen = api(web, f"/api/session/question?{ref}")
        assert screen["questionText"] == "E-mails received", (screen, run.output())
        assert "Subject: Signed contract" in screen["subquestionText"]
        assert "Attachment: contract.pdf" in screen["subquestionText"]
        assert "Lost" not in screen["subquestionText"]

        # And: the attachment downloads through the API, byte for byte
        email = api(web, f"/api/session?{ref}")["email"]
        (attachment,) = email["attachment"]
        assert attachment["filename"] == "contract.pdf"
        request = Request(web.base + attachment["url"], headers={"X-API-Key": API_KEY, "Accept": "*/*"})
        try:
            download = web.opener.open(request, timeout=20)
        except HTTPError as error:
            pytest.fail(f"{attachment['url']}: {error.code} {error.read()!r}")
        assert download.read() == b"%PDF-1.4 contract"
        tasks = api(web, f"/api/session/tasks?{ref}")
        assert [(t["action"], t["status"]) for t in tasks] == [("incoming_email", "done")]
        assert "Traceback" not in run.output(), run.output()
