"""Shared fixtures: an emulated AWS (moto), the app's services on it, and an API client.

- `moto_aws`: fake credentials and an in-process moto for the whole session.
- `fresh_aws`: moto emptied, then every resource of infra/resources.yaml created.
- `services`: the real DynamoDB/S3 adapters on moto, installed into the app.
- `client`: chalice.test.Client for the app; `api`: a small JSON client with an
  admin API key.
- `examples`: ../shared/examples (docassemble's examples; the tests that need
  them skip, saying so, when the folder is absent — never the case in CI).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT.parent / "shared" / "examples"
FIXTURE_INTERVIEWS = ROOT / "tests" / "fixtures" / "interviews"
REGION = "us-east-1"
SERVER_KEY = base64.b64encode(b"k" * 32).decode()
ADMIN_KEY = "AdminKeyForTests0123456789abcdef"
ADMIN_PASSWORD = "admin-password"

_FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION,
}


def examples_dir() -> Path:
    if not EXAMPLES.is_dir():
        pytest.skip(f"skipped: docassemble's example interviews are not at {EXAMPLES} (../shared/examples)")
    return EXAMPLES


@pytest.fixture
def examples() -> Path:
    return examples_dir()


def settings_env(**extra: str) -> dict[str, str]:
    return {"INTERVIEW_PATH": f"{EXAMPLES}:{FIXTURE_INTERVIEWS}", "SERVER_KEY": SERVER_KEY, **extra}


@pytest.fixture(scope="session")
def moto_aws() -> Iterator[None]:
    from moto import mock_aws

    with pytest.MonkeyPatch.context() as env:
        for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
            env.delenv(name, raising=False)
        for name, value in _FAKE_AWS_ENV.items():
            env.setenv(name, value)
        with mock_aws():
            yield


@pytest.fixture(scope="session")
def aws_clients(moto_aws: None) -> dict[str, Any]:
    import boto3

    return {name: boto3.client(name, region_name=REGION) for name in ("dynamodb", "s3", "sqs")}


@pytest.fixture
def fresh_aws(aws_clients: dict[str, Any]) -> dict[str, Any]:
    from moto.moto_api._internal.models import moto_api_backend

    from chalicelib.local.resources import create_resources

    moto_api_backend.reset()
    create_resources()
    return aws_clients


@pytest.fixture
def settings() -> Any:
    from chalicelib.settings import Settings

    return Settings.from_env(settings_env())


@pytest.fixture
def services(fresh_aws: dict[str, Any], settings: Any) -> Iterator[Any]:
    from chalicelib.language.loader import InterviewLoader
    from chalicelib.runtime.mail_bucket import S3MailBucket
    from chalicelib.runtime.queue import SqsTaskQueue
    from chalicelib.runtime.services import Services
    from chalicelib.storage.accounts import DynamoAccountStore
    from chalicelib.storage.dynamodb import DynamoSessionStore
    from chalicelib.web import api_auth, context

    services = Services(
        settings=settings,
        store=DynamoSessionStore(settings.table_name, settings.blob_bucket, client=fresh_aws["dynamodb"],
                                 s3=fresh_aws["s3"]),
        accounts=DynamoAccountStore(settings.table_name, client=fresh_aws["dynamodb"]),
        loader=InterviewLoader(settings.interview_path),
        queue=SqsTaskQueue(settings.task_queue, client=fresh_aws["sqs"]),
        mail=S3MailBucket(settings.mail_bucket, client=fresh_aws["s3"]),
    )
    context.use_services(services)
    api_auth.clear_cache()
    yield services
    context.use_services(None)
    api_auth.clear_cache()


@pytest.fixture
def client(services: Any) -> Iterator[Any]:
    from chalice.test import Client

    from app import app

    with Client(app) as test_client:
        yield test_client


@dataclass
class ApiResult:
    status: int
    body: bytes
    headers: dict[str, Any]

    @property
    def json(self) -> Any:
        return json.loads(self.body)


class Api:
    """JSON calls to the REST API with the admin key."""

    def __init__(self, client: Any, key: str) -> None:
        self.client = client
        self.key = key

    def _call(self, method: str, path: str, data: Any = None, key: str | None = None) -> ApiResult:
        headers = {"X-API-Key": self.key if key is None else key, "Accept": "*/*"}  # as curl and requests send
        body = None
        if data is not None:
            headers["Content-Type"] = "application/json"
            body = json.dumps(data)
        response = self.client.http.request(method, path, headers=headers, body=body)
        return ApiResult(response.status_code, response.body, dict(response.headers))

    def get(self, path: str, key: str | None = None) -> ApiResult:
        return self._call("GET", path, key=key)

    def post(self, path: str, data: Any, key: str | None = None) -> ApiResult:
        return self._call("POST", path, data, key=key)

    def delete(self, path: str, key: str | None = None) -> ApiResult:
        return self._call("DELETE", path, key=key)

    def new_session(self, interview: str) -> dict[str, Any]:
        result = self.get(f"/api/session/new?i={interview}")
        assert result.status == 200, result.body
        data: dict[str, Any] = result.json
        return data


@pytest.fixture(scope="session")
def admin_password_hash() -> str:
    """The admin's password hashed once per run, at the full production cost (scrypt with
    N = 2**17 takes a few tenths of a second, too long to pay in every API test)."""
    from chalicelib.storage import crypto

    return crypto.hash_password(ADMIN_PASSWORD)


@pytest.fixture
def admin_key(services: Any, admin_password_hash: str) -> str:
    from chalicelib.storage import crypto
    from chalicelib.storage.records import User

    # What create_user stores, with the hash made once above.
    admin = User(id=crypto.random_token(16), email="admin@localhost", privileges=("admin",),
                 password_hash=admin_password_hash)
    services.accounts._put_user(admin)
    services.accounts.add_api_key("admin@localhost", ADMIN_KEY, "tests")
    return ADMIN_KEY


@pytest.fixture
def api(client: Any, admin_key: str) -> Api:
    return Api(client, admin_key)
