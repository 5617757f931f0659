"""Encryption at rest: answers are sealed, wrong secrets get nothing, tampering is refused."""

from __future__ import annotations

import base64
import zlib
from typing import Any

from tests.conftest import Api

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
