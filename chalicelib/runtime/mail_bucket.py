"""The mail bucket: raw inbound mail as SES's receipt rule (or the local SMTP server) stores it."""

from __future__ import annotations

from typing import Any, Protocol

from chalicelib.runtime.errors import RuntimeLayerError


class MailBucketError(RuntimeLayerError):
    """The mail bucket could not be read or written; the message is tried again."""


class MailBucket(Protocol):
    name: str

    def read(self, key: str, limit: int) -> bytes | None:
        """At most `limit` bytes of the raw mail under `key`, or None if it is gone."""
        ...

    def put(self, key: str, raw: bytes) -> None: ...

    def delete(self, key: str) -> None: ...


class S3MailBucket:
    def __init__(self, name: str, client: Any = None) -> None:
        self.name = name
        self._client = client

    @property
    def s3(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("s3")
        return self._client

    def read(self, key: str, limit: int) -> bytes | None:
        try:
            response = self.s3.get_object(Bucket=self.name, Key=key, Range=f"bytes=0-{max(0, limit - 1)}")
        except self.s3.exceptions.NoSuchKey:
            return None
        except Exception as err:
            raise MailBucketError(f"reading s3://{self.name}/{key} failed: {err}") from err
        return bytes(response["Body"].read(limit))

    def put(self, key: str, raw: bytes) -> None:
        try:
            self.s3.put_object(Bucket=self.name, Key=key, Body=raw)
        except Exception as err:
            raise MailBucketError(f"storing s3://{self.name}/{key} failed: {err}") from err

    def delete(self, key: str) -> None:
        try:
            self.s3.delete_object(Bucket=self.name, Key=key)
        except Exception as err:
            raise MailBucketError(f"deleting s3://{self.name}/{key} failed: {err}") from err


class MemoryMailBucket:
    """For unit tests: a dict."""

    def __init__(self, name: str = "mail") -> None:
        self.name = name
        self.objects: dict[str, bytes] = {}

    def read(self, key: str, limit: int) -> bytes | None:
        raw = self.objects.get(key)
        return None if raw is None else raw[:limit]

    def put(self, key: str, raw: bytes) -> None:
        self.objects[key] = raw

    def delete(self, key: str) -> None:
        self.objects.pop(key, None)
