"""The local stack's moto speedups answer exactly as moto does, roll a failed transaction back
as moto does, and do not copy the whole table to do it."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.local.moto_speedups import partition_scoped

TABLE = "InterviewData"  # infra/resources.yaml, created by fresh_aws


def _put(ddb: Any, pk: str, sk: str, **attrs: dict[str, str]) -> None:
    ddb.put_item(TableName=TABLE, Item={"pk": {"S": pk}, "sk": {"S": sk}, **attrs})


@pytest.fixture
def table(fresh_aws: dict[str, Any]) -> Any:
    ddb = fresh_aws["dynamodb"]
    for session in ("a", "b", "c"):
        for step in range(4):
            _put(ddb, session, f"step#{step:08d}", n={"N": str(step)})
        _put(ddb, session, "step~head", v={"N": "3"}, interview={"S": "x.yml"}, modified={"N": str(ord(session))})
    return ddb


QUERIES: list[dict[str, Any]] = [
    {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "b"}}},
    {"KeyConditionExpression": "pk = :p AND sk BETWEEN :a AND :z", "ScanIndexForward": False, "Limit": 2,
     "ConsistentRead": True,
     "ExpressionAttributeValues": {":p": {"S": "b"}, ":a": {"S": "step#"}, ":z": {"S": "step~head"}}},
    {"KeyConditionExpression": "pk = :p AND begins_with(sk, :s)", "FilterExpression": "n > :one",
     "ExpressionAttributeValues": {":p": {"S": "c"}, ":s": {"S": "step#"}, ":one": {"N": "1"}}},
    {"KeyConditionExpression": "pk = :p", "Limit": 2, "ExclusiveStartKey": {"pk": {"S": "a"}, "sk": {"S":
                                                                                                   "step#00000001"}},
     "ExpressionAttributeValues": {":p": {"S": "a"}}},
    {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "nobody"}}},
    {"IndexName": "by_interview", "KeyConditionExpression": "interview = :i",
     "ExpressionAttributeValues": {":i": {"S": "x.yml"}}},
]


def _answers(ddb: Any) -> list[dict[str, Any]]:
    answers = []
    for query in QUERIES:
        reply = ddb.query(TableName=TABLE, **query)
        answers.append({key: reply.get(key) for key in ("Items", "Count", "ScannedCount", "LastEvaluatedKey")})
    return answers


def test_a_query_answers_exactly_as_moto_does(table: Any) -> None:
    plain = _answers(table)
    with partition_scoped() as applied:
        assert applied
        assert _answers(table) == plain
    assert [len(answer["Items"]) for answer in plain] == [5, 2, 2, 2, 0, 3]


def _backend() -> Any:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]


def _everything(ddb: Any) -> list[dict[str, Any]]:
    return sorted(ddb.scan(TableName=TABLE, ConsistentRead=True)["Items"], key=lambda i: (i["pk"]["S"], i["sk"]["S"]))


def _failing_transaction(ddb: Any) -> None:
    """A write to session a and to a new session, then a condition on b that does not hold."""
    with pytest.raises(ddb.exceptions.TransactionCanceledException):
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "a"}, "sk": {"S": "step#00000004"}}}},
            {"Update": {"TableName": TABLE, "Key": {"pk": {"S": "a"}, "sk": {"S": "step~head"}},
                        "UpdateExpression": "SET v = :four", "ExpressionAttributeValues": {":four": {"N": "4"}}}},
            {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "new"}, "sk": {"S": "step~head"}}}},
            {"ConditionCheck": {"TableName": TABLE, "Key": {"pk": {"S": "b"}, "sk": {"S": "step~head"}},
                                "ConditionExpression": "v = :two", "ExpressionAttributeValues": {":two": {"N": "2"}}}},
        ])


def test_a_failed_transaction_leaves_every_item_as_it_was_without_copying_the_table(table: Any) -> None:
    before = _everything(table)
    # moto alone rolls back by putting a copy of the whole table in place of the table
    stored = _backend().tables[TABLE]
    _failing_transaction(table)
    assert _everything(table) == before and _backend().tables[TABLE] is not stored

    stored = _backend().tables[TABLE]
    with partition_scoped():
        _failing_transaction(table)
        assert _everything(table) == before
        assert _backend().tables[TABLE] is stored  # rolled back in the partitions named, not by a copy


def test_a_transaction_that_holds_is_applied_in_full(table: Any) -> None:
    with partition_scoped():
        table.transact_write_items(TransactItems=[
            {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "a"}, "sk": {"S": "step#00000004"}}}},
            {"Update": {"TableName": TABLE, "Key": {"pk": {"S": "a"}, "sk": {"S": "step~head"}},
                        "UpdateExpression": "SET v = :four", "ConditionExpression": "v = :three",
                        "ExpressionAttributeValues": {":four": {"N": "4"}, ":three": {"N": "3"}}}},
        ])
    head = table.get_item(TableName=TABLE, Key={"pk": {"S": "a"}, "sk": {"S": "step~head"}})["Item"]
    assert head["v"] == {"N": "4"}
    assert len(table.query(TableName=TABLE, KeyConditionExpression="pk = :p",
                           ExpressionAttributeValues={":p": {"S": "a"}})["Items"]) == 6


def test_leaving_puts_moto_back_as_it_was(fresh_aws: dict[str, Any]) -> None:
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    query, transact = Table.query, DynamoDBBackend.transact_write_items
    with partition_scoped():
        assert (Table.query, DynamoDBBackend.transact_write_items) != (query, transact)
    assert (Table.query, DynamoDBBackend.transact_write_items) == (query, transact)


def test_the_local_stacks_embedded_aws_runs_with_the_speedups() -> None:
    from moto.dynamodb.models.table import Table

    from chalicelib.local.stack import EmbeddedAws

    query = Table.query
    aws = EmbeddedAws(0)
    aws.start()
    try:
        assert Table.query is not query
    finally:
        aws.stop()
    assert Table.query is query
