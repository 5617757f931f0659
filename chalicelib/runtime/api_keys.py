"""Who an API key belongs to, looked up by the key's hash and cached for a short while.

Keys are stored only as hashes (storage.accounts). A warm container keeps its
lookups for _CACHE_SECONDS, by the hash as stored, so that a flood of huge
made-up keys holds at most _CACHE_ENTRIES small entries.
"""

from __future__ import annotations

import threading
import time

from chalicelib.runtime.services import Services
from chalicelib.storage.crypto import hash_api_key
from chalicelib.storage.records import User

_CACHE_SECONDS = 30.0
_CACHE_ENTRIES = 1000
_cache: dict[str, tuple[float, User | None]] = {}
_lock = threading.Lock()


def user_for_key(services: Services, key: str) -> User | None:
    """The user the key belongs to (None for an unknown key), active or not."""
    now = time.monotonic()
    digest = hash_api_key(key)
    with _lock:
        cached = _cache.get(digest)
    if cached and now - cached[0] < _CACHE_SECONDS:
        return cached[1]
    user = services.accounts.user_for_api_key(key)
    with _lock:
        _cache[digest] = (now, user)
        if len(_cache) > _CACHE_ENTRIES:
            _cache.clear()
    return user


def clear_cache() -> None:
    with _lock:
        _cache.clear()
