"""The transport of outbound e-mail (SES SendRawEmail) and SMS (SNS Publish).

`Messenger` is the port; `AwsMessenger` sends through boto3 clients made on first
use (or given: the local stack's in-process moto), and `MemoryMessenger` keeps
what it was given, for unit tests. Both raise SendRejectedError when the message
is refused for good and SendError for a fault that may pass.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from chalicelib.runtime.errors import SendError, SendRejectedError

# Error codes of SES/SNS that no retry can change.
_REJECTED = frozenset({
    "MessageRejected", "MailFromDomainNotVerifiedException", "ConfigurationSetDoesNotExistException",
    "InvalidParameterValue", "InvalidParameter", "InvalidParameterException", "ValidationError",
    "AccountSendingPausedException", "OptedOut", "AuthorizationError",
})


class Messenger(Protocol):
    def send_email(self, sender: str, recipients: Sequence[str], raw: bytes) -> str:
        """Send one MIME message; the provider's message id."""
        ...

    def send_sms(self, number: str, text: str) -> str:
        """Send one SMS to an E.164 number; the provider's message id."""
        ...


class AwsMessenger:
    def __init__(self, ses: Any = None, sns: Any = None) -> None:
        self._ses, self._sns = ses, sns
        self._lock = threading.Lock()

    def _client(self, name: str) -> Any:
        with self._lock:
            if getattr(self, f"_{name}") is None:
                import boto3

                setattr(self, f"_{name}", boto3.client(name))  # type: ignore[call-overload]
            return getattr(self, f"_{name}")

    def send_email(self, sender: str, recipients: Sequence[str], raw: bytes) -> str:
        with _provider_errors("SES SendRawEmail"):
            reply = self._client("ses").send_raw_email(Source=sender, Destinations=list(recipients),
                                                       RawMessage={"Data": raw})
        return str(reply.get("MessageId", ""))

    def send_sms(self, number: str, text: str) -> str:
        with _provider_errors("SNS Publish"):
            reply = self._client("sns").publish(PhoneNumber=number, Message=text, MessageAttributes={
                "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}})
        return str(reply.get("MessageId", ""))


@contextlib.contextmanager
def _provider_errors(action: str) -> Iterator[None]:
    """botocore's errors as SendRejectedError (refused for good) or SendError (may pass)."""
    try:
        yield
    except Exception as err:
        from botocore.exceptions import BotoCoreError, ClientError

        if isinstance(err, ClientError):
            error = err.response.get("Error", {})
            code = str(error.get("Code", ""))
            text = f"{action} refused the message: {code}: {error.get('Message', '')}"
            raise (SendRejectedError if code in _REJECTED else SendError)(text) from err
        if isinstance(err, BotoCoreError):
            raise SendError(f"{action} failed talking to AWS: {err}") from err
        raise


@dataclass(frozen=True)
class Sent:
    kind: str  # "email" or "sms"
    recipients: tuple[str, ...]
    sender: str = ""
    raw: bytes = b""
    text: str = ""


class MemoryMessenger:
    """Keeps every message it is given in `sent` (unit tests)."""

    def __init__(self) -> None:
        self.sent: list[Sent] = []

    def send_email(self, sender: str, recipients: Sequence[str], raw: bytes) -> str:
        self.sent.append(Sent("email", tuple(recipients), sender, raw))
        return f"memory-{len(self.sent)}"

    def send_sms(self, number: str, text: str) -> str:
        self.sent.append(Sent("sms", (number,), text=text))
        return f"memory-{len(self.sent)}"
