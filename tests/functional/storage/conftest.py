"""Fixtures for the storage layer on an emulated AWS (moto).

`aws`: the session's in-process mock (tests/conftest.py `moto_aws`); each test that asks
for `table`/`bucket` gets a fresh InterviewData table and interview-blobs
bucket, created as infra/ declares them, and removed afterwards.

`serialized_aws`: a moto server on localhost that handles one request at a
time. moto's backends are not thread-safe: under concurrent requests they let
two writes pass the same condition (see the concurrency tests). DynamoDB makes
each conditional write atomic; a server that serializes requests is the
closest moto gets to that, so the concurrency test of DynamoSessionStore runs
there, over real HTTP.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

TABLE = "InterviewData"
BUCKET = "interview-blobs"
REGION = "us-east-1"

@pytest.fixture(scope="package")
def aws(moto_aws: None) -> None:
    """Fake credentials and every AWS call answered by moto (the session-wide mock of tests/conftest.py)."""


@pytest.fixture(scope="package")
def dynamodb_client(aws: None) -> Any:
    import boto3

    return boto3.client("dynamodb", region_name=REGION)


@pytest.fixture(scope="package")
def s3_client(aws: None) -> Any:
    import boto3

    return boto3.client("s3", region_name=REGION)


def _index(name: str, hash_key: str) -> dict[str, Any]:
    return {
        "IndexName": name,
        "KeySchema": [
            {"AttributeName": hash_key, "KeyType": "HASH"},
            {"AttributeName": "modified", "KeyType": "RANGE"},
        ],
        "Projection": {"ProjectionType": "ALL"},
    }


def create_table(dynamodb_client: Any) -> None:
    """The InterviewData table with the by_interview and by_owner indexes."""
    attributes = (("pk", "S"), ("sk", "S"), ("interview", "S"), ("owner", "S"), ("modified", "N"))
    dynamodb_client.create_table(
        TableName=TABLE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": name, "AttributeType": kind} for name, kind in attributes],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[_index("by_interview", "interview"), _index("by_owner", "owner")],
    )


def drop_bucket(s3_client: Any) -> None:
    for key in bucket_keys(s3_client):
        s3_client.delete_object(Bucket=BUCKET, Key=key)
    s3_client.delete_bucket(Bucket=BUCKET)


@pytest.fixture
def table(dynamodb_client: Any) -> Iterator[str]:
    create_table(dynamodb_client)
    yield TABLE
    dynamodb_client.delete_table(TableName=TABLE)


@pytest.fixture
def bucket(s3_client: Any) -> Iterator[str]:
    s3_client.create_bucket(Bucket=BUCKET)
    yield BUCKET
    drop_bucket(s3_client)


def bucket_keys(s3_client: Any, prefix: str = "") -> list[str]:
    pages = s3_client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
    return [obj["Key"] for page in pages for obj in page.get("Contents", [])]


def scan_items(dynamodb_client: Any) -> list[dict[str, Any]]:
    pages = dynamodb_client.get_paginator("scan").paginate(TableName=TABLE)
    return [item for page in pages for item in page["Items"]]


@pytest.fixture(scope="package")
def serialized_endpoint(aws: None) -> Iterator[str]:
    """The URL of a moto server that handles one request at a time."""
    from chalicelib.local.moto_server import MotoServer

    server = MotoServer().start()
    yield server.url
    server.stop()


@pytest.fixture
def serialized_clients(serialized_endpoint: str) -> Iterator[tuple[Any, Any]]:
    """DynamoDB and S3 clients of the serialized server, with a fresh table and bucket."""
    import boto3
    from botocore.config import Config

    config = Config(max_pool_connections=50, retries={"mode": "standard"})
    dynamodb = boto3.client("dynamodb", region_name=REGION, endpoint_url=serialized_endpoint, config=config)
    s3 = boto3.client("s3", region_name=REGION, endpoint_url=serialized_endpoint, config=config)
    create_table(dynamodb)
    s3.create_bucket(Bucket=BUCKET)
    yield dynamodb, s3
    dynamodb.delete_table(TableName=TABLE)
    drop_bucket(s3)
