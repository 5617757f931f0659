"""The cryptographic primitives: sealing, signing, key wrapping, password and API-key hashing.

Pure functions, no I/O, no policy: which key and which associated data each
stored thing uses is decided in sealing.py alone. A value is pickled and
zlib-compressed, then either

- sealed (encrypted sessions): ``b"E1" + nonce(12) + AES-GCM(ciphertext + tag)``
  under a per-session key derived from the session secret, or
- signed (unencrypted ``multi_user`` sessions):
  ``b"S1" + HMAC-SHA256(key, len(aad) + aad + payload) + payload``.

The associated data `aad` binds a blob to its place (session id and step), so a
blob copied elsewhere fails its check. The caller says which kind it expects
(`open_sealed` or `open_signed`); a blob of the other kind is refused, and each
verifies before it decompresses or unpickles: a forged or damaged blob is never
handed to `pickle.loads`.
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
WRAPPED = b"W1"
MIN_SECRET = 16  # characters of a caller-chosen session secret (generated ones have 16 letters and digits)
_NONCE_BYTES = 12
_GCM_TAG_BYTES = 16
_MAC_BYTES = 32
_ZLIB_LEVEL = 1  # steps are written on every turn: favour speed over ratio
_PICKLE_PROTOCOL = 5
_TAMPERED = "stored step failed its integrity check; refusing to load it"

# scrypt at the cost recommended for passwords (N = 2**17, r = 8, p = 1: ~128 MiB, a few tenths of a second).
_SCRYPT_LOG_N = 17
_SCRYPT_R = 8
_SCRYPT_P = 1
_LEGACY_SCRYPT_LOG_N = 14  # the cost of hashes stored as scrypt$salt$hash, without their parameters
_MAX_SCRYPT_LOG_N = 20  # a stored hash asking for more is refused rather than run
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


def user_session_secret(user_key: bytes, session_id: str) -> str:
    """The secret of a session a signed-in user started: 32 hex digits made from the user's own
    key and the session id, so whoever holds the user's key opens it, and nothing is stored."""
    return hmac.new(user_key, f"session-secret:{session_id}".encode(), hashlib.sha256).hexdigest()[:32]


def user_key_of(secret: str) -> bytes | None:
    """The user's own key when `secret` is one (GET /api/secret: 43 characters of URL-safe
    base64 of 32 bytes), else None."""
    if len(secret) != 43 or not all(c.isalnum() or c in "-_" for c in secret):
        return None
    try:
        key = base64.urlsafe_b64decode(secret + "=")
    except ValueError:
        return None
    return key if len(key) == 32 else None


def key_check(key: bytes) -> str:
    """A short fingerprint of `key` stored in the head: it tells a wrong secret
    (fingerprint differs) from a tampered blob (fingerprint matches, tag fails)."""
    return hmac.new(key, b"key-check", hashlib.sha256).digest()[:16].hex()


def key_check_matches(key: bytes, stored: str) -> bool:
    """Whether `key` has the fingerprint `stored`, compared in constant time."""
    return hmac.compare_digest(key_check(key).encode(), stored.encode())


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
    return pickle.loads(raw)  # only ever reached after the tag or HMAC matched


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


def _body(blob: bytes, prefix: bytes, kind: str) -> bytes:
    """The blob after its prefix, which must be `prefix`: the caller says which kind it expects."""
    found = bytes(blob[:2])
    if found != prefix:
        raise TamperedDataError(
            f"{_TAMPERED} (its record says {kind}, so the blob must start with {prefix!r}; found {found!r})"
        )
    return bytes(blob[2:])


def open_sealed(blob: bytes, *, key: bytes | None, aad: bytes) -> object:
    """Decrypt and load a blob made by `seal`; nothing else is accepted.

    Raises TamperedDataError (never unpickling anything) when it is not a sealed
    blob or fails its tag, and WrongSecretError when `key` is None."""
    return _unpack(_open_sealed(_body(blob, SEALED, "encrypted"), key, aad))


def open_signed(blob: bytes, *, server_key: bytes, aad: bytes) -> object:
    """Verify and load a blob made by `sign`; nothing else is accepted.

    Raises TamperedDataError (never unpickling anything) when it is not a signed
    blob or fails its MAC."""
    return _unpack(_open_signed(_body(blob, SIGNED, "signed"), server_key, aad))


def wrap_key(key: bytes, wrapping_key: bytes, aad: bytes) -> bytes:
    """A key encrypted under another with AES-GCM: ``b"W1" + nonce(12) + ciphertext + tag``.

    Raw bytes, no pickle: unwrapping never loads objects."""
    nonce = os.urandom(_NONCE_BYTES)
    return WRAPPED + nonce + AESGCM(wrapping_key).encrypt(nonce, key, aad)


def unwrap_key(blob: bytes, wrapping_key: bytes, aad: bytes) -> bytes:
    """The key `wrap_key` wrapped; TamperedDataError when the blob fails its tag."""
    return _open_sealed(_body(blob, WRAPPED, "a wrapped key"), wrapping_key, aad)


def _scrypt(password: str, salt: bytes, log_n: int = _SCRYPT_LOG_N, r: int = _SCRYPT_R, p: int = _SCRYPT_P) -> bytes:
    cost = 2**log_n
    return hashlib.scrypt(password.encode(), salt=salt, n=cost, r=r, p=p, dklen=_SCRYPT_BYTES,
                          maxmem=2 * 128 * cost * r * p)


def password_key(password: str, salt: bytes) -> bytes:
    """A 32-byte key stretched from a password with scrypt (the cost of `hash_password`): it wraps
    a user's own key, so a password change re-wraps one key and opens the same sessions."""
    return _scrypt(password, salt)


def hash_password(password: str) -> str:
    """A salted scrypt hash, ``scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt b64>$<hash b64>``.

    The cost travels with the hash, so raising it later leaves old hashes working."""
    salt = os.urandom(_SALT_BYTES)
    digest = _scrypt(password, salt)
    cost = f"ln={_SCRYPT_LOG_N},r={_SCRYPT_R},p={_SCRYPT_P}"
    return f"scrypt${cost}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def _parse_cost(text: str) -> tuple[int, int, int]:
    """(log2 N, r, p) of a stored ``ln=..,r=..,p=..``; ValueError when malformed or out of bounds."""
    fields = dict(part.split("=", 1) for part in text.split(","))
    log_n, r, p = int(fields["ln"]), int(fields["r"]), int(fields["p"])
    if not (_LEGACY_SCRYPT_LOG_N <= log_n <= _MAX_SCRYPT_LOG_N and 1 <= r <= 16 and 1 <= p <= 4):
        raise ValueError(f"scrypt cost out of bounds: ln={log_n}, r={r}, p={p}")
    return log_n, r, p


def _parse_hash(stored: str) -> tuple[tuple[int, int, int], bytes, bytes]:
    """(cost, salt, digest) of a stored hash; the first version's ``scrypt$salt$hash`` had N = 2**14."""
    parts = stored.split("$")
    if parts[0] != "scrypt" or len(parts) not in (3, 4):
        raise ValueError("not an scrypt hash")
    cost = _parse_cost(parts[1]) if len(parts) == 4 else (_LEGACY_SCRYPT_LOG_N, _SCRYPT_R, _SCRYPT_P)
    salt = base64.b64decode(parts[-2], validate=True)
    digest = base64.b64decode(parts[-1], validate=True)
    return cost, salt, digest


def verify_password(password: str, stored: str) -> bool:
    """True if `password` matches the `hash_password` result `stored`.

    A malformed `stored` value is a non-match (it still costs one scrypt)."""
    try:
        cost, salt, expected = _parse_hash(stored)
    except (ValueError, KeyError):
        burn_password_check(password)
        return False
    return hmac.compare_digest(_scrypt(password, salt, *cost), expected)


def burn_password_check(password: str) -> None:
    """Spend the time of one password check; used when there is no user to check
    against, so that timing does not tell whether an e-mail is registered."""
    _scrypt(password, _DUMMY_SALT)


def hash_api_key(key: str) -> str:
    """Hex SHA-256 of an API key. Keys are long random tokens, so no salt or
    stretching is needed, and the hash can be the lookup key."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()  # any str a client sends


def random_token(n: int) -> str:
    """`n` random letters and digits from a cryptographic source."""
    return "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(n))
