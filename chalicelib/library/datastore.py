"""`DAStore`: values kept outside the session, under a key, for the user, the interview, the
session, everyone, or a key prefix of the author's choosing (`base`).

| `base` | key prefix | encrypted by default |
|---|---|---|
| `'user'` (the default) | `da:userid:<user id>`; an anonymous user: `da:userid:t<session id>` | yes |
| `'interview'` | `da:i:<interview file>` | no |
| `'session'` | `da:uid:<session id>:i:<interview file>` | yes |
| `'global'` | `da:global` | no |
| any other text | that text | no |

`encrypted=True/False` overrides the default. An encrypted `'user'` value is sealed under the
signed-in user's own key, so every session of the user reads it and nobody else (not even the
server without the user's password); an anonymous user's, and a `'session'` value, under the
session's key (a `multi_user` session's are signed, as its steps are). Unencrypted values are
signed, so only what this app wrote is ever unpickled.

The object holds no connection: it is pickled with the answers, and reaches the store of the
evaluation running at the time (runtime.datastore).
"""

from __future__ import annotations

from typing import Any

from chalicelib.engine import active
from chalicelib.engine.request import DataStorePort
from chalicelib.library.objects import DAObject

__all__ = ["DAStore"]

_ENCRYPTED_BASES = ("user", "session")


def _port() -> DataStorePort:
    port = active.current().request.datastore
    if port is None:
        raise RuntimeError("DAStore is not available here (no store was given to this evaluation)")
    return port


class DAStore(DAObject):
    """Example::

        objects:
          - userdata: DAStore
        ---
        code: |
          if userdata.defined("prefs"):
            preferences = userdata.get("prefs")
    """

    def init(self, **kwargs: Any) -> None:
        kwargs.setdefault("base", "user")
        super().init(**kwargs)

    def _base(self) -> str:
        return str(self.__dict__.get("base") or "user")

    def _prefix(self) -> str:
        request = active.current().request
        base = self._base()
        if base == "user":
            user = request.user
            return f"da:userid:{user.id}" if user.logged_in and user.id else f"da:userid:t{request.session_id}"
        if base == "interview":
            return f"da:i:{request.interview}"
        if base == "session":
            return f"da:uid:{request.session_id}:i:{request.interview}"
        if base == "global":
            return "da:global"
        return base

    def _scope(self) -> str:
        """Whose key seals an encrypted value: the signed-in user's, or the session's."""
        user = active.current().request.user
        return "user" if self._base() == "user" and user.logged_in and user.id else "session"

    def _key(self, key: Any) -> str:
        return f"{self._prefix()}:{key}"

    def is_encrypted(self) -> bool:
        encrypted = self.__dict__.get("encrypted")
        return self._base() in _ENCRYPTED_BASES if encrypted is None else bool(encrypted)

    def get(self, key: Any) -> Any:
        """The value stored under `key`, or None."""
        return _port().fetch(self._key(key), self.is_encrypted(), self._scope())

    def set(self, key: Any, value: Any) -> None:
        """Store `value` (any picklable value) under `key`, replacing what was there."""
        _port().put(self._key(key), value, self.is_encrypted(), self._scope())

    def defined(self, key: Any) -> bool:
        return self.get(key) is not None

    def delete(self, key: Any) -> None:
        """Forget `key` (nothing happens if it is not stored)."""
        _port().remove(self._key(key))

    def keys(self) -> list[str]:
        prefix = self._prefix() + ":"
        return [name[len(prefix):] for name in _port().names(prefix)]
