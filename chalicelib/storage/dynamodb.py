"""The DynamoDB session store (Lambda and the local stack), with S3 for big steps.

One table, keys ``pk``/``sk``. A session's items share the partition
``session#<id>``: its steps (``sk = "step#00000001"``...) and its head
(``sk = "step~head"``), which sorts right after the steps: the current step is
always the highest-numbered one kept, so one consistent Query of the range
``step#`` … ``step~head``, newest first, two items, reads the head and the
current step together. Each item holding a sealed blob (step, extra,
task, notification) says its `kind` (encrypted or signed), as does the
metadata of each file object. Only head items carry ``interview`` and ``owner``,
the hash keys of the indexes ``by_interview`` and ``by_owner`` (range key
``modified``); ``owner`` is written only when set, so ``by_owner`` is sparse.
So is ``by_cron``: only the head of a cron-enabled session (``allow_cron``, not
encrypted) carries ``cron_shard``, one of INDEX_SHARDS values spread by session id,
so a scheduled pass reads exactly the sessions it may run in. Every head carries
``age_shard`` (the same value), the hash key of ``by_age`` (range key ``modified``),
so the daily purge reads exactly the sessions idle for long enough. A pending e-mail or
SMS send carries the keys of the sparse ``by_send`` (dynamodb_outbox.py), which the send
sweep reads; a pending effect those of the sparse ``by_effect`` (dynamodb_effects.py).

Every change is one TransactWriteItems conditioned on the head's version. The head
and each step carry ``expires_at`` (the table's TTL attribute) when the session's
interview has a deletion period: a safety net behind the daily purge, renewed with
the head on every save (see runtime.purge). Step
blobs over STEP_BLOB_LIMIT bytes go to S3 under ``steps/<session id>/`` and
the step item holds the object key instead; `delete` removes that prefix.

boto3 is imported on first use, not at import time, to keep cold starts short.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from decimal import Decimal
from typing import Any

from chalicelib.storage import dynamodb_effects
from chalicelib.storage.base import SessionStore, check_commit
from chalicelib.storage.dynamodb_mail import (
    ADDRESS_COPY_PREFIX,
    ADDRESS_SK,
    MAIL_PREFIX,
    address_from_item,
    address_pk,
    address_puts,
    mail_from_item,
    mail_to_item,
    short_of_copy,
)
from chalicelib.storage.dynamodb_outbox import (
    claim_update,
    due_queries,
    finish_condition,
    payload_object_key,
    ref_of,
    spills,
)
from chalicelib.storage.dynamodb_snapshots import page_of, snapshot_actions, snapshot_query
from chalicelib.storage.dynamodb_tasks import (
    NOTE_PREFIX,
    TASK_PREFIX,
    note_from_item,
    note_put,
    task_from_item,
    task_put,
)
from chalicelib.storage.effects import (
    EFFECT_PREFIX,
    EffectRecord,
    EffectRef,
    effect_from_item,
    effect_to_item,
    mark_put,
    new_effect_put,
)
from chalicelib.storage.errors import (
    AlreadyAppliedError,
    SessionExistsError,
    SessionNotFoundError,
    StorageError,
    TaskStateError,
    VersionConflictError,
)
from chalicelib.storage.mail import MailAddress, MailRecord
from chalicelib.storage.outbox import (
    SEND_PREFIX,
    SendRecord,
    SendRef,
    SendStatus,
    new_send_put,
    send_from_item,
    send_to_item,
)
from chalicelib.storage.records import BlobKind, CronTarget, IdleSession, Sealed, SessionHead, StepRecord
from chalicelib.storage.session_values import VALUE_POINTER_PREFIX, owner_session
from chalicelib.storage.snapshots import POINTER_PREFIX, SnapshotPage, SnapshotRecord, pointer_target
from chalicelib.storage.tasks import Notification, TaskRecord, TaskWrite

Item = dict[str, Any]  # a DynamoDB item in the low-level client's typed-JSON form
ConditionHandler = Callable[[list[Item]], StorageError]

STEP_BLOB_LIMIT = 300_000
INDEX_BY_INTERVIEW = "by_interview"
INDEX_BY_OWNER = "by_owner"
STASH_PREFIX = "stash#"  # the partition of a stashed value (runtime.stash), outside any session
STASH_SK = "stash"
RECORD_PREFIX = "record#"  # a list of shared records (write_record): its rows and its id counter
RECORD_ROW = "row#"
RECORD_COUNTER_SK = "~last"  # sorts after every row
VALUES_PK = "values"  # the shared key-value store (DARedis): one item per key
_WHOLE_NUMBER = re.compile(rb"-?[0-9]{1,30}")
INDEX_BY_CRON = "by_cron"
INDEX_BY_AGE = "by_age"
INDEX_SHARDS = 16  # partitions of by_cron and by_age: a pass reads each; writes spread over them
STEP_PREFIX = "step#"
HEAD_SK = "step~head"  # '~' sorts after every digit: the head comes right after the highest step
FILE_KIND_METADATA = "kind"  # S3 user metadata (x-amz-meta-kind) of a file object: its BlobKind
_LOAD_ATTEMPTS = 3
_BATCH_WRITE_SIZE = 25
_S3_DELETE_SIZE = 1000
_CONDITION_CODES = ("ConditionalCheckFailed", "TransactionConflict")

# boto3's default session is not safe to build clients from in several threads at once.
_CLIENT_LOCK = threading.Lock()


class AwsClients:
    """The DynamoDB and S3 clients: the ones given, or built on first use."""

    def __init__(self, dynamodb: Any = None, s3: Any = None) -> None:
        self._dynamodb = dynamodb
        self._s3 = s3

    @property
    def dynamodb(self) -> Any:
        if self._dynamodb is None:
            self._dynamodb = _new_client("dynamodb")
        return self._dynamodb

    @property
    def s3(self) -> Any:
        if self._s3 is None:
            self._s3 = _new_client("s3")
        return self._s3


def _new_client(service: str) -> Any:
    import boto3  # here, not at module level: it costs ~200 ms of cold start

    make_client: Any = boto3.client
    with _CLIENT_LOCK:
        return make_client(service)


@contextmanager
def aws_errors(action: str, on_condition: ConditionHandler | None = None) -> Iterator[None]:
    """Turn AWS errors raised inside the block into StorageError subclasses.

    A failed condition (or a transaction conflict) becomes what `on_condition`
    makes of the cancellation reasons; any other AWS error a StorageError that
    names `action`. Errors that are not AWS's pass through untouched."""
    try:
        yield
    except StorageError:
        raise
    except Exception as err:
        from botocore.exceptions import BotoCoreError, ClientError  # loaded with boto3 by now

        if isinstance(err, ClientError):
            raise _from_client_error(err.response, action, on_condition) from err
        if isinstance(err, BotoCoreError):
            raise StorageError(
                f"{action} failed talking to AWS: {err}; check the network and credentials"
            ) from err
        raise


def _from_client_error(
    response: Mapping[str, Any], action: str, on_condition: ConditionHandler | None
) -> StorageError:
    error = response.get("Error", {})
    code = error.get("Code", "")
    if on_condition is not None:
        if code == "TransactionCanceledException":
            reasons: list[Item] = response.get("CancellationReasons") or []
            if any(r.get("Code") in _CONDITION_CODES for r in reasons):
                return on_condition(reasons)
        if code == "ConditionalCheckFailedException":  # a single-item write, not a transaction
            reason: Item = {"Code": "ConditionalCheckFailed"}
            if "Item" in response:
                reason["Item"] = response["Item"]
            return on_condition([reason])
    return StorageError(
        f"{action} failed: {code or 'unknown error'}: {error.get('Message', '')}. Check that the table"
        " and bucket exist and that the role may use them; if AWS was throttling, try again later."
    )


def session_pk(session_id: str) -> str:
    return "session#" + session_id


def step_sk(step: int) -> str:
    return f"{STEP_PREFIX}{step:08d}"


def extra_sk(name: str) -> str:
    return f"extra#{name}"


def _number(value: float) -> str:
    """A float as DynamoDB's N: plain decimal notation, no exponent, full precision."""
    return format(Decimal(repr(float(value))), "f")


def head_to_item(head: SessionHead) -> Item:
    item: Item = {
        "pk": {"S": session_pk(head.session_id)},
        "sk": {"S": HEAD_SK},
        "interview": {"S": head.interview},
        "version": {"N": str(head.version)},
        "step": {"N": str(head.step)},
        "encrypted": {"BOOL": head.encrypted},
        "created": {"N": _number(head.created)},
        "modified": {"N": _number(head.modified)},
        "allow_cron": {"BOOL": head.allow_cron},
    }
    if head.has_tasks:
        item["has_tasks"] = {"BOOL": True}
    item["age_shard"] = {"S": index_shard(head.session_id)}
    if head.cron_enabled:
        item["cron_shard"] = item["age_shard"]
    optional = {"key_check": head.key_check, "owner": head.owner, "title": head.title}
    item.update({name: {"S": value} for name, value in optional.items() if value})
    if head.tags:
        item["tags"] = {"L": [{"S": tag} for tag in head.tags]}
    if head.cron_runs:
        item["cron_runs"] = {"L": [{"S": run} for run in head.cron_runs]}
    item.update(_expiry(head.expires_at))
    return item


def _record_sk(record_id: int) -> str:
    return f"{RECORD_ROW}{record_id:012d}"  # zero-padded: the rows sort by id


def _expiry(expires_at: float) -> Item:
    """The TTL attribute (whole epoch seconds), or nothing for an item that never expires."""
    return {"expires_at": {"N": str(int(expires_at))}} if expires_at else {}


def index_shard(session_id: str) -> str:
    """The by_cron and by_age partition of a session: stable, and spread evenly over INDEX_SHARDS."""
    digest = hashlib.blake2b(session_id.encode("utf-8"), digest_size=4).digest()
    return str(int.from_bytes(digest, "big") % INDEX_SHARDS)


def head_from_item(item: Item) -> SessionHead:
    return SessionHead(
        interview=item["interview"]["S"],
        session_id=item["pk"]["S"].removeprefix("session#"),
        version=int(item["version"]["N"]),
        step=int(item["step"]["N"]),
        encrypted=item["encrypted"]["BOOL"],
        created=float(item["created"]["N"]),
        modified=float(item["modified"]["N"]),
        key_check=item.get("key_check", {}).get("S", ""),
        owner=item.get("owner", {}).get("S", ""),
        title=item.get("title", {}).get("S", ""),
        allow_cron=item.get("allow_cron", {}).get("BOOL", False),
        tags=tuple(t["S"] for t in item.get("tags", {}).get("L", [])),
        cron_runs=tuple(r["S"] for r in item.get("cron_runs", {}).get("L", [])),
        expires_at=float(item.get("expires_at", {}).get("N", "0")),
        has_tasks=item.get("has_tasks", {}).get("BOOL", False),
    )


def _not_found(interview: str, session_id: str) -> SessionNotFoundError:
    return SessionNotFoundError(f"no session {session_id!r} in interview {interview!r}")


class DynamoSessionStore(SessionStore):
    def __init__(self, table_name: str, bucket: str, client: Any = None, s3: Any = None) -> None:
        self.table_name = table_name
        self.bucket = bucket
        self._aws = AwsClients(client, s3)

    # -- reading ---------------------------------------------------------------

    def _get(self, session_id: str, sk: str) -> Item | None:
        with aws_errors(f"reading {sk} of session {session_id!r} from table {self.table_name}"):
            response = self._aws.dynamodb.get_item(
                TableName=self.table_name,
                Key={"pk": {"S": session_pk(session_id)}, "sk": {"S": sk}},
                ConsistentRead=True,
            )
        item: Item | None = response.get("Item")
        return item

    def load(self, interview: str, session_id: str) -> tuple[SessionHead, StepRecord]:
        # One Query: the head and the highest step, which is the current one (Back deletes
        # the steps after the one it returns to). A Query is not a snapshot across items,
        # so each step item records the version that wrote it: a step newer than the head,
        # or another step than the head names, means we raced a writer: we read again.
        item: Item | None = None
        for _ in range(_LOAD_ATTEMPTS):
            head, item = self._head_and_latest_step(interview, session_id)
            if item is not None and item["sk"]["S"] == step_sk(head.step) \
                    and int(item.get("version", {}).get("N", "0")) <= head.version:
                return head, self._step_record(session_id, head.step, item)
        if item is None:
            raise SessionNotFoundError(
                f"session {session_id!r} points to step {head.step}, which is not stored;"
                " the session is damaged: delete it and start again"
            )
        raise VersionConflictError(
            f"session {session_id!r} changed during each of {_LOAD_ATTEMPTS} reads; try again"
        )

    def _head_and_latest_step(self, interview: str, session_id: str) -> tuple[SessionHead, Item | None]:
        with aws_errors(f"reading session {session_id!r} from table {self.table_name}"):
            response = self._aws.dynamodb.query(
                TableName=self.table_name,
                KeyConditionExpression="#pk = :pk AND #sk BETWEEN :first AND :head",
                ExpressionAttributeNames={"#pk": "pk", "#sk": "sk"},
                ExpressionAttributeValues={":pk": {"S": session_pk(session_id)}, ":first": {"S": STEP_PREFIX},
                                           ":head": {"S": HEAD_SK}},
                ScanIndexForward=False, Limit=2, ConsistentRead=True,
            )
        items: list[Item] = response.get("Items", [])
        if not items or items[0]["sk"]["S"] != HEAD_SK or items[0]["interview"]["S"] != interview:
            raise _not_found(interview, session_id)
        return head_from_item(items[0]), items[1] if len(items) > 1 else None

    def load_step(self, interview: str, session_id: str, step: int) -> StepRecord:
        items = self._batch_get(session_id, [HEAD_SK, step_sk(step)])
        head = items.get(HEAD_SK)
        if head is None or head["interview"]["S"] != interview:
            raise _not_found(interview, session_id)
        item = items.get(step_sk(step))
        if item is None:
            raise SessionNotFoundError(f"session {session_id!r} has no step {step}")
        return self._step_record(session_id, step, item)

    def _step_record(self, session_id: str, step: int, item: Item) -> StepRecord:
        return StepRecord(step, self._blob(session_id, item), _kind(item))

    def _batch_get(self, session_id: str, sks: list[str]) -> dict[str, Item]:
        """Consistent read of several items of one session in one round trip, by sk."""
        keys = [{"pk": {"S": session_pk(session_id)}, "sk": {"S": sk}} for sk in sks]
        request: Item = {self.table_name: {"Keys": keys, "ConsistentRead": True}}
        found: dict[str, Item] = {}
        for attempt in range(10):
            with aws_errors(f"reading session {session_id!r} from table {self.table_name}"):
                response = self._aws.dynamodb.batch_get_item(RequestItems=request)
            found.update({i["sk"]["S"]: i for i in response["Responses"].get(self.table_name, [])})
            request = response.get("UnprocessedKeys") or {}
            if not request:
                return found
            time.sleep(0.01 * 2**attempt)
        raise StorageError(f"reading session {session_id!r}: DynamoDB kept keys unprocessed; try again later")

    def _blob(self, session_id: str, item: Item) -> bytes:
        if "blob" in item:
            blob: bytes = item["blob"]["B"]
            return blob
        key = item["s3"]["S"]
        with aws_errors(f"reading step blob s3://{self.bucket}/{key} of session {session_id!r}"):
            body: bytes = self._aws.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        return body

    def step_numbers(self, interview: str, session_id: str) -> list[int]:
        """Ascending; [] when the session does not exist. Reads only the steps'
        keys, not the head, so the interview is not checked (session ids are
        unique across interviews)."""
        items = self._query(
            f"listing steps of session {session_id!r}",
            KeyConditionExpression="#pk = :pk AND begins_with(#sk, :step)",
            ExpressionAttributeNames={"#pk": "pk", "#sk": "sk"},
            ExpressionAttributeValues={":pk": {"S": session_pk(session_id)}, ":step": {"S": STEP_PREFIX}},
            ProjectionExpression="#sk",
            ConsistentRead=True,
        )
        return [int(item["sk"]["S"].removeprefix(STEP_PREFIX)) for item in items]

    def _query(self, action: str, **params: Any) -> Iterator[Item]:
        yield from self._paginate("query", action, params)

    def _paginate(self, operation: str, action: str, params: Item) -> Iterator[Item]:
        method = getattr(self._aws.dynamodb, operation)
        while True:
            with aws_errors(f"{action} in table {self.table_name}"):
                page = method(TableName=self.table_name, **params)
            yield from page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return
            params = {**params, "ExclusiveStartKey": page["LastEvaluatedKey"]}

    def list_heads(self, interview: str | None = None, owner: str | None = None) -> Iterator[SessionHead]:
        if owner == "":
            raise ValueError("owner must be a user id; anonymous sessions are not listed by owner")
        return (head_from_item(item) for item in self._head_items(interview, owner))

    def _head_items(self, interview: str | None, owner: str | None) -> Iterator[Item]:
        if owner is not None:
            params: Item = {
                "IndexName": INDEX_BY_OWNER,
                "KeyConditionExpression": "#o = :o",
                "ExpressionAttributeNames": {"#o": "owner"},
                "ExpressionAttributeValues": {":o": {"S": owner}},
            }
            if interview is not None:
                params["FilterExpression"] = "#i = :i"
                params["ExpressionAttributeNames"]["#i"] = "interview"
                params["ExpressionAttributeValues"][":i"] = {"S": interview}
            return self._paginate("query", f"listing sessions of owner {owner!r}", params)
        if interview is not None:
            params = {
                "IndexName": INDEX_BY_INTERVIEW,
                "KeyConditionExpression": "#i = :i",
                "ExpressionAttributeNames": {"#i": "interview"},
                "ExpressionAttributeValues": {":i": {"S": interview}},
            }
            return self._paginate("query", f"listing sessions of interview {interview!r}", params)
        params = {
            "FilterExpression": "#sk = :head",
            "ExpressionAttributeNames": {"#sk": "sk"},
            "ExpressionAttributeValues": {":head": {"S": HEAD_SK}},
        }
        return self._paginate("scan", "listing all sessions", params)

    # -- stashed data (runtime.stash): one item each, outside any session -------

    def put_stash(self, key: str, sealed: Sealed, expires_at: float) -> None:
        with aws_errors(f"stashing data in table {self.table_name}"):
            self._aws.dynamodb.put_item(TableName=self.table_name, Item={
                "pk": {"S": STASH_PREFIX + key}, "sk": {"S": STASH_SK}, "blob": {"B": sealed.blob},
                **_kind_attribute(sealed.kind), **_expiry(expires_at), "until": {"N": _number(expires_at)}})

    def get_stash(self, key: str) -> tuple[Sealed, float] | None:
        item = self._get_item(STASH_PREFIX + key, STASH_SK, f"reading stashed data from table {self.table_name}")
        if item is None:
            return None
        return Sealed(item["blob"]["B"], _kind(item)), float(item["until"]["N"])

    def delete_stash(self, key: str) -> None:
        with aws_errors(f"deleting stashed data from table {self.table_name}"):
            self._aws.dynamodb.delete_item(TableName=self.table_name,
                                           Key={"pk": {"S": STASH_PREFIX + key}, "sk": {"S": STASH_SK}})

    # -- shared records (write_record): a list per key, ids from an atomic counter ---

    def append_record(self, key: str, sealed: Sealed) -> int:
        pk = {"S": RECORD_PREFIX + key}
        with aws_errors(f"numbering a record of {key!r} in table {self.table_name}"):
            counted = self._aws.dynamodb.update_item(
                TableName=self.table_name, Key={"pk": pk, "sk": {"S": RECORD_COUNTER_SK}},
                UpdateExpression="ADD #n :one", ExpressionAttributeNames={"#n": "last"},
                ExpressionAttributeValues={":one": {"N": "1"}}, ReturnValues="UPDATED_NEW")
        record_id = int(counted["Attributes"]["last"]["N"])
        with aws_errors(f"writing record {record_id} of {key!r} to table {self.table_name}"):
            self._aws.dynamodb.put_item(TableName=self.table_name, Item={
                "pk": pk, "sk": {"S": _record_sk(record_id)}, "blob": {"B": sealed.blob},
                **_kind_attribute(sealed.kind)})
        return record_id

    def records(self, key: str) -> list[tuple[int, Sealed]]:
        items = self._query(
            f"reading the records of {key!r}", ConsistentRead=True,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :row)",
            ExpressionAttributeValues={":pk": {"S": RECORD_PREFIX + key}, ":row": {"S": RECORD_ROW}})
        return [(int(i["sk"]["S"].removeprefix(RECORD_ROW)), Sealed(i["blob"]["B"], _kind(i))) for i in items]

    def delete_record(self, key: str, record_id: int) -> None:
        with aws_errors(f"deleting record {record_id} of {key!r} from table {self.table_name}"):
            self._aws.dynamodb.delete_item(TableName=self.table_name, Key={
                "pk": {"S": RECORD_PREFIX + key}, "sk": {"S": _record_sk(record_id)}})

    # -- the shared key-value store (DARedis): one partition, a value per key --------

    def put_value(self, key: str, value: bytes, expires_at: float) -> None:
        item: Item = {"pk": {"S": VALUES_PK}, "sk": {"S": key}, "value": {"B": value},
                      "until": {"N": _number(expires_at)}, **_expiry(expires_at)}
        if _WHOLE_NUMBER.fullmatch(value):  # kept as a number too, so add_to_value adds to it atomically
            item["number"] = {"N": value.decode()}
        owner = owner_session(key)
        with aws_errors(f"storing value {key!r} in table {self.table_name}"):
            if owner is None:
                self._aws.dynamodb.put_item(TableName=self.table_name, Item=item)
                return
            # a session's own value (storage.session_values): with its pointer, found when the session is deleted
            pointer: Item = {"pk": {"S": session_pk(owner)}, "sk": {"S": VALUE_POINTER_PREFIX + key},
                             **_expiry(expires_at)}
            self._aws.dynamodb.transact_write_items(TransactItems=[
                {"Put": {"TableName": self.table_name, "Item": item}},
                {"Put": {"TableName": self.table_name, "Item": pointer}}])

    def get_value(self, key: str) -> tuple[bytes, float] | None:
        item = self._get_item(VALUES_PK, key, f"reading value {key!r} from table {self.table_name}")
        if item is None:
            return None
        value = item["number"]["N"].encode() if "number" in item else item["value"]["B"]
        return value, float(item.get("until", {}).get("N", "0"))

    def add_to_value(self, key: str, amount: int) -> int:
        with aws_errors(f"adding to value {key!r} in table {self.table_name}"):
            done = self._aws.dynamodb.update_item(
                TableName=self.table_name, Key={"pk": {"S": VALUES_PK}, "sk": {"S": key}},
                UpdateExpression="ADD #n :amount", ExpressionAttributeNames={"#n": "number"},
                ExpressionAttributeValues={":amount": {"N": str(int(amount))}}, ReturnValues="UPDATED_NEW")
        return int(done["Attributes"]["number"]["N"])

    def delete_value(self, key: str) -> bool:
        with aws_errors(f"deleting value {key!r} from table {self.table_name}"):
            done = self._aws.dynamodb.delete_item(TableName=self.table_name, ReturnValues="ALL_OLD",
                                                  Key={"pk": {"S": VALUES_PK}, "sk": {"S": key}})
        return "Attributes" in done

    def value_keys(self) -> list[str]:
        items = self._query("listing the stored values", ConsistentRead=True, ProjectionExpression="sk",
                            KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": {"S": VALUES_PK}})
        return [item["sk"]["S"] for item in items]

    def _get_item(self, pk: str, sk: str, action: str) -> Item | None:
        with aws_errors(action):
            response = self._aws.dynamodb.get_item(TableName=self.table_name,
                                                   Key={"pk": {"S": pk}, "sk": {"S": sk}}, ConsistentRead=True)
        item: Item | None = response.get("Item")
        return item

    def cron_targets(self) -> Iterator[CronTarget]:
        for shard in range(INDEX_SHARDS):
            params: Item = {
                "IndexName": INDEX_BY_CRON,
                "KeyConditionExpression": "#c = :c",
                "ExpressionAttributeNames": {"#c": "cron_shard"},
                "ExpressionAttributeValues": {":c": {"S": str(shard)}},
            }
            for item in self._paginate("query", f"listing cron-enabled sessions (shard {shard})", params):
                yield CronTarget(item["interview"]["S"], item["pk"]["S"].removeprefix("session#"))

    def idle_sessions(self, before: float) -> Iterator[IdleSession]:
        for shard in range(INDEX_SHARDS):
            params: Item = {
                "IndexName": INDEX_BY_AGE,
                "KeyConditionExpression": "#a = :a AND #m < :before",
                "ExpressionAttributeNames": {"#a": "age_shard", "#m": "modified"},
                "ExpressionAttributeValues": {":a": {"S": str(shard)}, ":before": {"N": _number(before)}},
            }
            for item in self._paginate("query", f"listing idle sessions (shard {shard})", params):
                yield IdleSession(item["interview"]["S"], item["pk"]["S"].removeprefix("session#"),
                                  float(item["modified"]["N"]))

    def delete_idle(self, interview: str, session_id: str, before: float) -> bool:
        def active(reasons: list[Item]) -> StorageError:
            return VersionConflictError(f"session {session_id!r} was modified or deleted since the purge listed it")

        try:
            with aws_errors(f"deleting idle session {session_id!r}", active):
                self._aws.dynamodb.delete_item(
                    TableName=self.table_name, Key={"pk": {"S": session_pk(session_id)}, "sk": {"S": HEAD_SK}},
                    ConditionExpression="#m < :before AND #i = :i",
                    ExpressionAttributeNames={"#m": "modified", "#i": "interview"},
                    ExpressionAttributeValues={":before": {"N": _number(before)}, ":i": {"S": interview}})
        except VersionConflictError:
            return False
        self._delete_items(session_id)  # the head is gone, so is the session: now the rest of it
        return True

    # -- writing ---------------------------------------------------------------

    def _step_item(self, session_id: str, step: StepRecord, version: int,
                   expires_at: float = 0.0) -> tuple[Item, str | None]:
        """The step's item, and the S3 key its blob was uploaded to (if it was)."""
        item: Item = {
            "pk": {"S": session_pk(session_id)},
            "sk": {"S": step_sk(step.step)},
            "version": {"N": str(version)},
            **_kind_attribute(step.kind),
            **_expiry(expires_at),
        }
        if len(step.blob) <= STEP_BLOB_LIMIT:
            item["blob"] = {"B": step.blob}
            return item, None
        key = f"steps/{session_id}/{step.step}-{uuid.uuid4().hex}"
        with aws_errors(f"writing step blob s3://{self.bucket}/{key} of session {session_id!r}"):
            self._aws.s3.put_object(Bucket=self.bucket, Key=key, Body=step.blob)
        item["s3"] = {"S": key}
        return item, key

    def _transact(
        self, actions: list[Item], s3_key: str | None, action: str, on_condition: ConditionHandler
    ) -> None:
        """Run one transaction; if it fails, remove the S3 object made for it."""
        try:
            with aws_errors(action, on_condition):
                self._aws.dynamodb.transact_write_items(TransactItems=actions)
        except Exception:
            if s3_key is not None:
                self._discard_object(s3_key)
            raise

    def _discard_object(self, key: str) -> None:
        """Best effort: an object left behind is removed with its session."""
        try:
            self._delete_objects([key])
        except StorageError:
            pass

    def create(self, head: SessionHead, first: StepRecord) -> None:
        step_item, s3_key = self._step_item(head.session_id, first, head.version, head.expires_at)
        put_head = {
            "TableName": self.table_name,
            "Item": head_to_item(head),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
        actions = [{"Put": put_head}, {"Put": {"TableName": self.table_name, "Item": step_item}}]

        def taken(reasons: list[Item]) -> StorageError:
            return SessionExistsError(f"session id {head.session_id!r} is taken; pick another id")

        self._transact(actions, s3_key, f"creating session {head.session_id!r}", taken)

    def commit(
        self,
        before: SessionHead,
        after: SessionHead,
        put: StepRecord | None,
        delete_steps: Sequence[int] = (),
        extras: Mapping[str, Sealed] | None = None,
        tasks: Sequence[TaskWrite] = (),
        notes: Sequence[Notification] = (),
        sends: Sequence[SendRecord] = (),
        addresses: Sequence[MailAddress] = (),
        snapshots: Sequence[SnapshotRecord] = (),
        effects: Sequence[EffectRecord] = (),
        marks: Sequence[str] = (),
    ) -> None:
        check_commit(before, after, put, delete_steps, extras,
                     len(tasks) + len(notes) + len(sends) + 2 * len(addresses) + 2 * len(snapshots)
                     + len(effects) + len(marks))
        actions: list[Item] = []
        s3_key = None
        if put is not None:
            step_item, s3_key = self._step_item(after.session_id, put, after.version, after.expires_at)
            actions.append({"Put": {"TableName": self.table_name, "Item": step_item}})
        pk = {"S": session_pk(before.session_id)}
        actions += [
            {"Delete": {"TableName": self.table_name, "Key": {"pk": pk, "sk": {"S": step_sk(n)}}}}
            for n in delete_steps
        ]
        actions += [
            {"Put": {"TableName": self.table_name, "Item": {
                "pk": pk, "sk": {"S": extra_sk(name)}, "blob": {"B": sealed.blob}, **_kind_attribute(sealed.kind)}}}
            for name, sealed in (extras or {}).items()
        ]
        send_puts, spilled = self._send_puts(sends)
        actions += send_puts  # a taken key: a version conflict
        actions += [new_effect_put(self.table_name, record) for record in effects]  # the same
        first_mark = len(actions)
        actions += [mark_put(self.table_name, before.session_id, mark, after.expires_at) for mark in marks]
        task_actions = [task_put(self.table_name, write) for write in tasks]
        first_task = len(actions)  # where the task writes are, to tell their failed conditions apart
        actions += task_actions + [note_put(self.table_name, note) for note in notes]
        for address in addresses:  # a short code taken meanwhile fails the commit as a conflict: evaluated again
            actions += address_puts(self.table_name, pk["S"], address)
        for snapshot in snapshots:
            actions += snapshot_actions(self.table_name, pk["S"], snapshot)
        actions.append({"Put": self._conditional_head(before, after)})
        with self._discarded_on_failure(spilled):
            self._transact(actions, s3_key, f"committing session {before.session_id!r}",
                           _commit_conflict(before, range(first_task, first_task + len(task_actions)),
                                            range(first_mark, first_mark + len(marks))))

    def list_snapshots(self, interview: str, session_id: str = "", tag: str | None = None, limit: int = 50,
                       start: str = "") -> SnapshotPage:
        params = {**snapshot_query(interview, session_id, tag, start), "Limit": limit + 1}
        return page_of(interview, self._query(f"listing snapshots of {interview!r}", **params), limit)

    def write_tasks(self, tasks: Sequence[TaskWrite], notes: Sequence[Notification] = (),
                    sends: Sequence[SendRecord] = ()) -> None:
        if not tasks and not notes and not sends:
            return
        actions = [task_put(self.table_name, w) for w in tasks] + [note_put(self.table_name, n) for n in notes]
        send_puts, spilled = self._send_puts(sends)
        actions += send_puts

        def moved(reasons: list[Item]) -> StorageError:
            return TaskStateError("a task is no longer in the state this write expected; nothing was written")

        with self._discarded_on_failure(spilled):
            self._transact(actions, None, "writing tasks", moved)

    def _send_puts(self, sends: Sequence[SendRecord]) -> tuple[list[Item], list[str]]:
        """The Puts of new send items, and the S3 objects made for them: a payload too big for its
        item is stored first, under a key of its own (a failed write's object is never another's)."""
        puts: list[Item] = []
        spilled: list[str] = []
        for record in sends:
            put = new_send_put(self.table_name, record)
            if spills(record):
                key = payload_object_key(record.session_id, record.key, uuid.uuid4().hex)
                with self._discarded_on_failure(spilled), \
                        aws_errors(f"storing the payload of send {record.key!r} in s3://{self.bucket}/{key}"):
                    self._aws.s3.put_object(Bucket=self.bucket, Key=key, Body=record.payload)
                spilled.append(key)
                del put["Put"]["Item"]["payload"]
                put["Put"]["Item"]["payload_s3"] = {"S": key}
            puts.append(put)
        return puts, spilled

    @contextmanager
    def _discarded_on_failure(self, keys: list[str]) -> Iterator[None]:
        """Remove the S3 objects `keys` (best effort) if the block raises."""
        try:
            yield
        except Exception:
            for key in keys:
                self._discard_object(key)
            raise

    def update_send(self, record: SendRecord) -> bool:
        def moved(reasons: list[Item]) -> StorageError:
            return TaskStateError(f"send {record.key!r} is no longer pending")

        try:
            with aws_errors(f"recording send {record.key!r} of session {record.session_id!r}", moved):
                reply = self._aws.dynamodb.put_item(TableName=self.table_name, Item=send_to_item(record),
                                                    ReturnValues="ALL_OLD", **finish_condition(record))
        except TaskStateError:
            return False
        spilled = reply.get("Attributes", {}).get("payload_s3")
        if spilled and record.status != SendStatus.PENDING:
            self._discard_object(spilled["S"])  # the message leaves with the pending state
        return True

    def due_sends(self, now: float) -> Iterator[SendRef]:
        for shard, params in due_queries(now):
            for item in self._paginate("query", f"listing pending sends (shard {shard})", params):
                yield ref_of(item)

    def claim_send(self, ref: SendRef, now: float, until: float) -> SendRecord | None:
        try:
            with aws_errors(f"claiming send {ref.key!r} of session {ref.session_id!r}", _already_taken):
                reply = self._aws.dynamodb.update_item(**claim_update(self.table_name, ref, now, until))
        except TaskStateError:
            return None  # sent, failed, or taken by another sweep meanwhile
        item = reply["Attributes"]
        record = send_from_item(item)
        if "payload_s3" in item:
            key = item["payload_s3"]["S"]
            with aws_errors(f"reading the payload of send {ref.key!r} from s3://{self.bucket}/{key}"):
                body: bytes = self._aws.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
            record = replace(record, payload=body)
        return record

    def list_sends(self, session_id: str) -> list[SendRecord]:
        items = self._query(
            f"listing sends of session {session_id!r}", ConsistentRead=True,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": {"S": session_pk(session_id)}, ":prefix": {"S": SEND_PREFIX}},
        )
        return sorted((send_from_item(i) for i in items), key=lambda r: (r.created, r.key))

    def update_effect(self, record: EffectRecord) -> bool:
        def moved(reasons: list[Item]) -> StorageError:
            return TaskStateError(f"effect {record.key!r} is no longer pending")

        try:
            with aws_errors(f"recording effect {record.key!r} of session {record.session_id!r}", moved):
                self._aws.dynamodb.put_item(TableName=self.table_name, Item=effect_to_item(record),
                                            **dynamodb_effects.finish_condition(record))
        except TaskStateError:
            return False
        return True

    def due_effects(self, now: float) -> Iterator[EffectRef]:
        for shard, params in dynamodb_effects.due_queries(now):
            for item in self._paginate("query", f"listing pending effects (shard {shard})", params):
                yield dynamodb_effects.ref_of(item)

    def claim_effect(self, ref: EffectRef, now: float, until: float) -> EffectRecord | None:
        try:
            with aws_errors(f"claiming effect {ref.key!r} of session {ref.session_id!r}", _already_taken):
                reply = self._aws.dynamodb.update_item(**dynamodb_effects.claim_update(self.table_name, ref, now,
                                                                                       until))
        except TaskStateError:
            return None  # applied, failed, or taken by another sweep meanwhile
        return effect_from_item(reply["Attributes"])

    def list_effects(self, session_id: str) -> list[EffectRecord]:
        items = self._query(
            f"listing effects of session {session_id!r}", ConsistentRead=True,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": {"S": session_pk(session_id)}, ":prefix": {"S": EFFECT_PREFIX}},
        )
        return sorted((effect_from_item(i) for i in items), key=lambda r: (r.created, r.key))

    def load_task(self, session_id: str, task_id: str) -> TaskRecord | None:
        item = self._get(session_id, TASK_PREFIX + task_id)
        return task_from_item(item) if item else None

    def list_tasks(self, session_id: str) -> list[TaskRecord]:
        items = self._query(
            f"listing tasks of session {session_id!r}", ConsistentRead=True,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": {"S": session_pk(session_id)}, ":prefix": {"S": TASK_PREFIX}},
        )
        return sorted((task_from_item(i) for i in items), key=lambda t: (t.created, t.task_id))

    def take_notifications(self, session_id: str) -> list[Notification]:
        items = list(self._query(
            f"reading notifications of session {session_id!r}", ConsistentRead=True,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": {"S": session_pk(session_id)}, ":prefix": {"S": NOTE_PREFIX}},
        ))
        taken = []
        for item in items:
            try:
                with aws_errors(f"taking a notification of session {session_id!r}", _already_taken):
                    self._aws.dynamodb.delete_item(
                        TableName=self.table_name, Key={"pk": item["pk"], "sk": item["sk"]},
                        ConditionExpression="attribute_exists(pk)")
            except TaskStateError:
                continue  # another check-in took it first: it is theirs to deliver
            taken.append(note_from_item(item))
        return sorted(taken, key=lambda n: n.note_id)

    def _conditional_head(self, before: SessionHead, after: SessionHead) -> Item:
        return {
            "TableName": self.table_name,
            "Item": head_to_item(after),
            "ConditionExpression": "#v = :v AND #i = :i",
            "ExpressionAttributeNames": {"#v": "version", "#i": "interview"},
            "ExpressionAttributeValues": {":v": {"N": str(before.version)}, ":i": {"S": before.interview}},
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }

    def find_address(self, short: str) -> MailAddress | None:
        with aws_errors(f"reading mail address {short!r}"):
            response = self._aws.dynamodb.get_item(
                TableName=self.table_name, ConsistentRead=True,
                Key={"pk": {"S": address_pk(short)}, "sk": {"S": ADDRESS_SK}})
        item = response.get("Item")
        return address_from_item(item) if item else None

    def list_addresses(self, session_id: str) -> list[MailAddress]:
        return [address_from_item(item) for item in self._prefixed(session_id, ADDRESS_COPY_PREFIX, "mail addresses")]

    def put_mail(self, mail: MailRecord) -> None:
        with aws_errors(f"storing a mail of session {mail.session_id!r}"):
            self._aws.dynamodb.put_item(TableName=self.table_name, Item=mail_to_item(session_pk(mail.session_id), mail))

    def list_mail(self, session_id: str) -> list[MailRecord]:
        mails = [mail_from_item(session_id, item) for item in self._prefixed(session_id, MAIL_PREFIX, "mails")]
        return sorted(mails, key=lambda m: (m.received, m.mail_id))

    def _prefixed(self, session_id: str, prefix: str, what: str) -> list[Item]:
        return list(self._query(
            f"listing {what} of session {session_id!r}", ConsistentRead=True,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": {"S": session_pk(session_id)}, ":prefix": {"S": prefix}}))

    def put_file(self, session_id: str, name: str, sealed: Sealed) -> None:
        key = f"files/{session_id}/{name}"
        metadata = {FILE_KIND_METADATA: sealed.kind.value} if sealed.kind else {}
        with aws_errors(f"storing s3://{self.bucket}/{key}"):
            self._aws.s3.put_object(Bucket=self.bucket, Key=key, Body=sealed.blob, Metadata=metadata)

    def get_file(self, session_id: str, name: str) -> Sealed | None:
        key = f"files/{session_id}/{name}"
        s3 = self._aws.s3
        try:
            response = s3.get_object(Bucket=self.bucket, Key=key)
        except s3.exceptions.NoSuchKey:
            return None
        except Exception as err:
            with aws_errors(f"reading s3://{self.bucket}/{key}"):
                raise err
        kind = BlobKind.parse((response.get("Metadata") or {}).get(FILE_KIND_METADATA))
        return Sealed(bytes(response["Body"].read()), kind)

    def load_extra(self, interview: str, session_id: str, name: str) -> Sealed | None:
        with aws_errors(f"reading {name!r} of session {session_id!r}"):
            response = self._aws.dynamodb.get_item(
                TableName=self.table_name, ConsistentRead=True,
                Key={"pk": {"S": session_pk(session_id)}, "sk": {"S": extra_sk(name)}},
            )
        item = response.get("Item")
        return Sealed(bytes(item["blob"]["B"]), _kind(item)) if item else None

    def delete(self, interview: str, session_id: str) -> None:
        items = list(
            self._query(
                f"listing items of session {session_id!r}",
                KeyConditionExpression="#pk = :pk",
                ExpressionAttributeNames={"#pk": "pk", "#sk": "sk", "#i": "interview"},
                ExpressionAttributeValues={":pk": {"S": session_pk(session_id)}},
                ProjectionExpression="#pk, #sk, #i",
                ConsistentRead=True,
            )
        )
        head = next((i for i in items if i["sk"]["S"] == HEAD_SK), None)
        if head is not None and head["interview"]["S"] != interview:
            return  # another interview's session: not ours to delete
        self._delete_items(session_id, items)

    def _delete_items(self, session_id: str, items: list[Item] | None = None) -> None:
        """Every item (listed, if not given) and object of the session."""
        if items is None:
            items = list(self._query(
                f"listing items of session {session_id!r}", KeyConditionExpression="#pk = :pk",
                ExpressionAttributeNames={"#pk": "pk", "#sk": "sk"},
                ExpressionAttributeValues={":pk": {"S": session_pk(session_id)}},
                ProjectionExpression="#pk, #sk", ConsistentRead=True))
        keys = [{"pk": i["pk"], "sk": i["sk"]} for i in items]
        # An address's item by short code lives outside the partition: found through its copy.
        keys += [{"pk": {"S": address_pk(short_of_copy(i["sk"]["S"]))}, "sk": {"S": ADDRESS_SK}}
                 for i in items if i["sk"]["S"].startswith(ADDRESS_COPY_PREFIX)]
        # So does a snapshot that is not persistent: found through its pointer.
        for pointer in (i["sk"]["S"] for i in items if i["sk"]["S"].startswith(POINTER_PREFIX)):
            target_pk, target_sk = pointer_target(session_id, pointer)
            keys.append({"pk": {"S": target_pk}, "sk": {"S": target_sk}})
        # And the values it owns (DAStore(base='session'), …): found through their pointers.
        keys += [{"pk": {"S": VALUES_PK}, "sk": {"S": i["sk"]["S"][len(VALUE_POINTER_PREFIX):]}}
                 for i in items if i["sk"]["S"].startswith(VALUE_POINTER_PREFIX)]
        self._batch_delete(keys)
        # Items first: if removing the objects fails, a retry still finds them,
        # and no surviving step item points to a missing object.
        self._delete_objects(self._object_keys(f"steps/{session_id}/") + self._object_keys(f"files/{session_id}/"))

    def _batch_delete(self, keys: list[Item]) -> None:
        for start in range(0, len(keys), _BATCH_WRITE_SIZE):
            chunk = keys[start : start + _BATCH_WRITE_SIZE]
            request: Item = {self.table_name: [{"DeleteRequest": {"Key": key}} for key in chunk]}
            for attempt in range(10):
                with aws_errors(f"deleting items from table {self.table_name}"):
                    response = self._aws.dynamodb.batch_write_item(RequestItems=request)
                request = response.get("UnprocessedItems") or {}
                if not request:
                    break
                time.sleep(0.01 * 2**attempt)
            else:
                raise StorageError(
                    f"deleting from table {self.table_name}: items stayed unprocessed; try again later"
                )

    def _object_keys(self, prefix: str) -> list[str]:
        keys: list[str] = []
        params: Item = {"Bucket": self.bucket, "Prefix": prefix}
        while True:
            with aws_errors(f"listing s3://{self.bucket}/{prefix}"):
                page = self._aws.s3.list_objects_v2(**params)
            keys += [obj["Key"] for obj in page.get("Contents", [])]
            if not page.get("IsTruncated"):
                return keys
            params["ContinuationToken"] = page["NextContinuationToken"]

    def _delete_objects(self, keys: list[str]) -> None:
        for start in range(0, len(keys), _S3_DELETE_SIZE):
            objects = [{"Key": key} for key in keys[start : start + _S3_DELETE_SIZE]]
            with aws_errors(f"deleting step blobs from s3://{self.bucket}"):
                self._aws.s3.delete_objects(Bucket=self.bucket, Delete={"Objects": objects, "Quiet": True})


def _kind(item: Item) -> BlobKind | None:
    """The kind of the item's blob; None for items written before kinds were stored."""
    return BlobKind.parse(item.get("kind", {}).get("S"))


def _kind_attribute(kind: BlobKind | None) -> Item:
    return {"kind": {"S": kind.value}} if kind else {}


def _already_taken(reasons: list[Item]) -> StorageError:
    return TaskStateError("the notification was taken already")


def _commit_conflict(before: SessionHead, task_positions: range = range(0),
                     mark_positions: range = range(0)) -> ConditionHandler:
    """What a failed commit condition means: an effect was applied already, a task moved on, the head
    is gone, or it moved on."""

    def conflict(reasons: list[Item]) -> StorageError:
        if any(i < len(reasons) and reasons[i].get("Code") == "ConditionalCheckFailed" for i in mark_positions):
            return AlreadyAppliedError(f"session {before.session_id!r} has applied this effect already")
        if any(i < len(reasons) and reasons[i].get("Code") == "ConditionalCheckFailed" for i in task_positions):
            return TaskStateError("a task of this commit is no longer in the expected state; nothing was written")
        head_reason = reasons[-1] if reasons else {}
        old = head_reason.get("Item")
        if head_reason.get("Code") == "ConditionalCheckFailed" and (
            old is None or old["interview"]["S"] != before.interview
        ):
            return _not_found(before.interview, before.session_id)
        return VersionConflictError(
            f"session {before.session_id!r} is no longer at version {before.version}"
            f" (now {old['version']['N'] if old else 'being written'}); reload it and apply the change again"
        )

    return conflict
