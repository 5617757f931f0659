"""Sealing, signing, key wrapping and hashing in chalicelib.storage.crypto."""

from __future__ import annotations

import base64
import hashlib
import string

import pytest

from chalicelib.storage import crypto
from chalicelib.storage.errors import TamperedDataError, WrongSecretError

SERVER_KEY = b"k" * 32
AAD = b"session-abc#1"
ANSWERS = {"name": "Ada", "answer": "the plaintext answer 6f1c"}

# Records every unpickling of a Canary: if a test finds it non-empty after a
# refused blob, pickle.loads was reached with attacker-controlled bytes.
UNPICKLED: list[str] = []


def _record_unpickling(tag: str) -> str:
    UNPICKLED.append(tag)
    return tag


class Canary:
    """An object whose unpickling has a visible side effect."""

    def __init__(self, tag: str) -> None:
        self.tag = tag

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return _record_unpickling, (self.tag,)


@pytest.fixture(autouse=True)
def _clean_canary() -> None:
    UNPICKLED.clear()


def _flipped(blob: bytes, index: int) -> bytes:
    return blob[:index] + bytes([blob[index] ^ 0x01]) + blob[index + 1 :]


def _key(secret: str = "secret-1") -> bytes:
    return crypto.session_key(secret, "session-abc")


# -- keys ----------------------------------------------------------------------


def test_session_key_is_32_bytes_and_the_same_for_the_same_inputs() -> None:
    # Given / When: the key of one secret and session derived twice
    first, second = _key(), _key()
    # Then
    assert len(first) == 32
    assert first == second


def test_session_key_differs_per_secret_and_per_session() -> None:
    # Given / When: keys varying only the secret, or only the session id
    keys = {
        crypto.session_key("s1", "id1"),
        crypto.session_key("s2", "id1"),
        crypto.session_key("s1", "id2"),
    }
    # Then
    assert len(keys) == 3


def test_key_check_tells_keys_apart_and_is_32_hex_digits() -> None:
    # Given: two different keys
    # When
    check_a, check_b = crypto.key_check(_key("a")), crypto.key_check(_key("b"))
    # Then
    assert check_a != check_b
    assert len(check_a) == 32
    assert set(check_a) <= set(string.hexdigits)
    assert check_a == crypto.key_check(_key("a"))


def test_key_check_matches_only_the_keys_own_fingerprint() -> None:
    # Given: the fingerprint stored for one key
    stored = crypto.key_check(_key("a"))
    # When / Then: only that key matches; a damaged or foreign stored value never does (and never raises)
    assert crypto.key_check_matches(_key("a"), stored)
    assert not crypto.key_check_matches(_key("b"), stored)
    for damaged in ("", stored[:-1], stored.upper(), "é" * 32):
        assert not crypto.key_check_matches(_key("a"), damaged)


# -- sealing and signing -------------------------------------------------------


def test_sealed_answers_round_trip() -> None:
    # Given
    blob = crypto.seal(ANSWERS, _key(), AAD)
    # When
    loaded = crypto.open_sealed(blob, key=_key(), aad=AAD)
    # Then
    assert blob.startswith(b"E1")
    assert loaded == ANSWERS


def test_signed_answers_round_trip() -> None:
    # Given
    blob = crypto.sign(ANSWERS, SERVER_KEY, AAD)
    # When
    loaded = crypto.open_signed(blob, server_key=SERVER_KEY, aad=AAD)
    # Then
    assert blob.startswith(b"S1")
    assert loaded == ANSWERS


def test_sealing_twice_gives_different_bytes() -> None:
    # Given / When: the same answers sealed twice (fresh nonce each time)
    # Then
    assert crypto.seal(ANSWERS, _key(), AAD) != crypto.seal(ANSWERS, _key(), AAD)


def test_sealed_bytes_do_not_contain_the_plaintext_answer() -> None:
    # Given: answers holding a known string, repeated so compression alone would not hide it
    answers = {"answer": "the plaintext answer 6f1c", "copies": ["the plaintext answer 6f1c"] * 3}
    # When
    blob = crypto.seal(answers, _key(), AAD)
    # Then
    assert b"the plaintext answer 6f1c" not in blob
    assert b"plaintext" not in blob


def test_sealed_blob_under_a_wrong_key_is_refused() -> None:
    # Given: a blob sealed with one secret
    blob = crypto.seal(ANSWERS, _key("right"), AAD)
    # When / Then: opening it with another secret fails the tag check
    with pytest.raises(TamperedDataError, match="integrity check"):
        crypto.open_sealed(blob, key=_key("wrong"), aad=AAD)


def test_wrong_key_is_told_apart_from_tampering_by_the_key_check() -> None:
    # Given: the key check stored with the session, and a wrong key
    stored_check = crypto.key_check(_key("right"))
    # When
    wrong_check = crypto.key_check(_key("wrong"))
    # Then
    assert wrong_check != stored_check


def test_sealed_blob_without_a_key_raises_wrong_secret() -> None:
    # Given
    blob = crypto.seal(ANSWERS, _key(), AAD)
    # When / Then
    with pytest.raises(WrongSecretError):
        crypto.open_sealed(blob, key=None, aad=AAD)


def test_sealed_blob_moved_to_another_step_is_refused() -> None:
    # Given: a blob sealed for step 1
    blob = crypto.seal(ANSWERS, _key(), b"session-abc#1")
    # When / Then: it is presented as step 2
    with pytest.raises(TamperedDataError):
        crypto.open_sealed(blob, key=_key(), aad=b"session-abc#2")


def test_signed_blob_moved_to_another_step_is_refused() -> None:
    # Given
    blob = crypto.sign(ANSWERS, SERVER_KEY, b"session-abc#1")
    # When / Then
    with pytest.raises(TamperedDataError):
        crypto.open_signed(blob, server_key=SERVER_KEY, aad=b"session-abc#2")


def test_signed_blob_under_another_server_key_is_refused() -> None:
    # Given
    blob = crypto.sign(ANSWERS, SERVER_KEY, AAD)
    # When / Then
    with pytest.raises(TamperedDataError):
        crypto.open_signed(blob, server_key=b"x" * 32, aad=AAD)


def test_canary_records_its_unpickling_when_the_blob_is_intact() -> None:
    # Given: the control for the tampering tests below
    blob = crypto.seal(Canary("intact"), _key(), AAD)
    # When
    crypto.open_sealed(blob, key=_key(), aad=AAD)
    # Then: the canary does report unpickling
    assert UNPICKLED == ["intact"]


def test_flipping_any_byte_of_a_sealed_blob_is_refused_without_unpickling() -> None:
    # Given: a sealed object whose unpickling leaves a trace
    blob = crypto.seal(Canary("sealed"), _key(), AAD)
    for index in range(len(blob)):
        # When: one byte is altered
        tampered = _flipped(blob, index)
        # Then: it is refused, and nothing was unpickled
        with pytest.raises(TamperedDataError, match="refusing to load it"):
            crypto.open_sealed(tampered, key=_key(), aad=AAD)
    assert UNPICKLED == []


def test_flipping_any_byte_of_a_signed_blob_is_refused_without_unpickling() -> None:
    # Given
    blob = crypto.sign(Canary("signed"), SERVER_KEY, AAD)
    for index in range(len(blob)):
        # When
        tampered = _flipped(blob, index)
        # Then
        with pytest.raises(TamperedDataError, match="refusing to load it"):
            crypto.open_signed(tampered, server_key=SERVER_KEY, aad=AAD)
    assert UNPICKLED == []


@pytest.mark.parametrize("make", ["seal", "sign"])
def test_truncated_blobs_are_refused_without_unpickling(make: str) -> None:
    # Given
    key = _key()
    blob = (
        crypto.seal(Canary("cut"), key, AAD)
        if make == "seal"
        else crypto.sign(Canary("cut"), SERVER_KEY, AAD)
    )
    for length in range(len(blob)):
        # When / Then: every prefix of the blob is refused
        with pytest.raises(TamperedDataError):
            if make == "seal":
                crypto.open_sealed(blob[:length], key=key, aad=AAD)
            else:
                crypto.open_signed(blob[:length], server_key=SERVER_KEY, aad=AAD)
    assert UNPICKLED == []


def test_a_raw_pickle_with_a_forged_prefix_is_refused_without_unpickling() -> None:
    # Given: an attacker's pickle stored as if it were signed, with a guessed MAC
    import pickle
    import zlib

    payload = zlib.compress(pickle.dumps(Canary("forged")))
    forged = b"S1" + b"\0" * 32 + payload
    # When / Then
    with pytest.raises(TamperedDataError):
        crypto.open_signed(forged, server_key=SERVER_KEY, aad=AAD)
    with pytest.raises(TamperedDataError, match="must start with"):
        crypto.open_signed(pickle.dumps(Canary("bare")), server_key=SERVER_KEY, aad=AAD)
    with pytest.raises(TamperedDataError, match="must start with"):
        crypto.open_sealed(pickle.dumps(Canary("bare")), key=_key(), aad=AAD)
    assert UNPICKLED == []


def test_a_valid_signed_blob_is_refused_where_an_encrypted_one_is_expected_without_unpickling() -> None:
    # Given: a blob correctly signed for this very place, holding an object whose unpickling shows
    blob = crypto.sign(Canary("signed"), SERVER_KEY, AAD)
    # When / Then: the caller expects an encrypted blob (the record says so): refused, nothing unpickled
    with pytest.raises(TamperedDataError, match="says encrypted"):
        crypto.open_sealed(blob, key=_key(), aad=AAD)
    with pytest.raises(TamperedDataError, match="says encrypted"):
        crypto.open_sealed(blob, key=SERVER_KEY, aad=AAD)
    assert UNPICKLED == []


def test_a_valid_sealed_blob_is_refused_where_a_signed_one_is_expected() -> None:
    # Given
    blob = crypto.seal(Canary("sealed"), _key(), AAD)
    # When / Then
    with pytest.raises(TamperedDataError, match="says signed"):
        crypto.open_signed(blob, server_key=SERVER_KEY, aad=AAD)
    assert UNPICKLED == []


# -- key wrapping --------------------------------------------------------------


def test_a_wrapped_key_unwraps_only_with_its_wrapping_key_and_place() -> None:
    # Given: a session key wrapped for one task
    wrapped = crypto.wrap_key(_key(), SERVER_KEY, b"task-1")
    # When / Then: it unwraps to the key, and the key is not in the wrapped bytes
    assert crypto.unwrap_key(wrapped, SERVER_KEY, b"task-1") == _key()
    assert _key() not in wrapped
    # Then: another wrapping key, another place, or a sealed blob instead is refused
    with pytest.raises(TamperedDataError):
        crypto.unwrap_key(wrapped, b"x" * 32, b"task-1")
    with pytest.raises(TamperedDataError):
        crypto.unwrap_key(wrapped, SERVER_KEY, b"task-2")
    with pytest.raises(TamperedDataError, match="must start with"):
        crypto.unwrap_key(crypto.seal(_key(), SERVER_KEY, b"task-1"), SERVER_KEY, b"task-1")


# -- passwords, API keys, tokens ---------------------------------------------------


def test_password_hash_verifies_the_right_password_only() -> None:
    # Given
    stored = crypto.hash_password("correct horse")
    # When / Then
    assert crypto.verify_password("correct horse", stored)
    assert not crypto.verify_password("correct hors", stored)
    assert not crypto.verify_password("", stored)


def test_password_hash_is_salted_scrypt_without_the_password() -> None:
    # Given / When: the same password hashed twice
    first, second = crypto.hash_password("hunter22"), crypto.hash_password("hunter22")
    # Then
    assert first != second
    assert first.startswith("scrypt$")
    assert "hunter22" not in first


def test_password_hash_records_a_cost_of_at_least_n_2_17() -> None:
    # Given / When
    scheme, cost, salt, digest = crypto.hash_password("correct horse").split("$")
    # Then: scrypt with N = 2**17, r = 8, p = 1, written into the hash itself
    assert scheme == "scrypt"
    assert dict(part.split("=") for part in cost.split(",")) == {"ln": "17", "r": "8", "p": "1"}
    assert len(base64.b64decode(salt)) == 16 and len(base64.b64decode(digest)) == 32


def test_a_hash_stored_by_the_first_version_still_verifies() -> None:
    # Given: a hash as the first version stored it: scrypt$salt$hash, N = 2**14, r = 8, p = 1
    salt = b"0123456789abcdef"
    digest = hashlib.scrypt(b"an old password", salt=salt, n=2**14, r=8, p=1, dklen=32)
    stored = f"scrypt${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"
    # When / Then
    assert crypto.verify_password("an old password", stored)
    assert not crypto.verify_password("an old passwore", stored)


def test_a_stored_hash_asking_for_an_absurd_cost_is_a_non_match() -> None:
    # Given: a hash whose recorded cost would take minutes and gigabytes
    stored = crypto.hash_password("correct horse").replace("ln=17", "ln=30")
    # When / Then: refused without running it
    assert not crypto.verify_password("correct horse", stored)


@pytest.mark.parametrize("stored", ["", "scrypt$", "plain$abc$def", "scrypt$!!$!!", "md5$YWJj$YWJj",
                                    "scrypt$ln=17$YWJj$YWJj", "scrypt$ln=x,r=8,p=1$YWJj$YWJj"])
def test_malformed_stored_password_hash_never_verifies(stored: str) -> None:
    # Given: a damaged or foreign hash / When / Then
    assert not crypto.verify_password("anything", stored)


def test_api_key_hash_is_stable_hex_sha256_without_the_key() -> None:
    # Given
    key = crypto.random_token(32)
    # When
    digest = crypto.hash_api_key(key)
    # Then
    assert digest == crypto.hash_api_key(key)
    assert len(digest) == 64
    assert set(digest) <= set(string.hexdigits.lower())
    assert key not in digest
    assert crypto.hash_api_key(key + "x") != digest


def test_random_token_has_the_length_asked_and_only_letters_and_digits() -> None:
    # Given / When
    tokens = {crypto.random_token(32) for _ in range(50)}
    # Then
    assert len(tokens) == 50
    assert all(len(t) == 32 and t.isalnum() and t.isascii() for t in tokens)
