"""The composition root for stores and interviews.

`Services.from_settings(settings)` wires the DynamoDB/S3 adapters, after reading
the server key from SSM when only its parameter is set; tests and the local
stack can pass in-memory stores instead. AWS clients are created lazily by the
stores themselves, never at import time.

`keys` are the server key's sub-keys and `sealer` the one way to seal, sign and
open what is stored; the raw server key serves for nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chalicelib.language.loader import InterviewLoader
from chalicelib.runtime.direct_uploads import DirectUploads, S3DirectUploads
from chalicelib.runtime.mail_bucket import MailBucket, MemoryMailBucket, S3MailBucket
from chalicelib.runtime.messenger import AwsMessenger, MemoryMessenger, Messenger
from chalicelib.runtime.queue import MemoryTaskQueue, SqsTaskQueue, TaskQueue
from chalicelib.runtime.server_key import with_server_key
from chalicelib.settings import ENV_SERVER_KEY, ENV_SERVER_KEY_PARAMETER, Settings, SettingsError
from chalicelib.storage.accounts import AccountStore
from chalicelib.storage.base import SessionStore
from chalicelib.storage.keys import ServerKeys
from chalicelib.storage.sealing import Sealer


@dataclass(frozen=True)
class Services:
    settings: Settings
    store: SessionStore
    accounts: AccountStore
    loader: InterviewLoader
    queue: TaskQueue
    mail: MailBucket = field(default_factory=MemoryMailBucket)  # raw inbound mail (runtime.mail_in)
    messenger: Messenger = field(default_factory=AwsMessenger)  # SES and SNS, for send_email/send_sms
    direct: DirectUploads | None = None  # browser uploads straight to S3 (runtime.direct_uploads); None: off
    keys: ServerKeys = field(init=False, repr=False)  # the sub-keys of settings.server_key
    sealer: Sealer = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.settings.server_key:
            raise SettingsError(f"the services need the server key: set {ENV_SERVER_KEY}, or build them with"
                                f" Services.from_settings, which reads {ENV_SERVER_KEY_PARAMETER} from SSM")
        object.__setattr__(self, "keys", ServerKeys.derive(self.settings.server_key))
        object.__setattr__(self, "sealer", Sealer(self.keys))

    @classmethod
    def from_settings(cls, settings: Settings, ssm: Any = None,
                      clients: Callable[[str], Any] | None = None) -> Services:
        """The AWS adapters; the server key is read from SSM first if only its parameter is set
        (`ssm`: a boto3 SSM client to use instead of a new one). `clients`, given a service name
        ("dynamodb", "s3", "sqs", "ses", "sns"), makes the boto3 client the adapters use (the local stack's
        in-process ones); without it each adapter makes its own on first use."""
        from chalicelib.storage.accounts import DynamoAccountStore
        from chalicelib.storage.dynamodb import DynamoSessionStore

        settings = with_server_key(settings, ssm)
        dynamodb, s3, sqs = (clients(name) for name in ("dynamodb", "s3", "sqs")) if clients else (None,) * 3
        return cls(
            settings=settings,
            store=DynamoSessionStore(settings.table_name, settings.blob_bucket, client=dynamodb, s3=s3),
            accounts=DynamoAccountStore(settings.table_name, client=dynamodb),
            loader=InterviewLoader(settings.interview_path),
            queue=SqsTaskQueue(settings.task_queue, client=sqs),
            mail=S3MailBucket(settings.mail_bucket, client=s3),
            messenger=AwsMessenger(*(clients(name) for name in ("ses", "sns"))) if clients else AwsMessenger(),
            direct=S3DirectUploads(settings.blob_bucket, client=s3),
        )

    @classmethod
    def in_memory(cls, settings: Settings) -> Services:
        from chalicelib.storage.memory import MemoryAccountStore, MemorySessionStore

        return cls(settings, MemorySessionStore(), MemoryAccountStore(), InterviewLoader(settings.interview_path),
                   MemoryTaskQueue(), messenger=MemoryMessenger())
