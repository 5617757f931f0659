"""The storage behaviour suite against DynamoDB and S3 (moto), plus what only
the DynamoDB stores do: item layout, S3 offload, errors from AWS."""

from __future__ import annotations

import os
from typing import Any

import pytest

from chalicelib.storage.accounts import DynamoAccountStore
from chalicelib.storage.dynamodb import (
    STEP_BLOB_LIMIT,
    DynamoSessionStore,
    _commit_conflict,
    _from_client_error,
    head_to_item,
)
from chalicelib.storage.errors import SessionNotFoundError, StorageError, VersionConflictError
from chalicelib.storage.records import BlobKind, Sealed, StepRecord
from chalicelib.storage.tasks import Notification, TaskRecord, TaskWrite
from tests.functional.storage.conftest import BUCKET, TABLE, bucket_keys, scan_items
from tests.unit.storage.test_memory_store import (
    INTERVIEW,
    AccountStoreBehaviour,
    SessionStoreBehaviour,
    StoredBytes,
    advance,
    assert_concurrent_writers_lose_no_update,
    make_head,
    step,
)


@pytest.fixture
def store(dynamodb_client: Any, s3_client: Any, table: str, bucket: str) -> DynamoSessionStore:
    return DynamoSessionStore(table, bucket, client=dynamodb_client, s3=s3_client)


class TestDynamoSessionStore(SessionStoreBehaviour):
    """Runs the shared suite; the `store` fixture above is the DynamoDB one."""

    # moto's in-process backend is not atomic under threads (two conditional writes can pass on
    # the same version, with plain boto3 and no project code), so the inherited concurrency test
    # would test moto, not us. The DynamoDB store runs it on a serialized moto server instead.
    test_thirty_concurrent_writers_lose_no_update = None  # type: ignore[assignment]

    @pytest.mark.slow  # about 10 s: some 1,400 requests, one at a time
    def test_thirty_concurrent_writers_lose_no_update_on_a_serialized_moto_server(
        self, serialized_clients: tuple[Any, Any]
    ) -> None:
        # Given: the store talking HTTP to a moto server that, like DynamoDB, applies
        # each write atomically (it handles one request at a time)
        dynamodb, s3 = serialized_clients
        store = DynamoSessionStore(TABLE, BUCKET, client=dynamodb, s3=s3)
        # When / Then: (HTTP round trips already give writers time to collide)
        assert_concurrent_writers_lose_no_update(store, writers=30, think=0.0)


class TestDynamoAccountStore(AccountStoreBehaviour):
    @pytest.fixture
    def accounts(self, dynamodb_client: Any, table: str) -> DynamoAccountStore:
        return DynamoAccountStore(table, client=dynamodb_client)

    @pytest.fixture
    def stored_bytes(self, dynamodb_client: Any, table: str) -> StoredBytes:
        # Every attribute of every item, as DynamoDB returns it.
        return lambda: repr(scan_items(dynamodb_client)).encode()


def _item(dynamodb_client: Any, sk: str, session_id: str = "sess1") -> dict[str, Any]:
    response = dynamodb_client.get_item(
        TableName=TABLE, Key={"pk": {"S": f"session#{session_id}"}, "sk": {"S": sk}}
    )
    item: dict[str, Any] = response["Item"]
    return item


def test_clients_are_built_on_first_use_from_the_environment(table: str, bucket: str) -> None:
    # Given: a store given no clients (the Lambda way)
    store = DynamoSessionStore(table, bucket)
    # When
    store.create(make_head(), step(1))
    # Then
    assert store.load(INTERVIEW, "sess1")[1] == step(1)


def test_head_item_has_the_documented_attributes(store: DynamoSessionStore, dynamodb_client: Any) -> None:
    # Given / When
    store.create(make_head(owner="u1", title="T", tags=("a",), key_check="ff" * 16), step(1))
    # Then
    item = _item(dynamodb_client, "step~head")
    assert item["interview"] == {"S": INTERVIEW}
    assert item["version"] == {"N": "1"}
    assert item["owner"] == {"S": "u1"}
    assert item["tags"] == {"L": [{"S": "a"}]}
    assert item["encrypted"] == {"BOOL": False}
    assert _item(dynamodb_client, "step#00000001")["blob"] == {"B": b"blob of step 1"}


def test_anonymous_head_has_no_owner_or_tags_attribute() -> None:
    # Given: an anonymous session without tags / When
    item = head_to_item(make_head())
    # Then: owner stays out of the sparse by_owner index
    assert "owner" not in item
    assert "tags" not in item


def test_big_blob_is_kept_in_s3_and_removed_with_the_session(
    store: DynamoSessionStore, dynamodb_client: Any, s3_client: Any
) -> None:
    # Given: a step just over the limit
    big = os.urandom(STEP_BLOB_LIMIT + 1)
    store.create(make_head(), step(1, big))
    # When
    item = _item(dynamodb_client, "step#00000001")
    # Then: the item points to S3 and the object holds the bytes
    assert "blob" not in item
    assert item["s3"]["S"].startswith("steps/sess1/1-")
    assert bucket_keys(s3_client) == [item["s3"]["S"]]
    assert store.load(INTERVIEW, "sess1")[1] == step(1, big)
    # And when the session is deleted, so is the object
    store.delete(INTERVIEW, "sess1")
    assert bucket_keys(s3_client) == []
    assert scan_items(dynamodb_client) == []


def test_blob_at_the_limit_stays_in_the_item(store: DynamoSessionStore, s3_client: Any) -> None:
    # Given / When
    store.create(make_head(), step(1, os.urandom(STEP_BLOB_LIMIT)))
    # Then
    assert bucket_keys(s3_client) == []


def test_failed_commit_removes_the_s3_object_it_uploaded(store: DynamoSessionStore, s3_client: Any) -> None:
    # Given: a session that moved on past version 1
    head = make_head()
    store.create(head, step(1))
    store.commit(head, advance(head, step=2), step(2))
    # When: a stale commit with a big step fails
    with pytest.raises(StorageError):
        store.commit(head, advance(head, step=3), step(3, os.urandom(STEP_BLOB_LIMIT + 1)))
    # Then: no orphan object is left
    assert bucket_keys(s3_client) == []


def test_delete_removes_every_item_of_the_partition(store: DynamoSessionStore, dynamodb_client: Any) -> None:
    # Given: a session with 30 steps and an extra item of its own (more than one batch)
    head = make_head()
    store.create(head, step(1))
    for n in range(2, 31):
        after = advance(head, step=n)
        store.commit(head, after, step(n))
        head = after
    dynamodb_client.put_item(TableName=TABLE, Item={"pk": {"S": "session#sess1"}, "sk": {"S": "task#1"}})
    store.create(make_head("other"), step(1))
    # When
    store.delete(INTERVIEW, "sess1")
    # Then: only the other session remains
    assert {item["pk"]["S"] for item in scan_items(dynamodb_client)} == {"session#other"}


def test_items_and_objects_record_the_kind_of_their_blob_and_tasks_their_expiry(
    store: DynamoSessionStore, dynamodb_client: Any, s3_client: Any
) -> None:
    # Given: a step, an extra, a file, a finished task and a notification, each with its kind
    head = make_head(encrypted=True)
    store.create(head, StepRecord(1, b"E1 step", BlobKind.ENCRYPTED))
    task = TaskRecord("sess1", "t1", INTERVIEW, "act", "done", 1.0, result=b"S1 result", kind=BlobKind.SIGNED,
                      expires_at=1_900_000_000.75)
    note = Notification("sess1", "n1", b"E1 note", BlobKind.ENCRYPTED, 1_900_000_100.0)
    store.commit(head, advance(head), None, extras={"kv:x": Sealed(b"E1 extra", BlobKind.ENCRYPTED)},
                 tasks=[TaskWrite(task)], notes=[note])
    store.put_file("sess1", "f1/doc.pdf", Sealed(b"S1 file", BlobKind.SIGNED))
    # When / Then: the kind is an attribute of each item, and S3 metadata of the file
    assert _item(dynamodb_client, "step#00000001")["kind"] == {"S": "encrypted"}
    assert _item(dynamodb_client, "extra#kv:x")["kind"] == {"S": "encrypted"}
    assert _item(dynamodb_client, "task#t1")["kind"] == {"S": "signed"}
    assert _item(dynamodb_client, "note#n1")["kind"] == {"S": "encrypted"}
    metadata = s3_client.head_object(Bucket=BUCKET, Key="files/sess1/f1/doc.pdf")["Metadata"]
    assert metadata == {"kind": "signed"}
    # Then: task and notification items carry the table's TTL attribute, in whole seconds
    assert _item(dynamodb_client, "task#t1")["expires_at"] == {"N": "1900000000"}
    assert _item(dynamodb_client, "note#n1")["expires_at"] == {"N": "1900000100"}


def test_items_written_before_kinds_were_recorded_read_as_of_no_kind(
    store: DynamoSessionStore, dynamodb_client: Any, s3_client: Any
) -> None:
    # Given: items and an object as the previous version wrote them, without a kind
    store.create(make_head(), step(1))
    pk = {"S": "session#sess1"}
    dynamodb_client.put_item(TableName=TABLE, Item={"pk": pk, "sk": {"S": "extra#kv:x"}, "blob": {"B": b"old"}})
    dynamodb_client.put_item(TableName=TABLE, Item={"pk": pk, "sk": {"S": "note#n1"}, "blob": {"B": b"old"}})
    s3_client.put_object(Bucket=BUCKET, Key="files/sess1/f1/doc.pdf", Body=b"old")
    # When / Then: the caller falls back to the head's flag
    assert store.load(INTERVIEW, "sess1")[1].kind is None
    assert store.load_extra(INTERVIEW, "sess1", "kv:x") == Sealed(b"old", None)
    assert store.get_file("sess1", "f1/doc.pdf") == Sealed(b"old", None)
    assert store.take_notifications("sess1") == [Notification("sess1", "n1", b"old")]


def test_missing_step_item_is_reported_as_a_damaged_session(
    store: DynamoSessionStore, dynamodb_client: Any
) -> None:
    # Given: a head whose step item was removed behind the store's back
    store.create(make_head(), step(1))
    dynamodb_client.delete_item(
        TableName=TABLE, Key={"pk": {"S": "session#sess1"}, "sk": {"S": "step#00000001"}}
    )
    # When / Then
    with pytest.raises(SessionNotFoundError, match="damaged"):
        store.load(INTERVIEW, "sess1")


def test_list_heads_pages_through_every_session(store: DynamoSessionStore) -> None:
    # Given: many sessions with steps big enough to need several scan and query pages
    blob = b"x" * 200_000
    for n in range(12):
        store.create(make_head(f"s{n:02d}", modified=float(n), owner="u1"), step(1, blob))
    # When / Then
    assert len(list(store.list_heads())) == 12
    assert [h.session_id for h in store.list_heads(interview=INTERVIEW)] == [f"s{n:02d}" for n in range(12)]
    assert len(list(store.list_heads(owner="u1"))) == 12


def test_aws_errors_become_storage_errors_that_name_the_table(dynamodb_client: Any, s3_client: Any) -> None:
    # Given: a store pointed at a table that does not exist
    store = DynamoSessionStore("NoSuchTable", BUCKET, client=dynamodb_client, s3=s3_client)
    # When / Then
    with pytest.raises(StorageError, match="NoSuchTable") as caught:
        store.load(INTERVIEW, "sess1")
    assert caught.value.__cause__ is not None


def test_a_transaction_conflict_on_commit_is_a_version_conflict() -> None:
    # Given: DynamoDB cancelled a commit because another transaction held the head
    # (moto never answers this, so the response is written out)
    response = {
        "Error": {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"},
        "CancellationReasons": [{"Code": "None"}, {"Code": "TransactionConflict"}],
    }
    # When
    error = _from_client_error(response, "committing", _commit_conflict(make_head()))
    # Then: the turn retries it like any other lost race
    assert isinstance(error, VersionConflictError)


def test_throttling_is_a_plain_storage_error_that_says_what_to_do() -> None:
    # Given
    response = {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}
    # When
    error = _from_client_error(response, "committing session 'x'", _commit_conflict(make_head()))
    # Then
    assert type(error) is StorageError
    assert "ThrottlingException" in str(error) and "try again later" in str(error)
