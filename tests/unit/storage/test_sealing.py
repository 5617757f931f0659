"""chalicelib.storage.sealing: which key protects each stored thing, and that the record decides the kind."""

from __future__ import annotations

import pytest

from chalicelib.storage import crypto
from chalicelib.storage.errors import TamperedDataError, WrongSecretError
from chalicelib.storage.keys import ServerKeys
from chalicelib.storage.records import BlobKind
from chalicelib.storage.sealing import Place, Sealer
from tests.unit.storage.test_crypto import UNPICKLED, Canary

MASTER = b"m" * 32
KEYS = ServerKeys.derive(MASTER)
SESSION_KEY = crypto.session_key("secret-1", "sess1")
ANSWERS = {"name": "Ada"}

PLACES = {
    "step": Place.step("sess1", 1),
    "extra": Place.extra("sess1", "kv:counter"),
    "file": Place.file("sess1", "f1/doc.pdf"),
    "task payload": Place.task_payload("sess1", "t1"),
    "task result": Place.task_result("sess1", "t1"),
    "note": Place.note("sess1", "n1"),
}


@pytest.fixture(autouse=True)
def _clean_canary() -> None:
    UNPICKLED.clear()


@pytest.fixture
def sealer() -> Sealer:
    return Sealer(KEYS)


@pytest.mark.parametrize("key", [SESSION_KEY, None], ids=["with a session key", "without"])
def test_a_sealed_value_opens_as_the_kind_seal_returned(sealer: Sealer, key: bytes | None) -> None:
    # Given
    sealed = sealer.seal(ANSWERS, PLACES["step"], key)
    # When
    opened = sealer.open(sealed.blob, sealed.kind, PLACES["step"], key)
    # Then: encrypted with a session key, signed without
    assert sealed.kind is (BlobKind.ENCRYPTED if key else BlobKind.SIGNED)
    assert opened == ANSWERS


def test_a_signed_blob_where_the_record_says_encrypted_is_refused_and_never_unpickled(sealer: Sealer) -> None:
    # Given: a blob the server signed for this very place (a multi_user step, say)
    signed = sealer.seal(Canary("signed"), PLACES["step"], None)
    # When / Then: the step's record says encrypted, so the signature is not even looked at
    with pytest.raises(TamperedDataError, match="says encrypted"):
        sealer.open(signed.blob, BlobKind.ENCRYPTED, PLACES["step"], SESSION_KEY)
    assert UNPICKLED == []


def test_an_encrypted_blob_where_the_record_says_signed_is_refused(sealer: Sealer) -> None:
    # Given
    sealed = sealer.seal(Canary("sealed"), PLACES["step"], SESSION_KEY)
    # When / Then
    with pytest.raises(TamperedDataError, match="says signed"):
        sealer.open(sealed.blob, BlobKind.SIGNED, PLACES["step"], SESSION_KEY)
    assert UNPICKLED == []


def test_an_encrypted_blob_without_the_session_key_asks_for_the_secret(sealer: Sealer) -> None:
    sealed = sealer.seal(ANSWERS, PLACES["step"], SESSION_KEY)
    with pytest.raises(WrongSecretError):
        sealer.open(sealed.blob, BlobKind.ENCRYPTED, PLACES["step"], None)


@pytest.mark.parametrize("key", [SESSION_KEY, None], ids=["encrypted", "signed"])
def test_a_blob_opens_only_at_the_place_it_was_sealed_for(sealer: Sealer, key: bytes | None) -> None:
    for name, place in PLACES.items():
        sealed = sealer.seal(Canary(name), place, key)
        for other_name, other in PLACES.items():
            if other_name != name:
                with pytest.raises(TamperedDataError):
                    sealer.open(sealed.blob, sealed.kind, other, key)
    assert UNPICKLED == []


def test_places_keep_the_associated_data_of_blobs_already_stored() -> None:
    # Encrypted blobs written before sealing.py existed must still open: same formats, byte for byte.
    assert PLACES["step"].aad == b"sess1:step:1"
    assert PLACES["extra"].aad == b"sess1:extra:kv:counter"
    assert PLACES["file"].aad == b"sess1:file:f1/doc.pdf"
    assert PLACES["task payload"].aad == b"sess1:task:t1:payload"
    assert PLACES["task result"].aad == b"sess1:task:t1:result"
    assert PLACES["note"].aad == b"sess1:note:n1"


def test_signing_uses_the_sign_sub_key_not_the_raw_server_key(sealer: Sealer) -> None:
    # Given: a signed step
    signed = sealer.seal(ANSWERS, PLACES["step"], None)
    # When / Then: it verifies under the `sign` sub-key and under no other key
    assert crypto.open_signed(signed.blob, server_key=KEYS.sign, aad=PLACES["step"].aad) == ANSWERS
    for other in (MASTER, KEYS.csrf, KEYS.wrap, KEYS.links):
        with pytest.raises(TamperedDataError):
            crypto.open_signed(signed.blob, server_key=other, aad=PLACES["step"].aad)


def test_a_session_key_is_wrapped_under_the_wrap_sub_key_for_one_task(sealer: Sealer) -> None:
    # Given
    wrapped = sealer.wrap_key(SESSION_KEY, "sess1", "t1")
    # When / Then: it unwraps for that task only, and only the `wrap` sub-key opens it
    assert sealer.unwrap_key(wrapped, "sess1", "t1") == SESSION_KEY
    with pytest.raises(TamperedDataError):
        sealer.unwrap_key(wrapped, "sess1", "t2")
    for other in (MASTER, KEYS.sign, KEYS.csrf):
        with pytest.raises(TamperedDataError):
            crypto.unwrap_key(wrapped, other, b"sess1:task:t1:key")
    assert crypto.unwrap_key(wrapped, KEYS.wrap, b"sess1:task:t1:key") == SESSION_KEY
