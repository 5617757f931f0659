"""The items of the shared values partition that belong to one session, deleted with it.

`DAStore(base='session')` keeps its values under `da:uid:<session id>:…`; an anonymous user's
`DAStore()` and `DAGlobal()` (base 'user', whose user is the session itself) under
`da:userid:t<session id>:…` and `da:daglobal:userid:t<session id>:…` (library.datastore). No
other session reads them, and the encrypted ones are sealed under the session's key, so when
the session is deleted (or purged) they go with it.

In DynamoDB, storing such a value also writes a pointer item `valueref#<key>` in the session's
partition (one transaction), so deleting the session finds them in the listing of its own
items, with no read of the shared partition (as snapshots' pointers do).
"""

from __future__ import annotations

import re

VALUE_POINTER_PREFIX = "valueref#"  # in the session's partition: the key of a value it owns

_OWNED = re.compile(r"da:(?:uid:|userid:t|daglobal:userid:t)([A-Za-z0-9]+):")


def owner_session(key: str) -> str | None:
    """The id of the session that owns the value stored under `key`, or None (a shared value)."""
    found = _OWNED.match(key)
    return found.group(1) if found else None


def owned_by(key: str, session_id: str) -> bool:
    """Whether the value stored under `key` belongs to the session (and goes with it)."""
    return owner_session(key) == session_id
