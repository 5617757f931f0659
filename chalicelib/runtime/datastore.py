"""The store behind `DAStore` (library.datastore): values in the shared values partition.

Each value is sealed by the app's `Sealer`, bound to its key (`Place` "dastore:<key>"): an
encrypted one under the signed-in user's own key (scope "user") or the session's key (scope
"session"), else signed. What the DAStore object asks for (encrypted or not) decides how a
value is opened, never the stored bytes. An encrypted value with no key to seal it (a
`'user'` value in a turn without the user's key: an API call, a background task) is refused
with a message that says what to do, rather than stored less protected.
"""

from __future__ import annotations

import logging
from typing import Any

from chalicelib.runtime.errors import RuntimeLayerError
from chalicelib.runtime.services import Services
from chalicelib.storage.errors import TamperedDataError, WrongSecretError
from chalicelib.storage.records import BlobKind
from chalicelib.storage.sealing import Place

log = logging.getLogger(__name__)

MAX_KEY_CHARS = 512


class DataStoreKeyError(RuntimeLayerError):
    """An encrypted DAStore value without the key that protects it."""


def _checked(key: str) -> str:
    if not key or len(key) > MAX_KEY_CHARS:
        raise ValueError(f"a DAStore key is text of 1 to {MAX_KEY_CHARS} characters with its prefix;"
                         f" found {len(key)} characters")
    return key


class SessionDataStore:
    """The `DataStorePort` of one evaluation: the session's key and, in a signed-in browser, the user's."""

    def __init__(self, services: Services, session_key: bytes | None, user_key: bytes | None,
                 session_encrypted: bool) -> None:
        self.store = services.store
        self.sealer = services.sealer
        self._session_key = session_key
        self._user_key = user_key
        self._session_encrypted = session_encrypted

    def _seal_key(self, encrypted: bool, scope: str) -> bytes | None:
        """The key of an encrypted value; None for a signed one (unencrypted, or in a multi_user session)."""
        if not encrypted:
            return None
        if scope == "user":
            if self._user_key is None:
                raise DataStoreKeyError(
                    "DAStore(base='user') is encrypted with the signed-in user's own key, which this turn does"
                    " not have (it is neither a signed-in browser's nor an API call whose secret is the API key owner's"
                    " own secret from GET /api/secret); send that secret, or use encrypted=False or base='session'")
            return self._user_key
        if not self._session_encrypted:
            return None  # a multi_user session's values are signed, as its steps are
        return self._session_key

    def put(self, key: str, data: Any, encrypted: bool, scope: str) -> None:
        key = _checked(key)
        sealed = self.sealer.seal(data, Place(f"dastore:{key}".encode()), self._seal_key(encrypted, scope))
        self.store.put_value(key, sealed.blob, 0.0)

    def fetch(self, key: str, encrypted: bool, scope: str) -> Any:
        found = self.store.get_value(_checked(key))
        if found is None:
            return None
        seal_key = self._seal_key(encrypted, scope)
        kind = BlobKind.ENCRYPTED if seal_key is not None else BlobKind.SIGNED
        try:
            return self.sealer.open(found[0], kind, Place(f"dastore:{key}".encode()), seal_key)
        except (TamperedDataError, WrongSecretError) as err:
            raise DataStoreKeyError(f"the DAStore value {key!r} cannot be read with this key: it was stored"
                                    " by another user or session, or with other settings") from err

    def remove(self, key: str) -> None:
        self.store.delete_value(_checked(key))

    def names(self, prefix: str) -> list[str]:
        return sorted(name for name in self.store.value_keys() if name.startswith(prefix))
