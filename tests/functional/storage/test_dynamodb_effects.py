"""The effect behaviour suite (tests/unit/storage/effects_behaviour.py) against DynamoDB (moto),
plus the items it writes: no value in clear, and each effect's expiry."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.storage.dynamodb import DynamoSessionStore
from tests.functional.storage.conftest import TABLE, create_table, scan_items
from tests.unit.storage.effects_behaviour import EffectStoreBehaviour, effect
from tests.unit.storage.test_memory_store import advance, make_head, step


@pytest.fixture
def table(dynamodb_client: Any) -> Iterator[str]:
    """The table, with the sparse by_effect index of infra/resources.yaml added."""
    create_table(dynamodb_client)
    dynamodb_client.update_table(
        TableName=TABLE,
        AttributeDefinitions=[{"AttributeName": "effect_shard", "AttributeType": "S"},
                              {"AttributeName": "effect_due", "AttributeType": "N"}],
        GlobalSecondaryIndexUpdates=[{"Create": {
            "IndexName": "by_effect", "Projection": {"ProjectionType": "KEYS_ONLY"},
            "KeySchema": [{"AttributeName": "effect_shard", "KeyType": "HASH"},
                          {"AttributeName": "effect_due", "KeyType": "RANGE"}]}}])
    yield TABLE
    dynamodb_client.delete_table(TableName=TABLE)


@pytest.fixture
def store(dynamodb_client: Any, s3_client: Any, table: str, bucket: str) -> DynamoSessionStore:
    return DynamoSessionStore(table, bucket, client=dynamodb_client, s3=s3_client)


class TestDynamoEffects(EffectStoreBehaviour):
    """Runs the shared suite; the `store` fixture above is the DynamoDB one."""


def test_effect_and_mark_items_have_the_documented_keys(store: DynamoSessionStore, dynamodb_client: Any) -> None:
    head = make_head("caller")
    store.create(head, step(1))
    store.commit(head, advance(head, expires_at=1_900_000_000), step(1), effects=[effect("v1-0")],
                 marks=["other:v2-1"])
    items = {i["sk"]["S"]: i for i in scan_items(dynamodb_client) if i["pk"]["S"] == "session#caller"}
    assert items["effect#v1-0"]["status"] == {"S": "pending"}
    assert items["effect#v1-0"]["expires_at"] == {"N": "1800000000"}
    assert "effect_due" not in items["effect#v1-0"]  # a record without a due time is not in by_effect
    assert set(items["applied#other:v2-1"]) == {"pk", "sk", "expires_at"}
