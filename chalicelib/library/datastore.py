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

import secrets
from typing import Any

from chalicelib.engine import active
from chalicelib.engine.request import DataStorePort
from chalicelib.library.objects import DAObject

__all__ = ["DAGlobal", "DAStore"]

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


_GLOBAL_OWN = frozenset({"instanceName", "has_nonrandom_instance_name", "base", "key", "_loaded"})


def _global_scope(base: str) -> str:
    request = active.current().request
    if base == "global":
        return "global"
    if base == "interview":
        return f"i:{request.interview}"
    user = request.user
    return f"userid:{user.id}" if user.logged_in and user.id else f"userid:t{request.session_id}"


def _global_key(base: str, key: str) -> str:
    return f"da:daglobal:{_global_scope(base)}:{key}"


class DAGlobal(DAObject):
    """Attributes kept outside the answers, shared by every session of the user (`base='user'`, the
    default), of the interview (`'interview'`) or of everyone (`'global'`), under `key` (random
    unless given). They are signed, not encrypted, and not versioned: Back does not undo them.

    Example::

        objects:
          - counter: DAGlobal.using(base='interview', key='visits')

    Each attribute set is stored at once; one changed inside (``g.items.append(x)``) is stored when
    the attribute is set again (``g.items = g.items``). ``.delete()`` forgets them all.
    """

    def init(self, **kwargs: Any) -> None:
        object.__setattr__(self, "base", str(kwargs.pop("base", "user")))
        object.__setattr__(self, "key", str(kwargs.pop("key", None) or secrets.token_hex(16)))
        self._load()
        super().init(**kwargs)

    def _name(self) -> str:
        return _global_key(str(self.__dict__["base"]), str(self.__dict__["key"]))

    def _load(self) -> None:
        if self.__dict__.get("_loaded"):
            return
        stored = _port().fetch(self._name(), False, "global")
        object.__setattr__(self, "_loaded", True)
        for name, value in (stored or {}).items():
            object.__setattr__(self, name, value)

    def _values(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k not in _GLOBAL_OWN}

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        if name in _GLOBAL_OWN or name.startswith("_") or "key" not in self.__dict__:
            return
        self._load()
        object.__setattr__(self, name, value)
        _port().put(self._name(), self._values(), False, "global")

    def __getattr__(self, attr: str) -> Any:
        if not attr.startswith("_") and "key" in self.__dict__ and not self.__dict__.get("_loaded"):
            self._load()
            if attr in self.__dict__:
                return self.__dict__[attr]
        return super().__getattr__(attr)

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k in _GLOBAL_OWN and k != "_loaded"}

    def delete(self) -> None:
        """Forget every attribute stored under this object's key."""
        for name in list(self._values()):
            object.__delattr__(self, name)
        _port().remove(self._name())

    @classmethod
    def keys(cls, base: str = "user") -> list[str]:
        prefix = _global_key(base, "")
        return [name[len(prefix):] for name in _port().names(prefix)]

    def defined(self: Any, *args: str) -> bool:
        """``g.defined('attr')``: the attribute is stored; ``DAGlobal.defined(base, key)`` (called on the
        class, as docassemble's): an object with that key is."""
        if isinstance(self, DAGlobal):
            self._load()
            return DAObject.defined(self, *args)
        return _port().fetch(_global_key(str(self), str(args[0])), False, "global") is not None

    @classmethod
    def remove(cls, base: str, key: str) -> None:
        _port().remove(_global_key(base, key))
