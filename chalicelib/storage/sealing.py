"""The one place that decides which key protects what, and with which associated data.

Everything the app stores sealed or signed goes through a `Sealer`: the steps,
the extras (persistent values), the files of documents, the payloads and results
of background tasks, their notifications, and the wrapped session keys. Each is
bound to its `Place`, whose associated data names the session and the slot, so
a blob copied to another place fails its check.

- With a session key, a value is *encrypted* (AES-GCM under that key); without
  one (``multi_user`` sessions), it is *signed* (HMAC-SHA256 under the server's
  `sign` sub-key). `seal` returns the blob with its kind, and the caller stores
  the kind in the record that points to the blob.
- `open` takes the kind the record says. A blob of the other kind is refused
  (TamperedDataError) and never unpickled: the blob's own prefix decides nothing.
- A pending e-mail or SMS kept with its send record is encrypted under the
  `outbox` sub-key (`seal_send`), whatever the session's kind: the sweep must
  open it without the session's key. Its record names that seal.
- With MAIL_ENCRYPTED_SESSIONS, the key of an encrypted session is wrapped
  under the `mail` sub-key in the record of each address it handed out
  (`wrap_mail_key`), bound to the session and the address.
- A session key handed to the background worker is wrapped with AES-GCM under
  the `wrap` sub-key, as raw bytes (nothing is unpickled to unwrap it).

The raw server key is used for nothing but deriving the sub-keys (keys.py).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from chalicelib.storage import crypto
from chalicelib.storage.errors import TamperedDataError
from chalicelib.storage.keys import ServerKeys
from chalicelib.storage.records import BlobKind, Sealed


@dataclass(frozen=True)
class Place:
    """Where a blob lives; its `aad` is what binds the blob there. Build it with the class methods."""

    aad: bytes

    @classmethod
    def step(cls, session_id: str, number: int) -> Place:
        return cls(f"{session_id}:step:{number}".encode())

    @classmethod
    def extra(cls, session_id: str, label: str) -> Place:
        return cls(f"{session_id}:extra:{label}".encode())

    @classmethod
    def file(cls, session_id: str, name: str) -> Place:
        return cls(f"{session_id}:file:{name}".encode())

    @classmethod
    def task_payload(cls, session_id: str, task_id: str) -> Place:
        return cls._task(session_id, task_id, "payload")

    @classmethod
    def task_result(cls, session_id: str, task_id: str) -> Place:
        return cls._task(session_id, task_id, "result")

    @classmethod
    def note(cls, session_id: str, note_id: str) -> Place:
        return cls(f"{session_id}:note:{note_id}".encode())

    @classmethod
    def mail(cls, session_id: str, mail_id: str) -> Place:
        return cls(f"{session_id}:mail:{mail_id}".encode())

    @classmethod
    def send(cls, session_id: str, key: str) -> Place:
        return cls(f"{session_id}:send:{key}".encode())

    @classmethod
    def snapshot(cls, session_id: str, interview: str, tag: str) -> Place:
        return cls(f"{session_id}:snapshot:{len(interview)}:{interview}:{tag}".encode())

    @classmethod
    def _task(cls, session_id: str, task_id: str, part: str) -> Place:
        return cls(f"{session_id}:task:{task_id}:{part}".encode())


class Sealer:
    """Seals, signs and opens the app's stored blobs with the server's sub-keys."""

    def __init__(self, keys: ServerKeys) -> None:
        self._keys = keys

    def seal(self, value: object, place: Place, key: bytes | None) -> Sealed:
        """`value` encrypted under the session `key`, or signed when there is no key."""
        if key is not None:
            return Sealed(crypto.seal(value, key, place.aad), BlobKind.ENCRYPTED)
        return Sealed(crypto.sign(value, self._keys.sign, place.aad), BlobKind.SIGNED)

    def open(self, blob: bytes, kind: BlobKind, place: Place, key: bytes | None) -> object:
        """The value of a blob of the `kind` its record names.

        Raises TamperedDataError when the blob is of another kind or fails its check
        (nothing is unpickled then), WrongSecretError for an encrypted blob without `key`."""
        if kind is BlobKind.ENCRYPTED:
            return crypto.open_sealed(blob, key=key, aad=place.aad)
        return crypto.open_signed(blob, server_key=self._keys.sign, aad=place.aad)

    def seal_send(self, message: dict[str, object], session_id: str, key: str) -> bytes:
        """A pending message (plain data) encrypted under the `outbox` sub-key, bound to its send."""
        return crypto.seal(message, self._keys.outbox, Place.send(session_id, key).aad)

    def open_send(self, blob: bytes, session_id: str, key: str) -> dict[str, object]:
        """What `seal_send` sealed for this send; TamperedDataError when it fails its tag."""
        value = crypto.open_sealed(blob, key=self._keys.outbox, aad=Place.send(session_id, key).aad)
        if not isinstance(value, dict):
            raise TamperedDataError("a pending message's payload is not a message")
        return value

    def wrap_mail_key(self, key: bytes, session_id: str, short: str) -> bytes:
        """The session key for the mail handler, encrypted under the `mail` sub-key, bound to the address."""
        return crypto.wrap_key(key, self._keys.mail, f"{session_id}:mailaddr:{short}:key".encode())

    def unwrap_mail_key(self, blob: bytes, session_id: str, short: str) -> bytes:
        """The key `wrap_mail_key` wrapped for this address; TamperedDataError when it fails its tag."""
        return crypto.unwrap_key(blob, self._keys.mail, f"{session_id}:mailaddr:{short}:key".encode())

    def seal_effect(self, value: object, session_id: str, effect_key: str) -> bytes:
        """What an effect on another session needs (storage.effects), encrypted under the `effects`
        sub-key and bound to the calling session and the effect's key."""
        return crypto.seal(value, self._keys.effects, _effect_aad(session_id, effect_key))

    def open_effect(self, blob: bytes, session_id: str, effect_key: str) -> object:
        """The value `seal_effect` sealed there; TamperedDataError when it fails its tag."""
        return crypto.open_sealed(blob, key=self._keys.effects, aad=_effect_aad(session_id, effect_key))

    def derived_id(self, *parts: str) -> bytes:
        """A MAC of `parts` under the `effects` sub-key: ids nobody can guess but this server can derive
        again (create_session's session id, from the calling turn and the call's place in it)."""
        return hmac.new(self._keys.effects, "\x1f".join(parts).encode(), hashlib.sha256).digest()

    def wrap_key(self, key: bytes, session_id: str, task_id: str) -> bytes:
        """The session key for a background task, encrypted under the `wrap` sub-key."""
        return crypto.wrap_key(key, self._keys.wrap, Place._task(session_id, task_id, "key").aad)

    def unwrap_key(self, blob: bytes, session_id: str, task_id: str) -> bytes:
        """The key `wrap_key` wrapped for this task; TamperedDataError when it fails its tag."""
        return crypto.unwrap_key(blob, self._keys.wrap, Place._task(session_id, task_id, "key").aad)


def _effect_aad(session_id: str, effect_key: str) -> bytes:
    return f"{session_id}:effect:{effect_key}".encode()
