"""Uploads in the browser routes: stored sealed, shown, served only to the session's holder."""

from __future__ import annotations

import os
import re
from typing import Any

import pytest

from tests.functional.test_web_bad_input import Browser, _hidden
from tests.upload_files import multipart, pdf, png

INTERVIEW = "/interview?i=uploads.yml"
MAX_UPLOAD = 50_000


@pytest.fixture
def settings() -> Any:
    from chalicelib.settings import Settings
    from tests.conftest import settings_env

    return Settings.from_env(settings_env(MAX_UPLOAD_BYTES=str(MAX_UPLOAD)))


def _post_files(browser: Browser, path: str, fields: dict[str, str], files: dict[str, Any]) -> Any:
    body, content_type = multipart(fields, files)
    return browser.client.http.post(path, body=body, headers={"cookie": browser.cookie, "content-type": content_type})


def _answer(browser: Browser, the_pdf: tuple[str, bytes, str], picture: tuple[str, bytes, str],
            keep: bool = False) -> str:
    page = browser.page(INTERVIEW)
    assert 'enctype="multipart/form-data"' in page and 'type="file"' in page and "capture" in page
    fields = {"_csrf": _hidden(page, "_csrf"), "_screen": _hidden(page, "_screen"), "_continue": "1"}
    if keep:
        fields["_f2"] = "True"
    response = _post_files(browser, INTERVIEW, fields, {"_f0": [the_pdf], "_f1": [picture]})
    return str(response.body.decode())


def _session_id(browser: Browser) -> str:
    return browser.cookie.split("=", 1)[1].split(".")[0]


def _objects(aws: dict[str, Any], prefix: str) -> list[str]:
    from chalicelib.settings import Settings

    listing = aws["s3"].list_objects_v2(Bucket=Settings.blob_bucket, Prefix=prefix)
    return [item["Key"] for item in listing.get("Contents", [])]


def _links(page: str) -> list[str]:
    return [link.replace("&amp;", "&") for link in re.findall(r'(?:href|src)="(/interview/upload/[^"]+)"', page)]


def test_a_pdf_and_a_picture_are_stored_sealed_and_shown_to_their_owner(client: Any, services: Any,
                                                                       fresh_aws: dict[str, Any]) -> None:
    # Given a browser that uploads a PDF and a PNG (its client claims both are text/html)
    owner = Browser(client)
    document, picture = pdf("Lease"), png()
    final = _answer(owner, ("lease.pdf", document, "text/html"), ("me.png", picture, "text/html"))

    # Then the next screen links the PDF and shows the picture as an image, with the sniffed types
    assert "(application/pdf, " in final and f"{len(document)} bytes, .pdf, starts %PDF-" in final
    assert "(image/png, read back:" in final
    assert re.search(r'<a href="/interview/upload/u[0-9a-f]{32}/lease.pdf\?i=uploads.yml&amp;session=', final)
    assert re.search(r'<img src="/interview/upload/u[0-9a-f]{32}/me.png\?[^"]+" alt="me.png"', final)

    # And both download, as the bytes sent, with safe headers
    pdf_link, png_link = _links(final)
    got = owner.get(pdf_link)
    assert got.status_code == 200 and got.body == document
    assert got.headers["Content-Type"] == "application/pdf"
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert got.headers["Content-Disposition"] == 'inline; filename="lease.pdf"'
    image = owner.get(png_link)
    assert image.status_code == 200 and image.body == picture and image.headers["Content-Type"] == "image/png"

    # And the interview's code read the PDF from a temporary file, which is gone after the turn
    answers = owner.answers(services, "uploads.yml")
    assert not os.path.exists(answers["pdf_path"]) and answers["pdf_head"] == "%PDF-"
    # And a later view reads the picture back from S3 (the page shows its size)
    assert f"read back: {len(picture)} bytes" in owner.page(INTERVIEW)

    # And S3 holds them only sealed: neither file's bytes are in any stored object
    keys = _objects(fresh_aws, f"files/{_session_id(owner)}/")
    assert len(keys) == 2 and all("/u" in key for key in keys)
    for key in keys:
        stored = _read(fresh_aws, key)
        assert document[:40] not in stored and b"IHDR" not in stored


def _read(aws: dict[str, Any], key: str) -> bytes:
    from chalicelib.settings import Settings

    return bytes(aws["s3"].get_object(Bucket=Settings.blob_bucket, Key=key)["Body"].read())


def test_another_sessions_browser_and_an_anonymous_one_get_403(client: Any, fresh_aws: dict[str, Any]) -> None:
    owner = Browser(client)
    final = _answer(owner, ("a.pdf", pdf(), "application/pdf"), ("p.png", png(), "image/png"))
    link = _links(final)[0]

    # Another browser with its own session of the same interview
    other = Browser(client)
    other.page(INTERVIEW)
    refused = other.get(link)
    assert refused.status_code == 403 and b"%PDF" not in refused.body
    assert "This session cannot be opened" in refused.body.decode()

    # A browser with no session at all
    anonymous = Browser(client)
    assert anonymous.get(link).status_code == 403

    # The link without the session it names, in the other browser: still not the owner's file
    assert other.get(link.split("&session=")[0]).status_code == 404


def test_an_oversized_file_is_refused_with_a_message_and_nothing_is_saved(client: Any, fresh_aws: dict[str, Any],
                                                                         services: Any) -> None:
    browser = Browser(client)
    page = _answer(browser, ("big.pdf", pdf() + b"%" * 60_000, "application/pdf"), ("p.png", png(), "image/png"))

    assert "Please correct the answers marked below." in page
    assert re.search(r"The file &#x27;big.pdf&#x27; is too large: 60,\d{3} bytes, but at most 50,000 bytes are "
                     r"accepted \(MAX_UPLOAD_BYTES\). Choose a smaller file; nothing was saved.", page)
    assert _objects(fresh_aws, "files/") == []
    answers = browser.answers(services, "uploads.yml")
    assert "the_pdf" not in answers and "the_picture" not in answers


def test_an_html_file_is_never_served_as_html(client: Any, fresh_aws: dict[str, Any]) -> None:
    browser = Browser(client)
    hostile = b"<html><script>alert(document.cookie)</script></html>"
    page = browser.page("/interview?i=uploads_many.yml")
    fields = {"_csrf": _hidden(page, "_csrf"), "_screen": _hidden(page, "_screen"), "_continue": "1"}
    final = _post_files(browser, "/interview?i=uploads_many.yml", fields,
                        {"_f0": [("<script>.html", hostile, "text/html"), ("b.png", png(), "image/png")]})
    text = final.body.decode()
    assert "2 files: script.txt text/plain, b.png image/png." in text and "Extra: none." in text
    link = _links(text)[0]
    served = browser.get(link)
    assert served.status_code == 200 and served.body == hostile
    assert served.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert served.headers["Content-Disposition"] == 'attachment; filename="script.txt"'
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in served.headers["Content-Security-Policy"]


@pytest.mark.parametrize("keep", [True, False])
def test_a_persistent_file_survives_the_sessions_deletion_and_others_do_not(client: Any, fresh_aws: dict[str, Any],
                                                                           services: Any, keep: bool) -> None:
    from chalicelib.runtime.sessions import SessionRef, Sessions

    browser = Browser(client)
    document = pdf("Kept")
    final = _answer(browser, ("kept.pdf", document, "application/pdf"), ("p.png", png(), "image/png"), keep=keep)
    pdf_link = _links(final)[0]
    session_id, secret = browser.cookie.split("=", 1)[1].split(".")

    Sessions(services).delete(SessionRef("uploads.yml", session_id, secret))

    assert _objects(fresh_aws, f"files/{session_id}/") == []
    kept = _objects(fresh_aws, f"files/{session_id}~kept/")
    assert len(kept) == (1 if keep else 0)
    # The holder of the secret can still read the kept file; it stays encrypted in S3
    response = browser.get(pdf_link)
    if keep:
        assert response.status_code == 200 and response.body == document
        assert b"Kept" not in _read(fresh_aws, kept[0])
    else:
        assert response.status_code == 404
    # and nobody else can
    stranger = Browser(client)
    stranger.page(INTERVIEW)
    assert stranger.get(pdf_link).status_code in (403, 404)
    assert b"%PDF" not in stranger.get(pdf_link).body


def _slot(browser: Browser, body: dict[str, Any], csrf: str, interview: str = "uploads.yml") -> Any:
    import json

    return browser.client.http.post(f"/interview/upload-slot?i={interview}", body=json.dumps(body), headers={
        "cookie": browser.cookie, "content-type": "application/json", "x-csrf-token": csrf})


def test_an_upload_slot_is_given_only_to_the_sessions_holder_and_within_the_limit(client: Any, services: Any,
                                                                                  fresh_aws: dict[str, Any]) -> None:
    import dataclasses
    import json

    from chalicelib.runtime.direct_uploads import S3DirectUploads
    from chalicelib.web import context

    context.use_services(dataclasses.replace(services, direct=S3DirectUploads(services.settings.blob_bucket,
                                                                              client=fresh_aws["s3"])))
    browser = Browser(client)
    csrf = _hidden(browser.page(INTERVIEW), "_csrf")

    given = _slot(browser, {"name": "big.pdf", "size": 10_000}, csrf)
    assert given.status_code == 200
    slot = json.loads(given.body)
    assert slot["fields"]["key"] == f"incoming/{_session_id(browser)}/{slot['value'][3:35]}"
    assert re.fullmatch(r"s3:[A-Za-z0-9]{32}/big\.pdf", slot["value"])

    too_big = _slot(browser, {"name": "big.pdf", "size": MAX_UPLOAD + 1}, csrf)
    assert too_big.status_code == 413
    assert f"at most {MAX_UPLOAD:,} bytes are accepted (MAX_UPLOAD_BYTES)" in json.loads(too_big.body)["error"]
    assert _slot(browser, {"name": "big.pdf", "size": 10}, "forged").status_code == 403
    assert _slot(Browser(client), {"name": "big.pdf", "size": 10}, csrf).status_code == 403
    assert _slot(browser, {"size": 10}, csrf).status_code == 400


def test_a_form_naming_an_object_of_another_session_gets_no_file(client: Any, services: Any,
                                                                fresh_aws: dict[str, Any]) -> None:
    import dataclasses

    from chalicelib.runtime.direct_uploads import S3DirectUploads, incoming_key
    from chalicelib.web import context

    context.use_services(dataclasses.replace(services, direct=S3DirectUploads(services.settings.blob_bucket,
                                                                              client=fresh_aws["s3"])))
    # Given another session's browser put an object in its own incoming area
    other = Browser(client)
    other.page(INTERVIEW)
    token = "T" * 32
    fresh_aws["s3"].put_object(Bucket=services.settings.blob_bucket, Key=incoming_key(_session_id(other), token),
                               Body=pdf())
    # When this browser's form names that token
    browser = Browser(client)
    page = browser.page(INTERVIEW)
    form = {"_csrf": _hidden(page, "_csrf"), "_screen": _hidden(page, "_screen"), "_f0": f"s3:{token}/x.pdf"}
    response = _post_files(browser, INTERVIEW, form, {"_f1": [("p.png", png(), "image/png")]})
    # Then it is not taken: the question asks for the file again, and the other's object stays
    assert "Choose a file to upload." in response.body.decode()
    assert _objects(fresh_aws, "incoming/") == [incoming_key(_session_id(other), token)]


def test_a_shared_sessions_file_is_signed_and_opens_for_whoever_opens_the_session(client: Any, services: Any,
                                                                                  fresh_aws: dict[str, Any]) -> None:
    from chalicelib.storage.dynamodb import FILE_KIND_METADATA

    owner = Browser(client)
    page = owner.page("/interview?i=uploads_shared.yml")
    fields = {"_csrf": _hidden(page, "_csrf"), "_screen": _hidden(page, "_screen"), "_continue": "1"}
    shown = _post_files(owner, "/interview?i=uploads_shared.yml", fields,
                        {"_f0": [("notes.txt", b"shared notes", "text/plain")]}).body.decode()
    (link,) = _links(shown)
    (key,) = _objects(fresh_aws, f"files/{_session_id(owner)}/")
    stored = fresh_aws["s3"].get_object(Bucket=services.settings.blob_bucket, Key=key)
    assert stored["Metadata"][FILE_KIND_METADATA] == "signed"
    # A browser that opens the shared session (its link names it) may read its files, as its pages
    visitor = Browser(client)
    assert "notes.txt" in visitor.page(f"/interview?i=uploads_shared.yml&session={_session_id(owner)}")
    got = visitor.get(link)
    assert got.status_code == 200 and got.body == b"shared notes"
