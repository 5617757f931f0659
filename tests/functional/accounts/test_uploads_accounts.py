"""Uploaded files and accounts: a signed-in user's file opens for that user in any browser they sign in
to, and for no other user."""

from __future__ import annotations

import html
import re
from typing import Any

from tests.functional.accounts.test_accounts_web import PASSWORD, Browser, _hidden, _register, _resume_links, _sign_in
from tests.upload_files import multipart, pdf, png

INTERVIEW = "/interview?i=uploads.yml"


def _upload(browser: Browser) -> str:
    page = browser.page(INTERVIEW)
    fields = {"_csrf": _hidden(page, "_csrf"), "_screen": _hidden(page, "_screen"), "_continue": "1"}
    body, content_type = multipart(fields, {"_f0": [("lease.pdf", pdf("Lease"), "application/pdf")],
                                            "_f1": [("me.png", png(), "image/png")]})
    response = browser._keep(browser.client.http.post(INTERVIEW, body=body, headers={
        "cookie": browser._header(), "content-type": content_type}))
    return browser.page(INTERVIEW) if response.status_code in (302, 303) else str(response.body.decode())


def _download(browser: Browser, link: str) -> Any:
    """As a browser fetches a linked file (Accept: */*, which binary bodies need)."""
    return browser.client.http.get(link, headers={"cookie": browser._header(), "accept": "*/*"})


def _links(page: str) -> list[str]:
    return [html.unescape(link) for link in re.findall(r'(?:href|src)="(/interview/upload/[^"]+)"', page)]


def test_a_signed_in_users_file_opens_for_them_in_another_browser_and_never_for_another_user(client: Any) -> None:
    # Given: Ada, signed in, uploads a PDF and a picture
    ada = _register(client)
    links = _links(_upload(ada))
    assert len(links) == 2
    assert _download(ada, links[0]).status_code == 200

    # When: Bob, signed in, and an anonymous browser ask for Ada's files
    bob = _register(client, "bob@example.com")
    anonymous = Browser(client)

    # Then: both are refused, and get none of the bytes
    for other in (bob, anonymous):
        for link in links:
            refused = _download(other, link)
            assert refused.status_code == 403, (link, refused.status_code)
            assert b"%PDF" not in refused.body and b"PNG" not in refused.body

    # And: Ada, signing in from a fresh browser and resuming her session, downloads them
    elsewhere = Browser(client)
    assert _sign_in(elsewhere, "ada@example.com", PASSWORD).status_code == 303
    resumed = elsewhere.page(_resume_links(elsewhere.page("/interviews"))[0])
    assert _links(resumed) == links
    got = _download(elsewhere, links[0])
    assert got.status_code == 200 and got.body.startswith(b"%PDF")
