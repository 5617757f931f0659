"""Browser uploads sent straight to S3, past API Gateway's body limit (about 6 MB through Lambda).

The page's script (static/uploads.js) asks `POST /interview/upload-slot` for a slot when a
chosen file is larger than DIRECT_UPLOAD_BYTES. A slot is a presigned POST for one object,
`incoming/<session>/<token>`, at most MAX_UPLOAD_BYTES long (S3 enforces the policy), valid for
SLOT_SECONDS. The script posts the file there, then sends the form with `s3:<token>/<name>` in
the field instead of the file. The route that takes the form (`take`) checks the object's size
before reading it, reads it, and deletes it; from there it is an upload like any other (its
type sniffed, its name cleaned, sealed with the session before the commit). The token is
random and the key is under the session the request holds, so a form can only name an object
its own session's slot made. An object nobody takes is removed by the bucket's lifecycle
rule on `incoming/` (a day later).
"""

from __future__ import annotations

import re
from typing import Any, Protocol
from urllib.parse import urlsplit

from chalicelib.runtime.errors import RuntimeLayerError
from chalicelib.storage import crypto

SLOT_SECONDS = 900
INCOMING_PREFIX = "incoming/"
TOKEN_LENGTH = 32
# What the form sends in a file field for a file it sent to S3.
DIRECT_VALUE = re.compile(rf"s3:(?P<token>[A-Za-z0-9]{{{TOKEN_LENGTH}}})/(?P<name>[^\r\n]{{1,255}})")


class DirectUploadError(RuntimeLayerError):
    """An object sent straight to S3 cannot be taken (larger than allowed)."""


class DirectUploads(Protocol):
    def slot(self, key: str, max_bytes: int) -> dict[str, Any]:
        """A presigned POST for `key`: {"url", "fields"}."""
        ...

    def origin(self) -> str:
        """The origin (scheme://host[:port]) the browser posts to, for the page's connect-src."""
        ...

    def take(self, key: str, max_bytes: int) -> bytes | None:
        """The object's bytes, deleted from the bucket; None if it is not there. DirectUploadError
        (and the object deleted) if it is larger than `max_bytes`, before it is read."""
        ...


def incoming_key(session_id: str, token: str) -> str:
    return f"{INCOMING_PREFIX}{session_id}/{token}"


def new_token() -> str:
    return crypto.random_token(TOKEN_LENGTH)


class S3DirectUploads:
    """Slots and objects in the blob bucket. `presign` is the client whose endpoint the browser
    reaches (the local stack's moto server); by default the same as `client`."""

    def __init__(self, bucket: str, client: Any = None, presign: Any = None) -> None:
        self.bucket = bucket
        self._client = client
        self._presign = presign

    @property
    def s3(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("s3")
        return self._client

    @property
    def signer(self) -> Any:
        return self._presign if self._presign is not None else self.s3

    def slot(self, key: str, max_bytes: int) -> dict[str, Any]:
        post: dict[str, Any] = self.signer.generate_presigned_post(
            self.bucket, key, Conditions=[["content-length-range", 1, max_bytes]], ExpiresIn=SLOT_SECONDS)
        return {"url": post["url"], "fields": dict(post["fields"])}

    def origin(self) -> str:
        url = urlsplit(self.slot(f"{INCOMING_PREFIX}origin", 1)["url"])
        return f"{url.scheme}://{url.netloc}"

    def take(self, key: str, max_bytes: int) -> bytes | None:
        s3 = self.s3
        try:
            size = int(s3.head_object(Bucket=self.bucket, Key=key)["ContentLength"])
        except s3.exceptions.ClientError as err:
            if str(err.response.get("Error", {}).get("Code")) in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        try:
            if size > max_bytes:
                raise DirectUploadError(f"the file sent is {size:,} bytes, but at most {max_bytes:,} bytes are "
                                        "accepted (MAX_UPLOAD_BYTES); choose a smaller file")
            return bytes(s3.get_object(Bucket=self.bucket, Key=key)["Body"].read())
        finally:
            s3.delete_object(Bucket=self.bucket, Key=key)
