"""The server's keys: one master key, and a sub-key per purpose derived from it.

The master key (SERVER_KEY, or the SSM parameter it is read from on AWS) is
never used directly. Each purpose gets its own 32-byte key through HKDF-SHA256
with a distinct label, so a key leaked from one use (a CSRF token's MAC, say)
says nothing about the others, and no key serves two primitives:

- `csrf`: HMAC of the browser's CSRF tokens;
- `sign`: HMAC of the blobs of unencrypted (`multi_user`) sessions;
- `wrap`: AES-GCM that wraps a session key for the background worker;
- `links`: HMAC of action links (`url_action`), checked before a GET runs an action;
- `outbox`: AES-GCM of a pending e-mail or SMS kept with its send record, so the
  sweep can send it if the process that committed it died first;
- `mail`: AES-GCM that wraps the key of an encrypted session in its mail address's
  record (only with MAIL_ENCRYPTED_SESSIONS), so the mail handler can open it.
- `account`: AES-GCM of the sign-in cookie (it carries the user's key) and HMAC of
  password-reset links.
- `effects`: AES-GCM of what a turn asked to change in another session (values, action,
  the target's key), held only until it is applied (storage.effects), and HMAC of the ids
  of sessions `create_session` makes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MASTER_KEY_BYTES = 32
_SALT = b"serverless-interviews server keys v1"


def _derive(master: bytes, purpose: str) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=f"purpose:{purpose}".encode())
    return hkdf.derive(master)


@dataclass(frozen=True)
class ServerKeys:
    """The sub-keys of one master key (see the module docstring)."""

    csrf: bytes = field(repr=False)
    sign: bytes = field(repr=False)
    wrap: bytes = field(repr=False)
    links: bytes = field(repr=False)
    outbox: bytes = field(repr=False)
    mail: bytes = field(repr=False)
    account: bytes = field(repr=False)
    effects: bytes = field(repr=False)

    @classmethod
    def derive(cls, master: bytes) -> ServerKeys:
        if len(master) < MASTER_KEY_BYTES:
            raise ValueError(f"the server key must be at least {MASTER_KEY_BYTES} bytes, found {len(master)}")
        return cls(csrf=_derive(master, "csrf"), sign=_derive(master, "sign"), wrap=_derive(master, "wrap"),
                   links=_derive(master, "links"), outbox=_derive(master, "outbox"),
                   mail=_derive(master, "mail"), account=_derive(master, "account"),
                   effects=_derive(master, "effects"))
