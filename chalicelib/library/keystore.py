"""`DARedis`: docassemble's Redis object, kept in DynamoDB (runtime.keystore) so no Redis server
is needed. The methods interviews use behave as Redis's do:

- `key(name)` → `'<interview file>:<name>'` (a namespace; nothing is namespaced by itself);
- `set(key, value, ex=None)`, `get(key)` → bytes or None, `delete(*keys)` → how many went,
  `exists(key)`, `expire(key, seconds)`, `incr(key, amount=1)` → the new number (atomic),
  `keys(pattern='*')` → the matching keys as bytes (glob patterns, as Redis's KEYS);
- `set_data(key, obj, expire=None)` keeps any picklable object, signed with the server's key;
  `get_data(key)` gives it back, or None (missing, expired, or not written by `set_data`).

The object holds no connection: it is pickled with the answers, and reaches the store of the
evaluation running at the time.
"""

from __future__ import annotations

import fnmatch
from typing import Any

from chalicelib.engine import active
from chalicelib.engine.request import KeyStorePort
from chalicelib.library.objects import DAObject

__all__ = ["DARedis"]


def _store() -> KeyStorePort:
    port = active.current().request.keystore
    if port is None:
        raise RuntimeError("DARedis is not available here (no store was given to this evaluation)")
    return port


def _text(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8")


class DARedis(DAObject):
    def key(self, name: str) -> str:
        return f"{active.current().request.interview}:{name}"

    def set(self, key: str, value: Any, ex: float | None = None) -> bool:
        _store().put(str(key), _text(value), ex)
        return True

    def get(self, key: str) -> bytes | None:
        return _store().fetch(str(key))

    def set_data(self, key: str, data: Any, expire: int | None = None) -> None:
        if expire is not None and (not isinstance(expire, int) or expire <= 0):
            raise ValueError(f"expire must be a positive whole number of seconds; found {expire!r}")
        _store().put_data(str(key), data, expire)

    def get_data(self, key: str) -> Any:
        return _store().fetch_data(str(key))

    def incr(self, key: str, amount: int = 1) -> int:
        return _store().add(str(key), int(amount))

    def delete(self, *keys: str) -> int:
        store = _store()
        return sum(store.remove(str(key)) for key in keys)

    def exists(self, *keys: str) -> int:
        store = _store()
        return sum(store.fetch(str(key)) is not None for key in keys)

    def expire(self, key: str, seconds: float) -> bool:
        return _store().expire(str(key), seconds)

    def keys(self, pattern: str = "*") -> list[bytes]:
        return [name.encode("utf-8") for name in _store().names() if fnmatch.fnmatchcase(name, str(pattern))]
