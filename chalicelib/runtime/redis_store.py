"""DARedis on a real Redis server (REDIS_URL), through the maintained `redis` client.

The same port as the DynamoDB store (runtime.keystore): values are bytes, an expiry is Redis's
own, `incr` is Redis's atomic INCRBY, and `set_data` values are signed with the server's key
exactly as there, so only what this app wrote is ever unpickled. One client (with its
connection pool) per URL and process; it connects when first used.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from chalicelib.runtime.keystore import SharedKeyStore, _key
from chalicelib.runtime.services import Services

if TYPE_CHECKING:
    import redis

_clients: dict[str, redis.Redis] = {}
_lock = threading.Lock()


def client(url: str) -> redis.Redis:
    with _lock:
        found = _clients.get(url)
        if found is None:
            import redis  # on first use: it takes a while to import

            found = redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=10)
            _clients[url] = found
        return found


class RedisKeyStore(SharedKeyStore):
    """The `KeyStorePort` of an evaluation when REDIS_URL is set."""

    def __init__(self, services: Services) -> None:
        super().__init__(services)
        self.redis: Any = client(services.settings.redis_url)  # its stubs mix in the asyncio client's types

    def put(self, key: str, value: bytes, expire: float | None = None) -> None:
        self.redis.set(_key(key), value, px=max(1, int(expire * 1000)) if expire else None)

    def fetch(self, key: str) -> bytes | None:
        found = self.redis.get(_key(key))
        return bytes(found) if found is not None else None

    def add(self, key: str, amount: int) -> int:
        return int(self.redis.incrby(_key(key), amount))

    def remove(self, key: str) -> bool:
        return bool(self.redis.delete(_key(key)))

    def names(self) -> list[str]:
        return [name.decode("utf-8", errors="replace") for name in self.redis.scan_iter(count=500)]

    def expire(self, key: str, seconds: float) -> bool:
        return bool(self.redis.pexpire(_key(key), max(1, int(seconds * 1000))))


def shared_keystore(services: Services) -> SharedKeyStore:
    """DARedis's store: this real Redis when REDIS_URL is set, else the table (runtime.keystore)."""
    return RedisKeyStore(services) if services.settings.redis_url else SharedKeyStore(services)
