"""Encryption at rest: answers are sealed, wrong secrets get nothing, tampering is refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import zlib
from typing import Any

import pytest

from chalicelib.storage import crypto
from chalicelib.storage.errors import TamperedDataError
from tests.conftest import Api
from tests.functional.test_web_bad_input import Browser, _hidden

ANSWER = "Zebra-Orchid-93817"


def _all_stored_bytes(aws: dict[str, Any], table: str, bucket: str) -> list[bytes]:
    """Every attribute of every item and every object, as bytes (decompressed too, when zlib)."""
    out: list[bytes] = []
    for page in aws["dynamodb"].get_paginator("scan").paginate(TableName=table):
        for item in page["Items"]:
            for value in item.values():
                raw = value.get("B") or str(value).encode()
                out.append(raw)
                try:
                    out.append(zlib.decompress(raw[2:]))
                except zlib.error:
                    pass
    listing = aws["s3"].list_objects_v2(Bucket=bucket)
    for entry in listing.get("Contents", []):
        out.append(aws["s3"].get_object(Bucket=bucket, Key=entry["Key"])["Body"].read())
    return out


def _answered_session(api: Api) -> dict[str, Any]:
    session = api.new_session("secret_answer.yml")
    params = {"i": "secret_answer.yml", "session": session["session"], "secret": session["secret"]}
    result = api.post("/api/session", {**params, "variables": {"hint": ANSWER, "multi_user": False}})
    assert result.status == 200 and ANSWER in result.json["questionText"]
    return params


def _query(params: dict[str, Any]) -> str:
    return "&".join(f"{k}={v}" for k, v in params.items())


def test_no_answer_appears_in_clear_in_any_stored_item(api: Api, fresh_aws: dict[str, Any], settings: Any) -> None:
    # Given an encrypted session holding a distinctive answer
    _answered_session(api)
    # When every stored item and object is read raw
    stored = _all_stored_bytes(fresh_aws, settings.table_name, settings.blob_bucket)
    # Then the answer is nowhere, not even base64-encoded or after decompression
    needles = [ANSWER.encode(), base64.b64encode(ANSWER.encode())[:16]]
    assert stored and not [blob for blob in stored for needle in needles if needle in blob]


def test_a_wrong_secret_gets_403_and_no_data(api: Api) -> None:
    params = _answered_session(api)
    for path in ("/api/session", "/api/session/question"):
        result = api.get(f"{path}?{_query({**params, 'secret': 'WrongSecret12345'})}")
        assert result.status == 403
        assert ANSWER.encode() not in result.body
        assert set(result.json) == {"error"}
    missing = api.get(f"/api/session?{_query({k: v for k, v in params.items() if k != 'secret'})}")
    assert missing.status == 403 and ANSWER.encode() not in missing.body


def _flip_stored_step(aws: dict[str, Any], table: str) -> None:
    items = aws["dynamodb"].scan(TableName=table)["Items"]
    step = max((i for i in items if i["sk"]["S"].startswith("step#")), key=lambda i: i["sk"]["S"])
    blob = bytearray(step["blob"]["B"])
    blob[-5] ^= 0x01
    aws["dynamodb"].put_item(TableName=table, Item={**step, "blob": {"B": bytes(blob)}})


def test_a_tampered_encrypted_step_is_refused_with_a_clear_error(api: Api, fresh_aws: dict[str, Any],
                                                                 settings: Any) -> None:
    params = _answered_session(api)
    _flip_stored_step(fresh_aws, settings.table_name)
    result = api.get(f"/api/session?{_query(params)}")
    assert result.status == 403
    assert "integrity check" in result.json["error"]
    assert ANSWER.encode() not in result.body


def test_a_tampered_unencrypted_step_is_refused_too(api: Api, fresh_aws: dict[str, Any], settings: Any) -> None:
    # Given a session its author made unencrypted (multi_user), signed with the server key
    session = api.new_session("secret_answer.yml")
    params = {"i": "secret_answer.yml", "session": session["session"], "secret": session["secret"]}
    api.post("/api/session", {**params, "variables": {"hint": ANSWER, "multi_user": True}})
    shared = {k: v for k, v in params.items() if k != "secret"}
    assert api.get(f"/api/session?{_query(shared)}").json["hint"] == ANSWER
    # When its stored step is altered
    _flip_stored_step(fresh_aws, settings.table_name)
    # Then it is refused instead of unpickled
    result = api.get(f"/api/session?{_query(shared)}")
    assert result.status == 403 and "integrity check" in result.json["error"]


def test_the_browser_cookie_is_httponly_and_samesite(client: Any) -> None:
    response = client.http.get("/interview?i=secret_answer.yml")
    cookie = response.headers["Set-Cookie"][0]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "secret_answer" not in cookie


def _step_item(aws: dict[str, Any], table: str, session_id: str, step: int) -> dict[str, Any]:
    item: dict[str, Any] = aws["dynamodb"].get_item(TableName=table, Key={
        "pk": {"S": f"session#{session_id}"}, "sk": {"S": f"step#{step:08d}"}})["Item"]
    return item


def test_a_signed_step_put_where_an_encrypted_step_is_recorded_is_refused(
    api: Api, fresh_aws: dict[str, Any], settings: Any
) -> None:
    # Given: a session that was shared (multi_user) at step 2, so the server signed that step ...
    session = api.new_session("secret_answer.yml")
    params = {"i": "secret_answer.yml", "session": session["session"], "secret": session["secret"]}
    assert api.post("/api/session", {**params, "variables": {"hint": ANSWER, "multi_user": True}}).status == 200
    signed = _step_item(fresh_aws, settings.table_name, session["session"], 2)
    assert signed["kind"] == {"S": "signed"} and bytes(signed["blob"]["B"]).startswith(crypto.SIGNED)
    # ... then went back and answered again unshared: step 2 is now encrypted
    assert api.post("/api/session/back", params).status == 200
    assert api.post("/api/session", {**params, "variables": {"hint": "new hint", "multi_user": False}}).status == 200
    encrypted = _step_item(fresh_aws, settings.table_name, session["session"], 2)
    assert encrypted["kind"] == {"S": "encrypted"}
    # When: the old signed blob, valid for this very place, is written back under the encrypted record
    fresh_aws["dynamodb"].put_item(TableName=settings.table_name, Item={**encrypted, "blob": signed["blob"]})
    # Then: the record says encrypted, so the blob is refused, its signature never even checked
    result = api.get(f"/api/session?{_query(params)}")
    assert result.status == 403 and "its record says encrypted" in result.json["error"]
    assert ANSWER.encode() not in result.body


def test_back_opens_each_step_as_its_own_record_says_after_a_switch_to_multi_user(api: Api) -> None:
    # Given: step 1 encrypted, step 2 signed (the answers made the session shared)
    session = api.new_session("secret_answer.yml")
    params = {"i": "secret_answer.yml", "session": session["session"], "secret": session["secret"]}
    api.post("/api/session", {**params, "variables": {"hint": ANSWER}})
    api.post("/api/session", {**params, "variables": {"multi_user": True}})
    shared = {k: v for k, v in params.items() if k != "secret"}
    assert api.get(f"/api/session?{_query(shared)}").json["multi_user"] is True
    # When / Then: Back reaches the signed step, then the encrypted one
    assert api.post("/api/session/back", params).status == 200
    assert api.get(f"/api/session?{_query(params)}").json["hint"] == ANSWER
    assert api.post("/api/session/back", params).status == 200
    assert "hint" not in api.get(f"/api/session?{_query(params)}").json


def test_signed_steps_use_a_sub_key_not_the_server_key_itself(
    api: Api, fresh_aws: dict[str, Any], settings: Any, services: Any
) -> None:
    # Given: a shared (signed) step
    session = api.new_session("secret_answer.yml")
    params = {"i": "secret_answer.yml", "session": session["session"], "secret": session["secret"]}
    api.post("/api/session", {**params, "variables": {"hint": ANSWER, "multi_user": True}})
    blob = bytes(_step_item(fresh_aws, settings.table_name, session["session"], 2)["blob"]["B"])
    aad = f"{session['session']}:step:2".encode()
    # When / Then: the `sign` sub-key verifies it; the raw SERVER_KEY does not
    assert crypto.open_signed(blob, server_key=services.keys.sign, aad=aad)["hint"] == ANSWER
    with pytest.raises(TamperedDataError):
        crypto.open_signed(blob, server_key=settings.server_key, aad=aad)


def test_csrf_tokens_use_their_own_sub_key(client: Any, settings: Any, services: Any) -> None:
    # Given: a browser on a form
    browser = Browser(client)
    page = browser.page("/interview?i=secret_answer.yml")
    session_id = browser.cookie.split("=", 1)[1].split(".")[0]
    token = _hidden(page, "_csrf")
    # Then: the token is the `csrf` sub-key's HMAC, not one under the raw server key
    def under(key: bytes) -> str:
        return hmac.new(key, f"csrf:{session_id}".encode(), hashlib.sha256).hexdigest()[:32]
    assert token == under(services.keys.csrf)
    # When: a form is posted with a token made with the raw server key
    forged = browser.post("/interview?i=secret_answer.yml", {
        "_csrf": under(settings.server_key), "_screen": _hidden(page, "_screen"), "_f0": ANSWER})
    # Then: refused, nothing saved
    assert forged.status_code == 400
    assert "hint" not in browser.answers(services, "secret_answer.yml")
