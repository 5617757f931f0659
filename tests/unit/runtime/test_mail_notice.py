"""SES's receipt notification as the mail queue gets it: raw (the template's subscription) or in SNS's envelope."""

from __future__ import annotations

import json

from chalicelib.local.ses_receipt import receipt_notification
from chalicelib.runtime.mail_in import receipt_notice

TOPIC = "arn:aws:sns:us-east-1:123456789012:interview-mail"


def test_a_raw_notification_names_the_object_and_every_envelope_recipient() -> None:
    body = receipt_notification("interview-mail", "k1", ["abcdefghij@mail.localhost", "Bcc@Mail.Localhost"],
                                "sam@example.com", TOPIC)

    assert receipt_notice(body) == ("interview-mail", "k1", ["abcdefghij@mail.localhost", "Bcc@Mail.Localhost"])


def test_the_same_notification_inside_snss_envelope_is_read_alike() -> None:
    inner = receipt_notification("interview-mail", "k2", ["abcdefghij@mail.localhost"], "", TOPIC)
    envelope = json.dumps({"Type": "Notification", "MessageId": "m1", "TopicArn": TOPIC,
                           "Subject": "Amazon SES Email Receipt Notification", "Message": inner})

    assert receipt_notice(envelope) == ("interview-mail", "k2", ["abcdefghij@mail.localhost"])


def test_anything_else_says_what_it_is_not() -> None:
    assert receipt_notice("{") == "not JSON"
    assert receipt_notice('{"Records": []}') == "not an SES receipt notification"
    assert receipt_notice('{"notificationType": "Bounce"}') == "not an SES receipt notification"
    lambda_action = json.dumps({"notificationType": "Received", "receipt": {"action": {"type": "Lambda"}}})
    assert receipt_notice(lambda_action) == "not the notification of an S3 action"
    many = json.loads(receipt_notification("b", "k", [f"r{n}@mail.localhost" for n in range(500)], "", TOPIC))
    _, _, recipients = receipt_notice(json.dumps(many))  # type: ignore[misc]
    assert len(recipients) == 100  # SES delivers to at most 100 recipients per message
