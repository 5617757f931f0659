"""The composition root for stores and interviews.

`Services.from_settings(settings)` wires the DynamoDB/S3 adapters; tests and
the local stack can pass in-memory stores instead. AWS clients are created
lazily by the stores themselves, never at import time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from chalicelib.language.loader import InterviewLoader
from chalicelib.runtime.queue import MemoryTaskQueue, SqsTaskQueue, TaskQueue
from chalicelib.settings import Settings
from chalicelib.storage.accounts import AccountStore
from chalicelib.storage.base import SessionStore
from chalicelib.storage.keys import ServerKeys


@dataclass(frozen=True)
class Services:
    settings: Settings
    store: SessionStore
    accounts: AccountStore
    loader: InterviewLoader
    queue: TaskQueue
    keys: ServerKeys = field(init=False, repr=False)  # the sub-keys of settings.server_key

    def __post_init__(self) -> None:
        object.__setattr__(self, "keys", ServerKeys.derive(self.settings.server_key))

    @classmethod
    def from_settings(cls, settings: Settings) -> Services:
        from chalicelib.storage.accounts import DynamoAccountStore
        from chalicelib.storage.dynamodb import DynamoSessionStore

        return cls(
            settings=settings,
            store=DynamoSessionStore(settings.table_name, settings.blob_bucket),
            accounts=DynamoAccountStore(settings.table_name),
            loader=InterviewLoader(settings.interview_path),
            queue=SqsTaskQueue(settings.task_queue),
        )

    @classmethod
    def in_memory(cls, settings: Settings) -> Services:
        from chalicelib.storage.memory import MemoryAccountStore, MemorySessionStore

        return cls(settings, MemorySessionStore(), MemoryAccountStore(), InterviewLoader(settings.interview_path),
                   MemoryTaskQueue())
