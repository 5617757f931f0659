"""Sealing and signing of stored steps, password and API-key hashing.

Pure functions, no I/O. A step is pickled and zlib-compressed, then either

- sealed (encrypted sessions): ``b"E1" + nonce(12) + AES-GCM(ciphertext + tag)``
  under a per-session key derived from the session secret, or
- signed (unencrypted ``multi_user`` sessions):
  ``b"S1" + HMAC-SHA256(server key, len(aad) + aad + payload) + payload``.

The associated data `aad` binds a blob to its place (session id and step), so a
blob copied elsewhere fails its check. `unseal` verifies before it decompresses
or unpickles: a forged or damaged blob is never handed to `pickle.loads`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import pickle
import secrets
import string
import zlib

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from chalicelib.storage.errors import StorageError, TamperedDataError, WrongSecretError

SEALED = b"E1"
SIGNED = b"S1"
_NONCE_BYTES = 12
_GCM_TAG_BYTES = 16
_MAC_BYTES = 32
_ZLIB_LEVEL = 1  # steps are written on every turn: favour speed over ratio
_PICKLE_PROTOCOL = 5
_TAMPERED = "stored step failed its integrity check; refusing to load it"

_SCRYPT_N = 2**14
_SCRYPT_R = 8
_SCRYPT_P = 1
_SCRYPT_BYTES = 32
_SALT_BYTES = 16
_TOKEN_ALPHABET = string.ascii_letters + string.digits
# A hash to check against when the user does not exist, so that the answer takes
# as long as for a wrong password and does not reveal which e-mails are registered.
_DUMMY_SALT = b"\0" * _SALT_BYTES


def session_key(secret: str, session_id: str) -> bytes:
    """The 32-byte AES key of one session, derived from its secret (HKDF-SHA256).

    The secret is already high-entropy (random token or an unwrapped user key),
    so a fast KDF is enough; password stretching happens elsewhere (scrypt)."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=session_id.encode(), info=b"session")
    return hkdf.derive(secret.encode())


def key_check(key: bytes) -> str:
    """A short fingerprint of `key` stored in the head: it tells a wrong secret
    (fingerprint differs) from a tampered blob (fingerprint matches, tag fails)."""
    return hmac.new(key, b"key-check", hashlib.sha256).digest()[:16].hex()


def _pack(obj: object) -> bytes:
    return zlib.compress(pickle.dumps(obj, protocol=_PICKLE_PROTOCOL), _ZLIB_LEVEL)


def _unpack(payload: bytes) -> object:
    """Decompress and unpickle a payload whose authenticity was already verified."""
    try:
        raw = zlib.decompress(payload)
    except zlib.error as err:
        raise StorageError(
            f"a verified step could not be decompressed ({err}); it was written by incompatible code"
        ) from err
    return pickle.loads(raw)  # noqa: S301 -- only ever reached after the tag or HMAC matched


def seal(obj: object, key: bytes, aad: bytes) -> bytes:
    """Encrypt `obj` for an encrypted session: pickle, compress, AES-GCM."""
    nonce = os.urandom(_NONCE_BYTES)
    return SEALED + nonce + AESGCM(key).encrypt(nonce, _pack(obj), aad)


def _mac(server_key: bytes, aad: bytes, payload: bytes) -> bytes:
    # The length prefix keeps (aad, payload) pairs unambiguous: no other split of
    # the same bytes into aad + payload gives the same MAC input.
    framed = len(aad).to_bytes(4, "big") + aad + payload
    return hmac.new(server_key, framed, hashlib.sha256).digest()


def sign(obj: object, server_key: bytes, aad: bytes) -> bytes:
    """Sign `obj` for an unencrypted session: pickle, compress, HMAC-SHA256."""
    payload = _pack(obj)
    return SIGNED + _mac(server_key, aad, payload) + payload


def _open_sealed(body: bytes, key: bytes | None, aad: bytes) -> bytes:
    if key is None:
        raise WrongSecretError(
            "this step is encrypted but no session key was given; open it with the session's secret"
        )
    if len(body) < _NONCE_BYTES + _GCM_TAG_BYTES:
        raise TamperedDataError(f"{_TAMPERED} (sealed blob truncated to {len(body) + 2} bytes)")
    nonce, ciphertext = body[:_NONCE_BYTES], body[_NONCE_BYTES:]
    try:
        return AESGCM(key).decrypt(nonce, ciphertext, aad)
    except InvalidTag as err:
        raise TamperedDataError(f"{_TAMPERED} (AES-GCM tag mismatch: wrong key or altered data)") from err


def _open_signed(body: bytes, server_key: bytes, aad: bytes) -> bytes:
    if len(body) < _MAC_BYTES:
        raise TamperedDataError(f"{_TAMPERED} (signed blob truncated to {len(body) + 2} bytes)")
    mac, payload = body[:_MAC_BYTES], body[_MAC_BYTES:]
    if not hmac.compare_digest(mac, _mac(server_key, aad, payload)):
        raise TamperedDataError(f"{_TAMPERED} (HMAC mismatch: altered data or another server key)")
    return payload


def unseal(blob: bytes, *, key: bytes | None, server_key: bytes, aad: bytes) -> object:
    """Verify and load a blob made by `seal` or `sign`.

    Raises TamperedDataError (never unpickling anything) when the blob fails its
    check, and WrongSecretError for a sealed blob when `key` is None."""
    prefix, body = bytes(blob[:2]), bytes(blob[2:])
    if prefix == SEALED:
        payload = _open_sealed(body, key, aad)
    elif prefix == SIGNED:
        payload = _open_signed(body, server_key, aad)
    else:
        raise TamperedDataError(f"{_TAMPERED} (expected prefix E1 or S1, found {prefix!r})")
    return _unpack(payload)


def _scrypt(password: str, salt: bytes) -> bytes:
    return hashlib.scrypt(
        password.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=_SCRYPT_BYTES
    )


def hash_password(password: str) -> str:
    """A salted scrypt hash, stored as ``scrypt$<salt b64>$<hash b64>``."""
    salt = os.urandom(_SALT_BYTES)
    digest = _scrypt(password, salt)
    return f"scrypt${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    """True if `password` matches the `hash_password` result `stored`.

    A malformed `stored` value is a non-match (it still costs one scrypt)."""
    try:
        scheme, salt_b64, digest_b64 = stored.split("$")
        salt = base64.b64decode(salt_b64, validate=True)
        expected = base64.b64decode(digest_b64, validate=True)
    except ValueError:
        scheme, salt, expected = "", _DUMMY_SALT, b""
    actual = _scrypt(password, salt if scheme == "scrypt" else _DUMMY_SALT)
    return scheme == "scrypt" and hmac.compare_digest(actual, expected)


def burn_password_check(password: str) -> None:
    """Spend the time of one password check; used when there is no user to check
    against, so that timing does not tell whether an e-mail is registered."""
    _scrypt(password, _DUMMY_SALT)


def hash_api_key(key: str) -> str:
    """Hex SHA-256 of an API key. Keys are long random tokens, so no salt or
    stretching is needed, and the hash can be the lookup key."""
    return hashlib.sha256(key.encode()).hexdigest()


def random_token(n: int) -> str:
    """`n` random letters and digits from a cryptographic source."""
    return "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(n))
