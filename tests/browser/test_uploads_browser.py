"""Uploads in Chromium: files chosen with set_input_files, shown, downloaded by the owner only;
an oversized file asks again; redis-data.yml and send-sms.yml from ../shared/examples."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import REGION
from tests.upload_files import pdf, png

pytestmark = pytest.mark.browser
MAX_UPLOAD = 40_000
DIRECT_UPLOAD = 5_000  # a larger file goes straight to S3 (moto's server) with a presigned POST


@pytest.fixture
def settings() -> Any:
    from chalicelib.settings import Settings
    from tests.conftest import settings_env

    return Settings.from_env(settings_env(COOKIE_SECURE="0", MAX_UPLOAD_BYTES=str(MAX_UPLOAD),
                                          DIRECT_UPLOAD_BYTES=str(DIRECT_UPLOAD)))


def _file(name: str, data: bytes, mime: str) -> dict[str, Any]:
    return {"name": name, "mimeType": mime, "buffer": data}


def _image_loaded(page: Page, selector: str) -> bool:
    return bool(page.eval_on_selector(selector, "img => img.complete && img.naturalWidth > 0"))


def test_a_pdf_and_a_picture_upload_show_and_download_only_for_their_owner(page: Page, browser: Any,
                                                                           server: str) -> None:
    document, picture = pdf("Browser"), png(4, 4)
    page.goto("/interview?i=uploads.yml")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your documents")
    assert page.get_attribute("#f1", "capture") is not None and page.get_attribute("#f1", "accept") == "image/*"
    page.get_by_label("PDF", exact=True).set_input_files(_file("lease.pdf", document, "application/pdf"))
    page.get_by_label("Picture").set_input_files(_file("me.png", picture, "image/png"))
    page.get_by_role("button", name="Continue", exact=True).click()

    # The picture shows as an image (it loads through the owner's route), the PDF as a link
    expect(page.get_by_role("heading", level=1)).to_have_text("Your files")
    expect(page.locator(".subquestion")).to_contain_text("application/pdf")
    expect(page.get_by_role("img", name="me.png")).to_be_visible()
    page.wait_for_function("() => { const i = document.querySelector('img[alt=\"me.png\"]');"
                           " return i && i.complete && i.naturalWidth === 4; }")
    link = page.get_by_role("link", name="lease.pdf").get_attribute("href")
    assert link is not None
    owned = page.request.get(link)
    assert owned.status == 200 and owned.body() == document
    assert owned.headers["content-type"] == "application/pdf" and owned.headers["x-content-type-options"] == "nosniff"

    # Another browser with its own session, and one with none, are refused
    for visits_first in (True, False):
        other = browser.new_context(base_url=server)
        try:
            if visits_first:
                other.new_page().goto("/interview?i=uploads.yml")
            refused = other.request.get(link)
            assert refused.status == 403 and b"%PDF" not in refused.body()
        finally:
            other.close()


def test_an_oversized_file_asks_again_with_a_clear_message(page: Page, services: Any,
                                                          fresh_aws: dict[str, Any]) -> None:
    page.goto("/interview?i=uploads.yml")
    huge = pdf() + b"%" * MAX_UPLOAD
    page.get_by_label("PDF", exact=True).set_input_files(_file("huge.pdf", huge, "application/pdf"))
    page.get_by_label("Picture").set_input_files(_file("me.png", png(), "image/png"))
    page.get_by_role("button", name="Continue", exact=True).click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Your documents")
    expect(page.locator("#f0-error")).to_contain_text("The file 'huge.pdf' is too large")
    expect(page.locator("#f0-error")).to_contain_text(f"at most {MAX_UPLOAD:,} bytes are accepted (MAX_UPLOAD_BYTES)")
    listing = fresh_aws["s3"].list_objects_v2(Bucket=services.settings.blob_bucket, Prefix="files/")
    assert listing.get("KeyCount", 0) == 0


def test_redis_data_shows_the_uploaded_file_in_another_browser(page: Page, browser: Any, server: str,
                                                               examples: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.runtime import keystore

    now = SimpleNamespace(value=1_900_000_000.0)  # DARedis's clock: the example keeps the file 30 s
    monkeypatch.setattr(keystore, "time", SimpleNamespace(time=lambda: now.value))
    picture = png(5, 5)
    page.goto("/interview?i=redis-data.yml")
    expect(page.get_by_role("heading", level=1)).to_have_text("Upload a file.")
    page.get_by_label("File", exact=True).set_input_files(_file("cat.png", picture, "image/png"))
    page.get_by_role("button", name="Continue", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("The file")

    now.value += 10
    other = browser.new_context(base_url=server)
    try:
        second = other.new_page()
        second.goto("/interview?i=redis-data.yml")
        expect(second.get_by_role("heading", level=1)).to_have_text("The file")
        second.wait_for_function("() => { const i = document.querySelector('img[alt=\"cat.png\"]');"
                                 " return i && i.complete && i.naturalWidth === 5; }")
        src = second.get_by_role("img", name="cat.png").get_attribute("src")
        assert src is not None and src.startswith("/file/") and "sig=" in src
    finally:
        other.close()


def test_send_sms_sends_the_message_to_the_number_typed(page: Page, examples: Path) -> None:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sns.models import sns_backends

    page.goto("/interview?i=send-sms.yml")
    expect(page.get_by_role("heading", level=1)).to_have_text("What is your phone number?")
    page.get_by_label("Number").fill("202-555-0173")
    page.get_by_role("button", name="Continue", exact=True).click()
    expect(page.locator(".subquestion")).to_contain_text("The SMS message was sent.")
    assert list(sns_backends[DEFAULT_ACCOUNT_ID][REGION].sms_messages.values()) == [("+12025550173", "Hello, world!")]


@pytest.fixture
def direct_s3(services: Any, fresh_aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Any:
    """moto's S3 over HTTP for the browser, as the local stack serves it; the app signs slots for it.
    Its requests take the same lock as the app's, so moto's backends see one call at a time."""
    import dataclasses

    import boto3

    from chalicelib.local import moto_server
    from chalicelib.runtime.direct_uploads import S3DirectUploads
    from chalicelib.web import context
    from tests.browser.conftest import APP_LOCK

    monkeypatch.setattr(moto_server, "MOTO_LOCK", APP_LOCK)
    server = moto_server.MotoServer().start()
    presign = boto3.client("s3", endpoint_url=server.url, region_name=REGION, aws_access_key_id="test",
                           aws_secret_access_key="test")
    direct = S3DirectUploads(services.settings.blob_bucket, client=fresh_aws["s3"], presign=presign)
    context.use_services(dataclasses.replace(services, direct=direct))
    try:
        yield server
    finally:
        server.stop()


def _keys(aws: dict[str, Any], bucket: str, prefix: str) -> list[str]:
    return [item["Key"] for item in aws["s3"].list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])]


def test_a_large_file_goes_straight_to_s3_and_is_stored_sealed(page: Page, services: Any, direct_s3: Any,
                                                              fresh_aws: dict[str, Any]) -> None:
    bucket = services.settings.blob_bucket
    document, picture = pdf("Large") + b"%" * (DIRECT_UPLOAD * 2), png()
    page.goto("/interview?i=uploads.yml")
    assert page.get_attribute("form.screen", "data-direct-upload-bytes") == str(DIRECT_UPLOAD)
    slots: list[str] = []
    page.on("request", lambda request: slots.append(request.url)
            if request.method == "POST" and "/checkin" not in request.url else None)
    page.get_by_label("PDF", exact=True).set_input_files(_file("large.pdf", document, "application/pdf"))
    page.get_by_label("Picture").set_input_files(_file("me.png", picture, "image/png"))
    page.get_by_role("button", name="Continue", exact=True).click()

    # The PDF went to S3 (a slot, then moto's endpoint), then the form; the picture with the form
    expect(page.get_by_role("heading", level=1)).to_have_text("Your files")
    assert [url.split("?")[0].replace(direct_s3.url, "S3") for url in slots] == [
        page.url.split("/interview")[0] + "/interview/upload-slot", f"S3/{bucket}",
        page.url.split("/interview")[0] + "/interview"]
    expect(page.locator(".subquestion")).to_contain_text(f"(application/pdf, {len(document)} bytes, .pdf, "
                                                         "starts %PDF-)")
    link = page.get_by_role("link", name="large.pdf").get_attribute("href")
    assert link is not None and page.request.get(link).body() == document
    # Nothing is left in the incoming area; the stored file is sealed
    assert _keys(fresh_aws, bucket, "incoming/") == []
    stored = [k for k in _keys(fresh_aws, bucket, "files/") if k.endswith("/large.pdf")]
    assert len(stored) == 1
    assert b"Large" not in fresh_aws["s3"].get_object(Bucket=bucket, Key=stored[0])["Body"].read()


def test_a_large_file_over_the_limit_is_refused_before_it_is_sent(page: Page, services: Any, direct_s3: Any,
                                                                  fresh_aws: dict[str, Any]) -> None:
    page.goto("/interview?i=uploads.yml")
    page.get_by_label("PDF", exact=True).set_input_files(
        _file("huge.pdf", pdf() + b"%" * MAX_UPLOAD, "application/pdf"))
    page.get_by_label("Picture").set_input_files(_file("me.png", png(), "image/png"))
    page.get_by_role("button", name="Continue", exact=True).click()
    expect(page.locator("#f0-direct-error")).to_contain_text("The file 'huge.pdf' is too large")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your documents")
    assert _keys(fresh_aws, services.settings.blob_bucket, "") == []
    # A smaller file may then be chosen and sent
    page.get_by_label("PDF", exact=True).set_input_files(_file("ok.pdf", pdf(), "application/pdf"))
    page.get_by_role("button", name="Continue", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your files")
