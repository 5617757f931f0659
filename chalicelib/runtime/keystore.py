"""The shared key-value store behind `DARedis`: values kept in the session table, not in Redis.

Every session of every interview sees the same keys (namespace them with `DARedis.key`).
A value may expire: it is gone for readers from that moment (checked on read) and the
table's TTL removes it later. Adding to a number is one atomic DynamoDB update, so
concurrent `incr` calls never lose a count.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from chalicelib.runtime.services import Services
from chalicelib.storage.errors import TamperedDataError
from chalicelib.storage.records import BlobKind
from chalicelib.storage.sealing import Place

log = logging.getLogger(__name__)

MAX_KEY_CHARS = 512


def _key(key: str) -> str:
    if not key or len(key) > MAX_KEY_CHARS:
        raise ValueError(f"a key is text of 1 to {MAX_KEY_CHARS} characters; found {len(key)} characters")
    return key


class SharedKeyStore:
    """The `KeyStorePort` of an evaluation."""

    def __init__(self, services: Services) -> None:
        self.store = services.store
        self.sealer = services.sealer

    def put(self, key: str, value: bytes, expire: float | None = None) -> None:
        self.store.put_value(_key(key), value, time.time() + expire if expire else 0.0)

    def fetch(self, key: str) -> bytes | None:
        found = self.store.get_value(_key(key))
        if found is None or (found[1] and found[1] <= time.time()):
            return None
        return found[0]

    def add(self, key: str, amount: int) -> int:
        return self.store.add_to_value(_key(key), amount)

    def remove(self, key: str) -> bool:
        return self.store.delete_value(_key(key))

    def names(self) -> list[str]:
        return [key for key in self.store.value_keys() if self.fetch(key) is not None]

    def put_data(self, key: str, data: Any, expire: float | None = None) -> None:
        self.put(key, self.sealer.seal(data, Place(f"value:{key}".encode()), None).blob, expire)

    def fetch_data(self, key: str) -> Any:
        blob = self.fetch(key)
        if blob is None:
            return None
        try:
            return self.sealer.open(blob, BlobKind.SIGNED, Place(f"value:{key}".encode()), None)
        except TamperedDataError:
            log.warning("the value under %r was not written by set_data of this app (or was changed); "
                        "get_data gives None", key)
            return None

    def expire(self, key: str, seconds: float) -> bool:
        value = self.fetch(key)
        if value is None:
            return False
        self.put(key, value, seconds)
        return True
