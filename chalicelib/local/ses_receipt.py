"""What SES's receipt rule does with a received mail, for the local stack and the tests.

On AWS the rule's S3 action stores the raw mail in the mail bucket (once, however many
recipients it has) and publishes a notification to the mail topic (the action's
TopicArn): `notificationType` "Received", with `receipt.recipients` (the envelope's
recipients the rule matched, Bcc included) and `receipt.action` naming the bucket and
the object. The mail queue subscribes to the topic with raw delivery, so the app's mail
handler reads that JSON as the message body. `SesReceipt.receive` does the same two
steps in the embedded AWS: the local SMTP server calls it with the RCPT TO recipients.
"""

from __future__ import annotations

import datetime
import json
import uuid
from collections.abc import Sequence
from typing import Any

from chalicelib.local.resources import LOCAL_NAMES
from chalicelib.runtime.mail_bucket import MailBucket

MAIL_TOPIC = LOCAL_NAMES["MailTopic"]


def receipt_notification(bucket: str, key: str, recipients: Sequence[str], source: str, topic_arn: str) -> str:
    """The JSON SES publishes for a mail its S3 action stored (the fields the app reads, and the
    ones around them that SES sends)."""
    now = datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    verdict = {"status": "PASS"}
    return json.dumps({
        "notificationType": "Received",
        "receipt": {
            "timestamp": now, "processingTimeMillis": 0, "recipients": list(recipients),
            "spamVerdict": verdict, "virusVerdict": verdict, "spfVerdict": verdict, "dkimVerdict": verdict,
            "dmarcVerdict": verdict,
            "action": {"type": "S3", "topicArn": topic_arn, "bucketName": bucket, "objectKey": key},
        },
        "mail": {"timestamp": now, "source": source, "messageId": key, "destination": list(recipients),
                 "headersTruncated": False},
    })


class SesReceipt:
    """Stores a received mail in the mail bucket and announces it on the mail topic, as SES does."""

    def __init__(self, bucket: MailBucket, sns: Any) -> None:
        self.bucket = bucket
        self.sns = sns
        self._topic_arn = ""

    @property
    def topic_arn(self) -> str:
        if not self._topic_arn:  # the topic infra/resources.yaml makes; create_topic just names an existing one
            self._topic_arn = str(self.sns.create_topic(Name=MAIL_TOPIC)["TopicArn"])
        return self._topic_arn

    def receive(self, raw: bytes, recipients: Sequence[str], source: str = "") -> str:
        """Store `raw` under a new key and publish its notification; the key."""
        key = uuid.uuid4().hex
        self.bucket.put(key, raw)
        self.sns.publish(TopicArn=self.topic_arn, Subject="Amazon SES Email Receipt Notification",
                         Message=receipt_notification(self.bucket.name, key, recipients, source, self.topic_arn))
        return key
