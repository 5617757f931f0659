"""No lost update: concurrent turns on one session all land, in DynamoDB (moto).

The writers share one session and each runs the `increment` action as a real
turn (load → evaluate → conditional commit → retry). moto's backends are not
thread-safe, so they run against moto's server that serializes requests
(chalicelib.local.moto_server), as the local stack does: each request is
atomic, as in DynamoDB, while our turns interleave freely between requests.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest

from chalicelib.engine.request import Request
from chalicelib.language.loader import InterviewLoader
from chalicelib.local.moto_server import MotoServer
from chalicelib.local.resources import create_resources
from chalicelib.runtime.queue import MemoryTaskQueue
from chalicelib.runtime.services import Services
from chalicelib.runtime.sessions import SessionRef, Sessions
from chalicelib.settings import Settings
from chalicelib.storage.accounts import DynamoAccountStore
from chalicelib.storage.dynamodb import DynamoSessionStore
from chalicelib.storage.records import SessionHead, StepRecord
from tests.conftest import REGION, settings_env

WRITERS = 30
RETRY_SECONDS = 240


@pytest.fixture(scope="module")
def endpoint(moto_aws: None) -> Iterator[str]:
    server = MotoServer().start()
    create_resources({"endpoint_url": server.url, "region_name": REGION})
    yield server.url
    server.stop()


def _clients(endpoint: str) -> tuple[Any, Any]:
    import boto3
    from botocore.config import Config

    config = Config(max_pool_connections=WRITERS + 5, retries={"mode": "standard"})
    return (boto3.client("dynamodb", region_name=REGION, endpoint_url=endpoint, config=config),
            boto3.client("s3", region_name=REGION, endpoint_url=endpoint, config=config))


def _services(endpoint: str, store_class: type[DynamoSessionStore] = DynamoSessionStore) -> Services:
    # A budget no busy machine exhausts: the claim is that every write lands, not how fast.
    settings = Settings.from_env(settings_env(TURN_RETRY_SECONDS=str(RETRY_SECONDS)))
    dynamodb, s3 = _clients(endpoint)
    return Services(settings, store_class(settings.table_name, settings.blob_bucket, client=dynamodb, s3=s3),
                    DynamoAccountStore(settings.table_name, client=dynamodb), InterviewLoader(settings.interview_path),
                    MemoryTaskQueue())


def _at_once(work: Callable[[int], object]) -> list[BaseException]:
    """Run `work(0)` … `work(WRITERS - 1)` in as many threads at the same time; what they raised."""
    errors: list[BaseException] = []

    def writer(number: int) -> None:
        try:
            work(number)
        except BaseException as err:  # collected and reported by the caller
            errors.append(err)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


def _increment(sessions: Sessions, ref: SessionRef, writer: int) -> None:
    request = Request(ref.interview, ref.session_id, action="increment", arguments={"writer": writer},
                      persistent_action=False, interface="api")
    sessions.run_action(ref, request)


def test_thirty_concurrent_writers_all_land(endpoint: str) -> None:
    # Given a session whose counter is 0
    sessions = Sessions(_services(endpoint))
    ref, started = sessions.start("counter.yml", interface="api")

    # When 30 threads each run the increment action at the same time
    errors = _at_once(lambda number: _increment(sessions, ref, number))

    # Then every increment landed exactly once and nothing failed
    assert errors == []
    data = sessions.read(ref)
    head, answers = data.head, data.answers
    assert answers["counter"] == WRITERS
    assert sorted(answers["log_of_writers"]) == list(range(WRITERS))
    assert head.version == started.head.version + WRITERS


class _InterferingStore(DynamoSessionStore):
    """Before its first commit, another writer commits a turn of its own (a forced conflict)."""

    interfere: Any = None

    def commit(self, before: SessionHead, after: SessionHead, put: StepRecord | None,
               delete_steps: Sequence[int] = (), extras: Any = None, tasks: Any = (), notes: Any = ()) -> None:
        if self.interfere is not None:
            interfere, self.interfere = self.interfere, None
            interfere()
        super().commit(before, after, put, delete_steps, extras, tasks, notes)


def test_a_version_conflict_is_retried_on_fresh_state_not_dropped(endpoint: str) -> None:
    # Given a store where another writer slips in a turn between our read and our commit
    services = _services(endpoint, _InterferingStore)
    sessions = Sessions(services)
    ref, _ = sessions.start("counter.yml", interface="api")
    other = Sessions(_services(endpoint))
    store = services.store
    assert isinstance(store, _InterferingStore)
    store.interfere = lambda: _increment(other, ref, 100)

    # When our turn commits
    _increment(sessions, ref, 1)

    # Then it was retried on the other writer's state: both increments are there
    answers = sessions.read(ref).answers
    assert answers["counter"] == 2
    assert answers["log_of_writers"] == [100, 1]


def test_a_check_in_racing_a_submit_keeps_both_changes(endpoint: str, examples: Any) -> None:
    from chalicelib.engine.request import FormAnswer

    # Given check-in.yml's food question, and a user who submits while a check-in is running
    services = _services(endpoint, _InterferingStore)
    sessions = Sessions(services)
    ref, _ = sessions.start("check-in.yml", interface="api")
    other = Sessions(_services(endpoint))
    submit = Request(ref.interview, ref.session_id, interface="api")
    store = services.store
    assert isinstance(store, _InterferingStore)
    screen = sessions.read(ref).state.screen
    assert screen is not None and screen.fields[0].variable == "favorite_food"
    cake = FormAnswer(screen.block, {0: ["cake"]})
    store.interfere = lambda: other.answer_screen(ref, submit, cake)

    # When the check-in's commit finds that the submit got there first
    sessions.checkin(ref, {"favorite_food": "pie"}, changed="favorite_food")

    # Then the check-in was applied again on the submitted answers: both changes are there
    answers = sessions.read(ref).answers
    assert answers["favorite_food"] == "cake"
    assert answers["counter"] == 1
    assert answers["drafts"] == {"pie"}


class _RacedReadStore(DynamoSessionStore):
    """A read of the head and current step (one Query, which is not a snapshot across items)
    that sees the head as it was and the step as another writer, saving over that step, left
    it, `races` times: each of those reads finds a step newer than its head (a raced read)."""

    races = 0
    interfere: Any = None

    def _head_and_latest_step(self, interview: str, session_id: str) -> Any:
        head, item = super()._head_and_latest_step(interview, session_id)
        if self.races > 0:
            self.races -= 1
            self.interfere()
            _, item = super()._head_and_latest_step(interview, session_id)  # the step the writer saved
        return head, item


def _raced_sessions(endpoint: str, interview: str, races: int) -> tuple[Sessions, SessionRef]:
    services = _services(endpoint, _RacedReadStore)
    sessions = Sessions(services)
    ref, _ = sessions.start(interview, interface="api")
    other = Sessions(_services(endpoint))
    store = services.store
    assert isinstance(store, _RacedReadStore)
    store.races = races

    def overwrite() -> None:  # a turn saved over the current step, as a check-in or a page view saves
        request = Request(ref.interview, ref.session_id, action="increment", arguments={"writer": 100},
                          persistent_action=False, interface="api")
        other.run_action(ref, request, new_step=False)

    store.interfere = overwrite
    return sessions, ref


def test_a_turn_whose_reads_keep_racing_a_writer_is_retried_not_failed(endpoint: str) -> None:
    # Given: a session whose next four reads each race another writer (more than the store's own re-reads)
    sessions, ref = _raced_sessions(endpoint, "counter.yml", races=4)

    # When: our turn runs
    _increment(sessions, ref, 1)

    # Then: it was retried like a lost commit, and it landed after the four other writes
    answers = sessions.read(ref).answers
    assert answers["counter"] == 5
    assert answers["log_of_writers"] == [100, 100, 100, 100, 1]


def test_a_check_in_whose_read_keeps_racing_a_writer_still_counts(endpoint: str) -> None:
    # Given: a check-in counter whose next three reads (the check-in's own read of the screen) race a writer
    services = _services(endpoint, _RacedReadStore)
    sessions = Sessions(services)
    ref, _ = sessions.start("checkin_counter.yml", interface="api")
    other = Sessions(_services(endpoint))
    store = services.store
    assert isinstance(store, _RacedReadStore)
    store.races = 3
    store.interfere = lambda: other.checkin(ref, {"note": ""})

    # When: the check-in runs
    sessions.checkin(ref, {"note": ""})

    # Then: it counted, after the three others
    answers = sessions.read(ref).answers
    assert answers["checkins"] == 4


def test_thirty_concurrent_record_writers_each_get_an_id_and_no_row_is_lost(endpoint: str) -> None:
    from chalicelib.runtime.records import SharedRecords

    # Given the shared records over the serialized moto server, as thirty workers would reach them
    records = SharedRecords(_services(endpoint))
    ids: list[int] = []

    # When 30 threads each write a row at the same time
    errors = _at_once(lambda number: ids.append(records.write("concurrency:guests", {"writer": number})))

    # Then each got its own id, and every row is there under it
    assert errors == [] and sorted(ids) == list(range(1, WRITERS + 1))
    rows = records.read("concurrency:guests")
    assert sorted(row["writer"] for row in rows.values()) == list(range(WRITERS))


def test_thirty_concurrent_incr_calls_all_count(endpoint: str) -> None:
    from chalicelib.runtime.keystore import SharedKeyStore

    # Given the shared key store (DARedis's) over the serialized moto server, and a count of 5
    store = SharedKeyStore(_services(endpoint))
    store.put("concurrency:visits", b"5")
    seen: list[int] = []

    # When 30 threads each add one at the same time
    errors = _at_once(lambda _: seen.append(store.add("concurrency:visits", 1)))

    # Then each saw its own new number, and the count holds every one
    assert errors == [] and sorted(seen) == list(range(6, 6 + WRITERS))
    assert store.fetch("concurrency:visits") == str(5 + WRITERS).encode()
