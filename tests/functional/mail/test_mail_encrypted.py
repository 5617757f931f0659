"""Inbound mail to encrypted sessions (MAIL_ENCRYPTED_SESSIONS, off by default).

With the setting on, `interview_email()` in an encrypted session stores the session key
wrapped under the server's `mail` sub-key with the address's record; the mail handler
unwraps it to seal the mail and its attachments and to run `incoming_email`. Nothing of
the mail is stored in clear. With the setting off, mail to such a session is refused.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.local.drainer import QueueDrainer
from chalicelib.runtime.services import Services
from tests.functional.api.helpers import ok_json, plain
from tests.functional.mail.conftest import SesStore, mail
from tests.functional.tasks.conftest import Start, TaskSession

INTERVIEW = "mail_to_encrypted.yml"
ADDRESS = re.compile(r"\b[a-z]{10}@mail\.localhost\b")


@pytest.fixture
def mail_to_encrypted(fast_retries: Services) -> Iterator[Services]:
    """The app with MAIL_ENCRYPTED_SESSIONS=1."""
    from chalicelib.web import context

    on = dataclasses.replace(fast_retries, settings=dataclasses.replace(fast_retries.settings,
                                                                        mail_encrypted_sessions=True))
    context.use_services(on)
    yield on
    context.use_services(fast_retries)


def waiting_address(session: TaskSession) -> str:
    screen = ok_json(session.set({"ready": True}))
    assert screen["questionText"] == "Waiting", screen
    (address,) = set(ADDRESS.findall(plain(screen["subquestionText"])))
    return address


def table_items(fresh_aws: dict[str, Any]) -> list[dict[str, Any]]:
    return list(fresh_aws["dynamodb"].scan(TableName="InterviewData")["Items"])


def test_an_encrypted_session_receives_mail_with_the_setting_on(
    start: Start, drainer: QueueDrainer, ses_store: SesStore, fresh_aws: dict[str, Any],
    mail_to_encrypted: Services
) -> None:
    # Given: an encrypted session waiting at its address, made with the setting on
    session = start(INTERVIEW)
    assert session.secret
    address = waiting_address(session)

    # When: a mail with an attachment arrives
    ses_store(mail(address, subject="Sealed subject", body="Sealed body text.",
                   attachments=(("evidence.txt", b"Sealed attachment bytes."),)))
    drainer.drain()

    # Then: its incoming_email event ran and the callback saved the mail in the session
    screen = session.screen()
    assert screen["questionText"] == "Received", screen
    text = plain(screen["subquestionText"])
    assert "Subject: Sealed subject" in text and "Body: Sealed body text." in text and "Attachments: 1" in text
    assert [(t["action"], t["status"]) for t in session.tasks()] == [("incoming_email", "done")]

    # And: nothing of it is stored in clear, and the session is still encrypted
    stored = repr(table_items(fresh_aws)).encode()
    s3 = fresh_aws["s3"]
    for listed in s3.list_objects_v2(Bucket=mail_to_encrypted.settings.blob_bucket).get("Contents", []):
        stored += s3.get_object(Bucket=mail_to_encrypted.settings.blob_bucket, Key=listed["Key"])["Body"].read()
    for typed in (b"Sealed subject", b"Sealed body text", b"Sealed attachment bytes", b"sam@example.com"):
        assert typed not in stored
    (head,) = [i for i in table_items(fresh_aws) if i["sk"]["S"] == "step~head"]
    assert head["encrypted"]["BOOL"] is True

    # And: the mail opens with the session's secret: get_emails sees it, the attachment downloads
    from chalicelib.runtime.sessions import SessionRef
    from chalicelib.web import context

    key = context.sessions().key_for(SessionRef(INTERVIEW, session.session, session.secret))
    (stored_address,) = context.sessions().mail_port(session.session, key).addresses()
    (summary,) = stored_address.mails
    (attachment,) = summary["attachments"]
    download = session.api.get(f"{attachment['url']}&secret={session.secret}")
    assert download.status == 200, download.body
    assert download.body == b"Sealed attachment bytes."
    assert session.api.get(attachment["url"]).status == 403  # without the secret it does not open


def test_deleting_the_session_deletes_the_wrapped_key(
    start: Start, drainer: QueueDrainer, fresh_aws: dict[str, Any], mail_to_encrypted: Services
) -> None:
    session = start(INTERVIEW)
    waiting_address(session)
    (by_code,) = [i for i in table_items(fresh_aws) if i["pk"]["S"].startswith("mailaddr#")]
    assert len(by_code["key_wrap"]["B"]) > 32  # the key is there, wrapped (nonce, ciphertext, tag)

    deleted = session.api.delete(f"/api/session?{session.query()}")
    assert deleted.status in (200, 204), deleted.body

    assert [i for i in table_items(fresh_aws) if "key_wrap" in i] == []


def test_with_the_setting_off_mail_to_an_encrypted_session_is_refused(
    start: Start, drainer: QueueDrainer, ses_store: SesStore, fresh_aws: dict[str, Any],
    fast_retries: Services, caplog: pytest.LogCaptureFixture
) -> None:
    # Given: the setting off (the default): the address holds no key
    assert fast_retries.settings.mail_encrypted_sessions is False
    session = start(INTERVIEW)
    address = waiting_address(session)
    assert [i for i in table_items(fresh_aws) if "key_wrap" in i] == []

    # When: a mail arrives
    with caplog.at_level(logging.WARNING, logger="chalicelib.runtime.mail_in"):
        ses_store(mail(address, subject="Not for you"))
        drainer.drain()

    # Then: it is dropped, saying why, and the session is unchanged
    assert any("encrypted" in r.getMessage() and "MAIL_ENCRYPTED_SESSIONS" in r.getMessage()
               for r in caplog.records)
    assert session.screen()["questionText"] == "Waiting"
    assert session.tasks() == []


def test_an_address_made_with_the_setting_on_is_refused_once_it_is_turned_off(
    start: Start, drainer: QueueDrainer, ses_store: SesStore, fast_retries: Services,
    mail_to_encrypted: Services
) -> None:
    from chalicelib.web import context

    session = start(INTERVIEW)
    address = waiting_address(session)
    context.use_services(fast_retries)  # the server restarted without the setting

    ses_store(mail(address, subject="After"))
    drainer.drain()

    assert session.screen()["questionText"] == "Waiting"
    assert session.tasks() == []
