"""A signed-in user's sessions: started under the user's key, adopted, listed, resumed, deleted.

- A session the user starts while signed in has the user as its owner, and its secret
  is made from the user's own key and the session id (`session_secret`), so any browser
  signed in as the user can open it again, and nothing needs to be stored for it.
- A session started anonymously is *adopted* when a signed-in browser that holds it
  shows it: its head gets the user as owner, and its secret (it cannot change without
  sealing every step again) is stored wrapped (AES-GCM) under the user's key in the
  session's extra item `~owner`. One commit, conditioned on the head's version, once.
- My interviews lists the heads of the `by_owner` index; resuming one gives the
  secret that opens it (from `~owner`, else `session_secret`), only to its owner.

The user's key itself is never stored in clear (storage.accounts keeps it wrapped
under a key from the password).
"""

from __future__ import annotations

from dataclasses import replace

from chalicelib.runtime.errors import ConflictError, RuntimeLayerError
from chalicelib.runtime.sessions import SessionRef, Sessions
from chalicelib.storage import crypto
from chalicelib.storage.errors import SessionNotFoundError, TamperedDataError, VersionConflictError
from chalicelib.storage.records import BlobKind, Sealed, SessionHead

OWNER_EXTRA = "~owner"  # no persistent value's label starts with "~" (they are "<scope>:<name>")
_ADOPT_ATTEMPTS = 5
_OLD_KEY = ("This session is not under your account's current key: it was saved before the password was"
            " reset, or started through the API with a secret of its own, so the browser cannot open it."
            " You can delete it.")


class NotYoursError(RuntimeLayerError):
    """A session that is not the signed-in user's, or no longer exists (HTTP 404)."""


def session_secret(user_key: bytes, session_id: str) -> str:
    """The secret of a session the user started while signed in: 32 hex digits."""
    return crypto.user_session_secret(user_key, session_id)


def _aad(session_id: str, user_id: str) -> bytes:
    return f"{session_id}:owner:{user_id}".encode()


class OwnedSessions:
    def __init__(self, sessions: Sessions) -> None:
        self.sessions = sessions
        self.store = sessions.services.store

    def adopt(self, ref: SessionRef, head: SessionHead, user_id: str, user_key: bytes) -> SessionHead:
        """Make the anonymous session `ref` (which the browser holds with its secret) the user's.
        A session with an owner already, or a secret that does not open it, is left as it is."""
        for _ in range(_ADOPT_ATTEMPTS):
            if head.owner or ref.secret is None:
                return head
            if head.encrypted and not crypto.key_check_matches(crypto.session_key(ref.secret, ref.session_id),
                                                               head.key_check):
                return head
            wrapped = crypto.wrap_key(ref.secret.encode(), user_key, _aad(ref.session_id, user_id))
            after = replace(head, owner=user_id, version=head.version + 1)
            try:
                self.store.commit(head, after, None, extras={OWNER_EXTRA: Sealed(wrapped, BlobKind.ENCRYPTED)})
                return after
            except VersionConflictError:
                head = self.store.load(ref.interview, ref.session_id)[0]
        raise ConflictError("the session kept changing while it was being tied to your account; try again")

    def listed(self, user_id: str) -> list[SessionHead]:
        """The user's sessions, latest changed first."""
        return sorted(self.store.list_heads(owner=user_id), key=lambda h: h.modified, reverse=True)

    def _head(self, user_id: str, interview: str, session_id: str) -> SessionHead:
        try:
            head = self.store.load(interview, session_id)[0]
        except SessionNotFoundError as err:
            raise NotYoursError("This session no longer exists.") from err
        if head.owner != user_id or head.interview != interview:
            raise NotYoursError("This session no longer exists.")
        return head

    def resume(self, user_id: str, user_key: bytes, interview: str, session_id: str) -> SessionRef:
        """The reference (with its secret) that opens one of the user's sessions."""
        head = self._head(user_id, interview, session_id)
        sealed = self.store.load_extra(interview, session_id, OWNER_EXTRA)
        if sealed is None:
            secret = session_secret(user_key, session_id)
            if head.encrypted and not crypto.key_check_matches(crypto.session_key(secret, session_id),
                                                               head.key_check):
                raise NotYoursError(_OLD_KEY)
            return SessionRef(interview, session_id, secret)
        try:
            secret = crypto.unwrap_key(sealed.blob, user_key, _aad(session_id, user_id)).decode()
        except (TamperedDataError, UnicodeDecodeError) as err:
            raise NotYoursError(_OLD_KEY) from err
        return SessionRef(interview, session_id, secret)

    def delete(self, user_id: str, interview: str, session_id: str) -> None:
        self._head(user_id, interview, session_id)
        self.store.delete(interview, session_id)

    def delete_all(self, user_id: str) -> int:
        heads = self.listed(user_id)
        for head in heads:
            self.store.delete(head.interview, head.session_id)
        return len(heads)
