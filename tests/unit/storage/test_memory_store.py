"""The storage behaviour suite, run here against the in-memory stores.

`SessionStoreBehaviour` and `AccountStoreBehaviour` hold the tests every store
must pass; tests/functional/storage/test_dynamodb_store.py runs the same
classes against DynamoDB (moto). A subclass provides the fixtures `store`,
`accounts` and `stored_bytes` (everything the store persisted, as bytes).
"""

from __future__ import annotations

import os
import pickle
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest

from chalicelib.storage import crypto
from chalicelib.storage.accounts import AccountStore
from chalicelib.storage.base import SessionStore
from chalicelib.storage.errors import (
    AccountError,
    SessionExistsError,
    SessionNotFoundError,
    VersionConflictError,
)
from chalicelib.storage.memory import MemoryAccountStore, MemorySessionStore
from chalicelib.storage.records import BlobKind, Sealed, SessionHead, StepRecord
from chalicelib.storage.snapshots import SnapshotRecord
from chalicelib.storage.tasks import Notification, TaskRecord, TaskWrite

INTERVIEW = "docassemble.demo:data/questions/questions.yml"
OTHER_INTERVIEW = "docassemble.demo:data/questions/other.yml"
SERVER_KEY = b"s" * 32
StoredBytes = Callable[[], bytes]


def make_head(session_id: str = "sess1", **changes: object) -> SessionHead:
    head = SessionHead(
        interview=INTERVIEW,
        session_id=session_id,
        version=1,
        step=1,
        encrypted=False,
        created=1_700_000_000.25,
        modified=1_700_000_000.25,
    )
    return replace(head, **changes)  # type: ignore[arg-type]


def step(n: int, blob: bytes | None = None) -> StepRecord:
    return StepRecord(n, blob if blob is not None else f"blob of step {n}".encode())


def advance(head: SessionHead, **changes: object) -> SessionHead:
    """The head after one more commit: version + 1, and a later modified time."""
    defaults: dict[str, object] = {"version": head.version + 1, "modified": head.modified + 1}
    return replace(head, **{**defaults, **changes})  # type: ignore[arg-type]


def signed_counter(session_id: str, n: int, value: int) -> StepRecord:
    return StepRecord(n, crypto.sign({"counter": value}, SERVER_KEY, f"{session_id}#{n}".encode()))


def read_counter(session_id: str, record: StepRecord) -> int:
    answers = crypto.open_signed(record.blob, server_key=SERVER_KEY, aad=f"{session_id}#{record.step}".encode())
    assert isinstance(answers, dict)
    counter = answers["counter"]
    assert isinstance(counter, int)
    return counter


def assert_concurrent_writers_lose_no_update(store: SessionStore, writers: int, think: float) -> None:
    """`writers` threads each add 1 to a counter kept in the step blob, each by
    read -> commit, retrying on VersionConflictError; the counter must end at
    `writers`. Between read and commit each waits `think` seconds, as a turn's
    evaluation would. Every writer's first read happens before any commit (a barrier),
    so they collide however fast or slow the machine. Shared by the memory and DynamoDB suites."""
    # Given: a session whose step holds a counter at 0, and writers released at once
    store.create(make_head(), signed_counter("sess1", 1, 0))
    start, all_read = threading.Barrier(writers, timeout=60), threading.Barrier(writers, timeout=60)

    def increment() -> int:
        start.wait()
        for attempt in range(1, 1000):
            try:
                head, record = store.load(INTERVIEW, "sess1")
                after = advance(head, step=head.step + 1, modified=time.time())
                value = read_counter("sess1", record) + 1
                if attempt == 1:
                    all_read.wait()
                time.sleep(think)
                store.commit(head, after, signed_counter("sess1", after.step, value))
                return attempt
            except VersionConflictError:
                continue
        raise AssertionError("a writer never got its commit in")

    # When: each reads, increments and commits, retrying on conflict
    with ThreadPoolExecutor(max_workers=writers) as pool:
        attempts = list(pool.map(lambda _: increment(), range(writers)))
    # Then: every increment landed exactly once, and writers did collide
    head, record = store.load(INTERVIEW, "sess1")
    assert read_counter("sess1", record) == writers
    assert head.version == writers + 1
    assert store.step_numbers(INTERVIEW, "sess1") == list(range(1, writers + 2))
    assert sum(attempts) >= 2 * writers - 1, "all but one first commits must have lost to the winner"


class SessionStoreBehaviour:
    """What every SessionStore does. Subclasses provide the `store` fixture."""

    # -- variable snapshots ------------------------------------------------------------

    def test_snapshots_are_kept_per_key_paged_and_deleted_with_the_session_unless_persistent(
            self, store: SessionStore) -> None:
        def snapshot(tag: str, persistent: bool, session: str = "sess1") -> SnapshotRecord:
            return SnapshotRecord(INTERVIEW, session, tag, Sealed(f"{tag}:{persistent}".encode(), BlobKind.SIGNED),
                                  persistent, 1.0)

        # Given: two snapshots with the session's commit, then `a` again, now persistent
        head = make_head()
        store.create(head, step(1))
        store.create(make_head("sess2"), step(1))
        store.commit(head, advance(head), None, snapshots=[snapshot("a", False), snapshot("b", False)])
        head = advance(head)
        store.commit(head, advance(head), None, snapshots=[snapshot("a", True)])
        other = make_head("sess2")
        store.commit(other, advance(other), None, snapshots=[snapshot("c", False, "sess2")])

        # Then: one per key, listed a page at a time, by session and by key
        first = store.list_snapshots(INTERVIEW, limit=2)
        assert [(r.session_id, r.tag) for r in first.snapshots] == [("sess1", "a"), ("sess1", "b")]
        rest = store.list_snapshots(INTERVIEW, limit=2, start=first.next_token)
        assert [(r.session_id, r.tag) for r in rest.snapshots] == [("sess2", "c")] and rest.next_token == ""
        assert [r.sealed.blob for r in store.list_snapshots(INTERVIEW, "sess1", "a").snapshots] == [b"a:True"]
        assert [r.tag for r in store.list_snapshots(INTERVIEW, tag="c").snapshots] == ["c"]
        assert store.list_snapshots(OTHER_INTERVIEW).snapshots == []

        # When: the session is deleted, only its persistent snapshot stays (and the other session's)
        store.delete(INTERVIEW, "sess1")
        assert [(r.session_id, r.tag) for r in store.list_snapshots(INTERVIEW).snapshots] == [
            ("sess1", "a"), ("sess2", "c")]

    # -- create and load -----------------------------------------------------------

    def test_created_session_loads_with_its_head_and_first_step(self, store: SessionStore) -> None:
        # Given
        head = make_head(
            title="My case", owner="user-1", allow_cron=True, tags=("a", "b"), key_check="ab" * 16
        )
        store.create(head, step(1))
        # When
        loaded_head, loaded_step = store.load(INTERVIEW, "sess1")
        # Then
        assert loaded_head == head
        assert loaded_step == step(1)

    def test_creating_a_taken_session_id_raises_session_exists(self, store: SessionStore) -> None:
        # Given
        store.create(make_head(), step(1))
        # When / Then: even under another interview, the id is taken
        with pytest.raises(SessionExistsError):
            store.create(make_head(interview=OTHER_INTERVIEW), step(1, b"other"))
        assert store.load(INTERVIEW, "sess1")[1] == step(1)

    def test_loading_an_unknown_session_raises_not_found(self, store: SessionStore) -> None:
        # Given: an empty store / When / Then
        with pytest.raises(SessionNotFoundError):
            store.load(INTERVIEW, "nope")

    def test_a_session_is_not_found_under_another_interview(self, store: SessionStore) -> None:
        # Given
        store.create(make_head(), step(1))
        # When / Then
        with pytest.raises(SessionNotFoundError):
            store.load(OTHER_INTERVIEW, "sess1")
        with pytest.raises(SessionNotFoundError):
            store.load_step(OTHER_INTERVIEW, "sess1", 1)

    def test_a_sealed_step_round_trips_through_the_store(self, store: SessionStore) -> None:
        # Given: an encrypted session's first step
        key = crypto.session_key("secret", "sess1")
        blob = crypto.seal({"x": 1}, key, b"sess1#1")
        store.create(make_head(encrypted=True, key_check=crypto.key_check(key)), step(1, blob))
        # When
        head, record = store.load(INTERVIEW, "sess1")
        # Then
        assert head.key_check == crypto.key_check(key)
        assert crypto.open_sealed(record.blob, key=key, aad=b"sess1#1") == {"x": 1}

    # -- commit --------------------------------------------------------------------

    def test_commit_bumps_the_version_and_moves_to_the_new_step(self, store: SessionStore) -> None:
        # Given
        before = make_head()
        store.create(before, step(1))
        after = advance(before, step=2)
        # When
        store.commit(before, after, step(2))
        # Then
        assert store.load(INTERVIEW, "sess1") == (after, step(2))
        assert store.step_numbers(INTERVIEW, "sess1") == [1, 2]

    def test_stale_commit_raises_version_conflict_and_writes_nothing(self, store: SessionStore) -> None:
        # Given: two writers read version 1; the first commits
        before = make_head()
        store.create(before, step(1))
        first = advance(before, step=2)
        store.commit(before, first, step(2, b"first writer"))
        # When: the second commits from the same stale head, writing step 3 and deleting step 1
        stale = advance(before, step=3, title="second writer")
        with pytest.raises(VersionConflictError):
            store.commit(before, stale, step(3, b"second writer"), delete_steps=[1])
        # Then: the first writer's state is intact and nothing of the second's landed
        assert store.load(INTERVIEW, "sess1") == (first, step(2, b"first writer"))
        assert store.step_numbers(INTERVIEW, "sess1") == [1, 2]

    def test_commit_deletes_the_listed_steps(self, store: SessionStore) -> None:
        # Given: a session at step 3
        head = make_head()
        store.create(head, step(1))
        for n in (2, 3):
            after = advance(head, step=n)
            store.commit(head, after, step(n))
            head = after
        # When: step 4 is written and the oldest two are trimmed
        after = advance(head, step=4)
        store.commit(head, after, step(4), delete_steps=[1, 2])
        # Then
        assert store.step_numbers(INTERVIEW, "sess1") == [3, 4]
        with pytest.raises(SessionNotFoundError):
            store.load_step(INTERVIEW, "sess1", 1)

    def test_back_button_commit_returns_to_the_previous_step_and_drops_the_later_one(
        self, store: SessionStore
    ) -> None:
        # Given: a session at step 2
        head = make_head()
        store.create(head, step(1))
        at_two = advance(head, step=2)
        store.commit(head, at_two, step(2))
        # When: the user presses back: the head points to step 1 and step 2 goes
        back = advance(at_two, step=1)
        store.commit(at_two, back, None, delete_steps=[2])
        # Then
        assert store.load(INTERVIEW, "sess1") == (back, step(1))
        assert store.step_numbers(INTERVIEW, "sess1") == [1]

    def test_commit_may_overwrite_the_current_step(self, store: SessionStore) -> None:
        # Given
        head = make_head()
        store.create(head, step(1))
        # When: a check-in saves over the current step
        after = advance(head)
        store.commit(head, after, step(1, b"checked in"))
        # Then
        assert store.load(INTERVIEW, "sess1") == (after, step(1, b"checked in"))

    def test_commit_can_clear_the_owner_and_tags(self, store: SessionStore) -> None:
        # Given
        head = make_head(owner="user-1", tags=("x",), title="t")
        store.create(head, step(1))
        # When
        after = advance(head, owner="", tags=(), title="")
        store.commit(head, after, None)
        # Then
        assert store.load(INTERVIEW, "sess1")[0] == after
        assert list(store.list_heads(owner="user-1")) == []

    def test_commit_to_a_deleted_session_raises_not_found(self, store: SessionStore) -> None:
        # Given
        head = make_head()
        store.create(head, step(1))
        store.delete(INTERVIEW, "sess1")
        # When / Then
        with pytest.raises(SessionNotFoundError):
            store.commit(head, advance(head, step=2), step(2))
        assert store.step_numbers(INTERVIEW, "sess1") == []

    def test_commit_that_does_not_add_one_to_the_version_is_refused(self, store: SessionStore) -> None:
        # Given
        head = make_head()
        store.create(head, step(1))
        # When / Then
        with pytest.raises(ValueError, match="before.version \\+ 1"):
            store.commit(head, replace(head, version=3), None)
        with pytest.raises(ValueError, match="delete_steps"):
            store.commit(head, advance(head, step=2), step(2), delete_steps=[2])
        assert store.load(INTERVIEW, "sess1")[0] == head

    # -- past steps, delete, listing ---------------------------------------------

    def test_load_step_reads_a_past_step(self, store: SessionStore) -> None:
        # Given
        head = make_head()
        store.create(head, step(1))
        store.commit(head, advance(head, step=2), step(2))
        # When / Then
        assert store.load_step(INTERVIEW, "sess1", 1) == step(1)
        with pytest.raises(SessionNotFoundError):
            store.load_step(INTERVIEW, "sess1", 7)

    def test_delete_removes_the_session_and_its_steps(self, store: SessionStore) -> None:
        # Given
        head = make_head()
        store.create(head, step(1))
        store.commit(head, advance(head, step=2), step(2))
        # When
        store.delete(INTERVIEW, "sess1")
        # Then
        with pytest.raises(SessionNotFoundError):
            store.load(INTERVIEW, "sess1")
        assert store.step_numbers(INTERVIEW, "sess1") == []
        assert list(store.list_heads()) == []

    def test_deleting_a_missing_session_is_no_error(self, store: SessionStore) -> None:
        # Given: an empty store / When / Then: no exception
        store.delete(INTERVIEW, "nope")

    def test_delete_under_another_interview_leaves_the_session(self, store: SessionStore) -> None:
        # Given
        store.create(make_head(), step(1))
        # When
        store.delete(OTHER_INTERVIEW, "sess1")
        # Then
        assert store.load(INTERVIEW, "sess1")[1] == step(1)

    def test_a_deleted_session_id_can_be_created_again(self, store: SessionStore) -> None:
        # Given
        store.create(make_head(), step(1))
        store.delete(INTERVIEW, "sess1")
        # When
        store.create(make_head(title="again"), step(1, b"new"))
        # Then
        assert store.load(INTERVIEW, "sess1") == (make_head(title="again"), step(1, b"new"))

    def test_list_heads_filters_by_interview_and_by_owner(self, store: SessionStore) -> None:
        # Given: three sessions in two interviews, two owned by u1
        a = make_head("a", owner="u1", modified=1.0)
        b = make_head("b", interview=OTHER_INTERVIEW, owner="u1", modified=2.0)
        c = make_head("c", modified=3.0)
        for head in (a, b, c):
            store.create(head, step(1))
        # When / Then
        assert {h.session_id for h in store.list_heads()} == {"a", "b", "c"}
        assert {h.session_id for h in store.list_heads(interview=INTERVIEW)} == {"a", "c"}
        assert {h.session_id for h in store.list_heads(owner="u1")} == {"a", "b"}
        assert [h.session_id for h in store.list_heads(interview=OTHER_INTERVIEW, owner="u1")] == ["b"]
        assert list(store.list_heads(owner="u2")) == []
        assert sorted(store.list_heads(), key=lambda h: h.session_id) == [a, b, c]

    def test_list_heads_by_interview_sees_commits(self, store: SessionStore) -> None:
        # Given
        head = make_head(owner="u1")
        store.create(head, step(1))
        after = advance(head, step=2, title="moved on")
        store.commit(head, after, step(2))
        # When / Then
        assert list(store.list_heads(interview=INTERVIEW)) == [after]
        assert list(store.list_heads(owner="u1")) == [after]

    def test_listing_by_an_empty_owner_is_refused(self, store: SessionStore) -> None:
        # Given / When / Then: anonymous sessions are not indexed by owner
        with pytest.raises(ValueError, match="owner"):
            list(store.list_heads(owner=""))

    def test_big_random_blob_round_trips(self, store: SessionStore) -> None:
        # Given: a step larger than a DynamoDB item may hold
        big = os.urandom(400_000)
        head = make_head()
        store.create(head, step(1, big))
        # When: committed again as a new step as well
        store.commit(head, advance(head, step=2), step(2, big[::-1]))
        # Then
        assert store.load(INTERVIEW, "sess1")[1] == step(2, big[::-1])
        assert store.load_step(INTERVIEW, "sess1", 1) == step(1, big)

    # -- kinds of blobs -------------------------------------------------------------

    def test_every_blob_comes_back_with_the_kind_its_writer_recorded(self, store: SessionStore) -> None:
        # Given: a session whose step 1 is encrypted and step 2 signed (it switched to multi_user),
        # with an extra, a file, a task and a notification, each recorded with its kind
        head = make_head(encrypted=True)
        store.create(head, StepRecord(1, b"E1 step", BlobKind.ENCRYPTED))
        task = TaskRecord("sess1", "t1", INTERVIEW, "act", "queued", 1.0, payload=b"S1 payload",
                          kind=BlobKind.SIGNED, expires_at=2e9)
        note = Notification("sess1", "n1", b"E1 note", BlobKind.ENCRYPTED, 2e9)
        store.commit(head, advance(head, step=2, encrypted=False), StepRecord(2, b"S1 step", BlobKind.SIGNED),
                     extras={"kv:x": Sealed(b"S1 extra", BlobKind.SIGNED)}, tasks=[TaskWrite(task)], notes=[note])
        store.put_file("sess1", "f1/doc.pdf", Sealed(b"E1 file", BlobKind.ENCRYPTED))
        # When / Then: each comes back with its own kind, whatever the head now says
        assert store.load_step(INTERVIEW, "sess1", 1) == StepRecord(1, b"E1 step", BlobKind.ENCRYPTED)
        assert store.load(INTERVIEW, "sess1")[1] == StepRecord(2, b"S1 step", BlobKind.SIGNED)
        assert store.load_extra(INTERVIEW, "sess1", "kv:x") == Sealed(b"S1 extra", BlobKind.SIGNED)
        assert store.get_file("sess1", "f1/doc.pdf") == Sealed(b"E1 file", BlobKind.ENCRYPTED)
        assert store.load_task("sess1", "t1") == task
        assert store.take_notifications("sess1") == [note]

    # -- concurrency ---------------------------------------------------------------

    def test_thirty_concurrent_writers_lose_no_update(self, store: SessionStore) -> None:
        assert_concurrent_writers_lose_no_update(store, writers=30, think=0.001)


class AccountStoreBehaviour:
    """What every AccountStore does. Subclasses provide `accounts` and `stored_bytes`."""

    def test_created_user_is_found_by_any_case_of_the_email(self, accounts: AccountStore) -> None:
        # Given
        user = accounts.create_user("Ada@Example.com", "pass1234-long", ("admin",), "Ada", "Lovelace")
        # When
        found = accounts.get_user("ADA@example.COM")
        # Then
        assert found == user
        assert user.email == "ada@example.com"
        assert user.privileges == ("admin",)
        assert (user.first_name, user.last_name, user.active) == ("Ada", "Lovelace", True)
        assert len(user.id) == 16 and user.id.isalnum()

    def test_unknown_user_is_none(self, accounts: AccountStore) -> None:
        # Given: an empty store / When / Then
        assert accounts.get_user("nobody@example.com") is None

    def test_a_second_user_with_the_same_email_is_refused(self, accounts: AccountStore) -> None:
        # Given
        first = accounts.create_user("ada@example.com", "pass1234-long")
        # When / Then
        with pytest.raises(AccountError, match="exists"):
            accounts.create_user("ADA@example.com", "other-password")
        assert accounts.get_user("ada@example.com") == first

    @pytest.mark.parametrize(
        ("email", "password", "privileges", "message"),
        [
            ("not-an-email", "pass1234-long", ("user",), "e-mail"),
            ("@example.com", "pass1234-long", ("user",), "e-mail"),
            ("ada@example.com", "abc", ("user",), "10 to 254"),
            ("ada@example.com", "nine-char", ("user",), "10 to 254"),
            ("ada@example.com", "x" * 255, ("user",), "10 to 254"),
            ("ada@example.com", "pass1234-long", ("user", "cron"), "cron"),
            ("ada@example.com", "pass1234-long", (), "privilege"),
        ],
    )
    def test_invalid_new_users_are_refused(
        self, accounts: AccountStore, email: str, password: str, privileges: tuple[str, ...], message: str
    ) -> None:
        # Given / When / Then
        with pytest.raises(AccountError, match=message):
            accounts.create_user(email, password, privileges)
        assert accounts.get_user(email) is None

    def test_check_password_accepts_only_the_right_password(self, accounts: AccountStore) -> None:
        # Given
        user = accounts.create_user("ada@example.com", "pass1234-long")
        # When / Then
        assert accounts.check_password("Ada@example.com", "pass1234-long") == user
        assert accounts.check_password("ada@example.com", "pass1234-longer") is None
        assert accounts.check_password("bob@example.com", "pass1234-long") is None

    def test_api_key_finds_its_user(self, accounts: AccountStore) -> None:
        # Given
        user = accounts.create_user("ada@example.com", "pass1234-long")
        key = crypto.random_token(32)
        accounts.add_api_key("ada@example.com", key, name="ci")
        # When / Then
        assert accounts.user_for_api_key(key) == user
        assert accounts.user_for_api_key(crypto.random_token(32)) is None

    def test_api_keys_need_an_existing_user_a_long_key_and_no_duplicate(self, accounts: AccountStore) -> None:
        # Given
        accounts.create_user("ada@example.com", "pass1234-long")
        key = crypto.random_token(32)
        accounts.add_api_key("ada@example.com", key)
        # When / Then
        with pytest.raises(AccountError, match="no user"):
            accounts.add_api_key("bob@example.com", crypto.random_token(32))
        with pytest.raises(AccountError, match="at least 16"):
            accounts.add_api_key("ada@example.com", "short")
        with pytest.raises(AccountError, match="already registered"):
            accounts.add_api_key("ada@example.com", key)

    def test_nothing_is_stored_in_clear(self, accounts: AccountStore, stored_bytes: StoredBytes) -> None:
        # Given: a user with a password and an API key
        password = "Pw-0d4c1e9b7a"
        key = crypto.random_token(32)
        accounts.create_user("ada@example.com", password)
        accounts.add_api_key("ada@example.com", key, name="laptop")
        # When: everything the store holds is read back raw
        stored = stored_bytes()
        # Then: the user is there, but neither secret is
        assert b"ada@example.com" in stored
        assert password.encode() not in stored
        assert key.encode() not in stored
        assert crypto.hash_api_key(key).encode() in stored


class TestMemorySessionStore(SessionStoreBehaviour):
    @pytest.fixture
    def store(self) -> MemorySessionStore:
        return MemorySessionStore()


class TestMemoryAccountStore(AccountStoreBehaviour):
    @pytest.fixture
    def accounts(self) -> MemoryAccountStore:
        return MemoryAccountStore()

    @pytest.fixture
    def stored_bytes(self, accounts: MemoryAccountStore) -> StoredBytes:
        # The fake's whole state, pickled (repr would hide User.password_hash).
        return lambda: pickle.dumps((accounts._users, accounts._api_keys))
