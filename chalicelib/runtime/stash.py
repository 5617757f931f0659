"""Stashed data: a value kept outside any session, for whoever holds its key and secret.

`stash_data(data, expire=None)` in an interview, or `POST /api/stash_data`, seals the
value under a key derived from a fresh random secret alone (HKDF, salted with the
stash key), so no session's key and no server key can open it, and stores it under a
fresh random key until it expires (90 days unless `expire` seconds are given). Only
the key and the secret come back; neither is stored.

`retrieve_stashed_data(key, secret, delete=False, refresh=False)` (or
`GET /api/retrieve_stashed_data`) opens it: expiry is checked on read (the table's TTL
removes the item later); `delete=True` forgets it after reading; `refresh=N` keeps it N
more seconds (`True`: the default period). A wrong key, a wrong secret and an expired
stash all fail the same way, so a caller learns nothing about which.
"""

from __future__ import annotations

import time
from typing import Any

from chalicelib.runtime.errors import StashError
from chalicelib.runtime.services import Services
from chalicelib.storage import crypto
from chalicelib.storage.errors import TamperedDataError, WrongSecretError
from chalicelib.storage.records import BlobKind
from chalicelib.storage.sealing import Place

DEFAULT_SECONDS = 90 * 86_400
MAX_SECONDS = 10 * 365 * 86_400  # a stash may be kept ten years at the most
_KEY_LENGTH = 16
_SECRET_LENGTH = 16


def _seconds(value: Any) -> int:
    """A lifetime in seconds: a positive whole number (True or anything else: the default period)."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        return DEFAULT_SECONDS
    try:
        seconds = int(value)
    except ValueError:
        return DEFAULT_SECONDS
    return min(seconds, MAX_SECONDS) if seconds > 0 else DEFAULT_SECONDS


def _place(key: str) -> Place:
    return Place(f"stash:{key}".encode())


def _key(key: str, secret: str) -> bytes:
    return crypto.session_key(secret, f"stash:{key}")


class Stash:
    def __init__(self, services: Services) -> None:
        self.services = services

    def put(self, data: Any, expire: Any = None) -> tuple[str, str]:
        """Stash `data` (anything picklable); its key and the secret that opens it."""
        key, secret = crypto.random_token(_KEY_LENGTH), crypto.random_token(_SECRET_LENGTH)
        sealed = self.services.sealer.seal(data, _place(key), _key(key, secret))
        self.services.store.put_stash(key, sealed, time.time() + _seconds(expire))
        return key, secret

    def get(self, key: str, secret: str, delete: bool = False, refresh: Any = False) -> Any:
        """The stashed data; StashError (one message for every cause) if it cannot be had."""
        found = self.services.store.get_stash(str(key)) if key and secret else None
        if found is None or found[1] <= time.time() or found[0].kind is not BlobKind.ENCRYPTED:
            raise StashError("no stash with this key and secret, or it has expired")
        sealed, _ = found
        try:
            data = self.services.sealer.open(sealed.blob, BlobKind.ENCRYPTED, _place(key), _key(key, str(secret)))
        except (WrongSecretError, TamperedDataError) as err:
            raise StashError("no stash with this key and secret, or it has expired") from err
        if delete:
            self.services.store.delete_stash(key)
        elif refresh:
            self.services.store.put_stash(key, sealed, time.time() + _seconds(refresh))
        return data


class StashForInterview:
    """The `StashPort` of an evaluation: as `Stash`, but a stash that cannot be had is None."""

    def __init__(self, stash: Stash) -> None:
        self.stash = stash

    def put(self, data: Any, expire: Any = None) -> tuple[str, str]:
        return self.stash.put(data, expire)

    def get(self, key: str, secret: str, delete: bool = False, refresh: Any = False) -> Any:
        try:
            return self.stash.get(key, secret, delete, refresh)
        except StashError:
            return None
