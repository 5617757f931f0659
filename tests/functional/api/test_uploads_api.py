"""Uploads over the REST API: POST /api/session with multipart files, GET /api/session/file for the holder;
and the examples send-sms.yml and redis-data.yml (a DAFile set private=False, shown in a later session)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

import pytest

from tests.conftest import REGION, Api, ApiResult
from tests.functional.api.helpers import ApiSession, ok_json, plain
from tests.upload_files import multipart, pdf, png

Start = Callable[[str], ApiSession]


def post_files(session: ApiSession, variables: dict[str, Any], files: dict[str, Any],
               file_variables: dict[str, str] | None = None) -> ApiResult:
    fields = {**session.ref, "variables": json.dumps(variables)}
    if file_variables is not None:
        fields["file_variables"] = json.dumps(file_variables)
    body, content_type = multipart(fields, files)
    response = session.api.client.http.post("/api/session", body=body, headers={
        "X-API-Key": session.api.key, "Content-Type": content_type, "Accept": "*/*"})
    return ApiResult(response.status_code, response.body, dict(response.headers))


def download(api: Api, ref: dict[str, str], name: str) -> ApiResult:
    query = "&".join(f"{k}={quote(v)}" for k, v in ref.items())
    return api.get(f"/api/session/file?{query}&file={quote(name)}")


def stored_name(listed: dict[str, Any]) -> str:
    first = listed["elements"][0]
    return f"u{first['file_id']}/{first['filename']}"


def test_files_posted_to_the_api_become_dafilelists_and_download_for_the_holder(start: Start, api: Api) -> None:
    # Given a session of uploads.yml, when a client posts a PDF and a picture as multipart parts
    session = start("uploads.yml")
    document, picture = pdf("API"), png()
    result = post_files(session, {"keep_pdf": False}, {
        "pdf_part": [("report.PDF", document, "application/octet-stream")],
        "the_picture": [("camera.jpg", picture, "image/jpeg")]}, file_variables={"pdf_part": "the_pdf"})

    # Then the next question shows them, with the types their bytes show
    text = plain(ok_json(result)["subquestionText"])
    assert f"(application/pdf, {len(document)} bytes, .pdf, starts %PDF-)" in text and "(image/png, read back:" in text
    variables = ok_json(session.variables())
    assert variables["the_pdf"]["elements"][0]["filename"] == "report.pdf"
    assert variables["the_picture"]["elements"][0]["filename"] == "camera.png"  # the bytes are a PNG

    # And the holder downloads each file; with another session's secret, or none, it is refused
    got = download(api, session.ref, stored_name(variables["the_pdf"]))
    assert got.status == 200 and got.body == document and got.headers["Content-Type"] == "application/pdf"
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    other = start("uploads.yml")
    refused = download(api, {**session.ref, "secret": other.secret}, stored_name(variables["the_pdf"]))
    assert refused.status == 403 and b"%PDF" not in refused.body
    assert download(api, {"i": session.interview, "session": session.session},
                    stored_name(variables["the_pdf"])).status == 403


def test_an_oversized_file_over_the_api_is_413_and_nothing_is_saved(start: Start, services: Any,
                                                                    fresh_aws: dict[str, Any]) -> None:
    session = start("uploads.yml")
    too_big = pdf() + b"%" * services.settings.max_upload_bytes
    result = post_files(session, {}, {"the_pdf": [("big.pdf", too_big, "application/pdf")]})
    assert result.status == 413
    assert "is too large" in result.json["error"] and "MAX_UPLOAD_BYTES" in result.json["error"]
    assert "the_pdf" not in ok_json(session.variables())
    listing = fresh_aws["s3"].list_objects_v2(Bucket=services.settings.blob_bucket, Prefix="files/")
    assert listing.get("KeyCount", 0) == 0


def test_a_file_field_sent_without_a_file_sets_none(start: Start) -> None:
    session = start("uploads_many.yml")
    result = post_files(session, {}, {"the_files": [("a.txt", b"alpha", "text/plain"), ("b.txt", b"beta", "x/y")],
                                      "extra_file": [("", b"", "application/octet-stream")]})
    assert plain(ok_json(result)["subquestionText"]).startswith("2 files: a.txt text/plain, b.txt text/plain. "
                                                                 "Extra: none.")


def test_send_sms_example_runs_and_its_upload_question_takes_a_file(start: Start, examples: Any) -> None:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sns.models import sns_backends

    session = start("send-sms.yml")
    # The example's file question is not needed by its mandatory blocks; a client may still answer it
    taken = post_files(session, {"client.phone_number": "202-555-0173"},
                       {"the_file": [("note.txt", b"Call me.", "text/plain")]})
    assert "The SMS message was sent." in plain(ok_json(taken)["subquestionText"])
    assert list(sns_backends[DEFAULT_ACCOUNT_ID][REGION].sms_messages.values()) == [("+12025550173",
                                                                                     "Hello, world!")]
    assert ok_json(session.variables())["the_file"]["elements"][0]["filename"] == "note.txt"


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    """The DARedis store's clock, moved by the test (its values expire after 30 s in redis-data.yml)."""
    from chalicelib.runtime import keystore

    now = SimpleNamespace(value=1_900_000_000.0)
    monkeypatch.setattr(keystore, "time", SimpleNamespace(time=lambda: now.value))
    return now


def test_redis_data_shows_a_public_file_to_a_later_session(start: Start, api: Api, client: Any, examples: Any,
                                                           clock: SimpleNamespace) -> None:
    # Given a first session uploads a picture: the example makes it public and keeps it in DARedis
    first = start("redis-data.yml")
    assert ok_json(first.question())["questionText"] == "Upload a file."
    picture = png(3, 3)
    shown = ok_json(post_files(first, {}, {"uploaded_file": [("cat.png", picture, "image/png")]}))
    assert shown["questionText"] == "The file"
    (url,) = re.findall(r'<img src="([^"]+)"', shown["subquestionText"])
    assert url.startswith(f"/file/{first.session}/p") and "sig=" in url

    # When a second session starts within the 30 seconds
    clock.value += 20
    second = start("redis-data.yml")
    later = ok_json(second.question())

    # Then it shows the first session's file at once, and anyone may fetch it by its signed link
    assert later["questionText"] == "The file"
    (later_url,) = re.findall(r'<img src="([^"]+)"', later["subquestionText"])
    later_url = later_url.replace("&amp;", "&")
    fetched = client.http.get(later_url, headers={"accept": "image/png,image/*"})
    assert fetched.status_code == 200 and fetched.body == picture and fetched.headers["Content-Type"] == "image/png"
    # but not with a changed signature, nor another of the session's files by guessing
    assert client.http.get(later_url[:-1] + ("0" if later_url[-1] != "0" else "1")).status_code == 403
    private_name = later_url.split("?")[0].replace(f"/file/{first.session}/p", f"/file/{first.session}/u")
    assert client.http.get(private_name + "?" + later_url.split("?")[1]).status_code == 403

    # And after the 30 seconds, a third session asks for a file again
    clock.value += 11
    assert ok_json(start("redis-data.yml").question())["questionText"] == "Upload a file."


def test_an_uploaded_file_is_attached_to_an_email_as_its_bytes_and_type(start: Start,
                                                                       fresh_aws: dict[str, Any]) -> None:
    import email
    from email.policy import default as default_policy

    import boto3
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    boto3.client("ses", region_name=REGION).verify_domain_identity(Domain="mail.localhost")
    session = start("send_upload.yml")
    document = pdf("Attached")
    done = post_files(session, {"reader": "ann@example.com"},
                      {"the_file": [("<b>x.pdf", document, "text/html")]})
    assert plain(ok_json(done)["subquestionText"]) == "Sent True."
    (raw,) = [m.raw_data for m in ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages]
    message = email.message_from_string(raw, policy=default_policy)
    (attached,) = list(message.iter_attachments())  # type: ignore[attr-defined]
    assert attached.get_filename() == "b_x.pdf" and attached.get_content_type() == "application/pdf"
    assert attached.get_content() == document
