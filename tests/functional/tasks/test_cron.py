"""Scheduled passes (issue 11): `POST /api/cron` and the `@app.schedule` handlers queue one run per
cron-enabled session; the worker runs the event there as the cron user.

Interviews: docassemble's cron.yml (unmodified, from ../shared/examples) and the fixtures
tests/fixtures/interviews/cron_probe.yml (a shared session whose events end each way a run
can end) and cron_encrypted.yml (allow_cron without multi_user: encrypted, never opened).
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import shutil
from pathlib import Path
from typing import Any

import pytest

from chalicelib.engine.request import Interface, Request
from chalicelib.language.loader import InterviewLoader
from chalicelib.local.drainer import QueueDrainer
from chalicelib.local.scheduler import Scheduler
from chalicelib.runtime.cron import CRON_USER, Cron
from chalicelib.runtime.services import Services
from chalicelib.runtime.sessions import Sessions
from chalicelib.storage.dynamodb import session_pk
from chalicelib.storage.errors import SessionNotFoundError
from tests.conftest import Api, ApiResult
from tests.doubles import WrappedStore
from tests.functional.api.helpers import ok_json
from tests.functional.tasks.conftest import TASK_QUEUE, TaskSession, queue_depth

PROBE = "cron_probe.yml"


def run_pass(api: Api, event: str) -> int:
    data = ok_json(api.post("/api/cron", {"type": event}))
    assert set(data) == {"queued"}, data
    queued: int = data["queued"]
    return queued


def started(api: Api, interview: str) -> TaskSession:
    """A session whose mandatory code has run (its first screen was shown). A shared (multi_user)
    session has no secret; an encrypted one has."""
    data = api.new_session(interview)
    session = TaskSession(api, interview, data["session"], data.get("secret") or "")
    session.screen()
    return session


def version(services: Services, session: TaskSession) -> int:
    return services.store.load(session.interview, session.session)[0].version


def question(session: TaskSession) -> str:
    screen = session.screen()
    assert "questionText" in screen, screen
    return str(screen["questionText"]).strip()


def test_a_pass_runs_the_event_in_each_shared_session_that_allows_cron(
        api: Api, drainer: QueueDrainer, examples: Path) -> None:
    # Given: two sessions of docassemble's cron.yml (allow_cron and multi_user), at counter 0
    sessions = [started(api, "cron.yml") for _ in range(2)]
    assert question(sessions[0]) == "The value of the counter is\n0."

    # When: the hourly pass runs twice, each drained by the worker
    for expected in (1, 2):
        assert run_pass(api, "cron_hourly") == 2
        assert drainer.drain() == 2

        # Then: each session's counter went up by one per pass
        for session in sessions:
            assert question(session) == f"The value of the counter is\n{expected}."


def test_the_run_is_the_cron_users_and_does_not_count_as_activity(
        api: Api, drainer: QueueDrainer, fast_retries: Services) -> None:
    session = started(api, PROBE)
    modified = fast_retries.store.load(PROBE, session.session)[0].modified

    assert run_pass(api, "cron_daily") == 1
    assert drainer.drain() == 1

    answers = session.answers()
    assert answers["runs"] == 1
    assert (answers["cron_email"], answers["cron_privileged"], answers["cron_logged_in"]) == (
        "cron@admin.com", True, True)
    assert fast_retries.store.load(PROBE, session.session)[0].modified == modified  # not kept alive by cron


def test_an_encrypted_session_is_never_listed_opened_or_written(
        api: Api, drainer: QueueDrainer, fast_retries: Services) -> None:
    # Given: a session with allow_cron but no multi_user (so encrypted), and a shared one
    encrypted = started(api, "cron_encrypted.yml")
    shared = started(api, PROBE)
    before = version(fast_retries, encrypted)

    # When: a pass runs
    assert run_pass(api, "cron_daily") == 1  # only the shared session is queued
    drainer.drain()

    # Then: the encrypted session is exactly as it was
    assert version(fast_retries, encrypted) == before
    assert encrypted.answers()["runs"] == 0
    assert shared.answers()["runs"] == 1


def test_an_interview_that_does_not_define_the_event_queues_nothing(api: Api,
                                                                    drainer: QueueDrainer) -> None:
    started(api, PROBE)
    assert run_pass(api, "cron_yearly") == 0
    assert drainer.drain() == 0


def test_response_null_saves_nothing_and_a_response_text_is_logged(
        api: Api, drainer: QueueDrainer, fast_retries: Services, caplog: Any) -> None:
    session = started(api, PROBE)
    before = version(fast_retries, session)

    run_pass(api, "cron_weekly")  # runs += 100, then response(null=True)
    drainer.drain()
    assert version(fast_retries, session) == before and session.answers()["runs"] == 0

    with caplog.at_level(logging.INFO, logger="chalicelib.runtime.cron"):
        run_pass(api, "cron_hourly")  # runs += 1, then response("hourly run number 1")
        drainer.drain()
    assert session.answers()["runs"] == 1
    assert any("hourly run number 1" in r.getMessage() and session.session in r.getMessage()
               for r in caplog.records)


def test_command_exit_deletes_the_session_with_its_items_and_leave_keeps_it(
        api: Api, drainer: QueueDrainer, fast_retries: Services, fresh_aws: dict[str, Any]) -> None:
    leaving, exiting = started(api, PROBE), started(api, PROBE)
    before = version(fast_retries, leaving)

    # command('leave'): kept, and nothing saved (the run's change is dropped)
    Cron(Sessions(fast_retries)).run({"cron": "cron_leave", "run": "r1", "i": PROBE, "session": leaving.session})
    assert version(fast_retries, leaving) == before and leaving.answers()["runs"] == 0

    # command('exit'): the session and every item it owns are gone
    fast_retries.store.put_file(exiting.session, "kept.txt", _sealed(b"a file of the session"))
    Cron(Sessions(fast_retries)).run({"cron": "cron_monthly", "run": "r2", "i": PROBE, "session": exiting.session})
    with pytest.raises(SessionNotFoundError):
        fast_retries.store.load(PROBE, exiting.session)
    items = fresh_aws["dynamodb"].query(TableName=fast_retries.settings.table_name,
                                         KeyConditionExpression="pk = :pk",
                                         ExpressionAttributeValues={":pk": {"S": session_pk(exiting.session)}})
    assert items["Items"] == []
    objects = fresh_aws["s3"].list_objects_v2(Bucket=fast_retries.settings.blob_bucket,
                                              Prefix=f"files/{exiting.session}/")
    assert objects.get("KeyCount", 0) == 0
    assert fast_retries.store.load(PROBE, leaving.session)  # the other one is untouched


def _sealed(data: bytes) -> Any:
    from chalicelib.storage.records import BlobKind, Sealed

    return Sealed(data, BlobKind.SIGNED)


def test_a_redelivered_run_does_nothing_and_two_passes_both_count(api: Api, fast_retries: Services) -> None:
    session = started(api, PROBE)
    cron = Cron(Sessions(fast_retries))
    message = {"cron": "cron_daily", "run": "pass-1", "i": PROBE, "session": session.session}

    cron.run(message)
    cron.run(message)  # SQS delivers a message at least once: the same run again
    assert session.answers()["runs"] == 1

    cron.run({**message, "run": "pass-2"})
    assert session.answers()["runs"] == 2


class _RacingStore(WrappedStore):
    """Before its first commit, another pass's run of the same session commits first."""

    def __init__(self, inner: Any, other: Any) -> None:
        super().__init__(inner)
        self.other = other
        self.raced = False

    def commit(self, *args: Any, **kwargs: Any) -> None:
        if not self.raced:
            self.raced = True
            self.other()
        self.inner.commit(*args, **kwargs)


def test_two_passes_racing_on_one_session_both_count(api: Api, fast_retries: Services) -> None:
    session = started(api, PROBE)
    plain = Cron(Sessions(fast_retries))
    message = {"cron": "cron_daily", "i": PROBE, "session": session.session}
    racing = _RacingStore(fast_retries.store, lambda: plain.run({**message, "run": "pass-b"}))
    raced = Cron(Sessions(dataclasses.replace(fast_retries, store=racing)))

    raced.run({**message, "run": "pass-a"})  # its first commit loses to pass-b's, and it runs again

    assert racing.raced
    assert session.answers()["runs"] == 2


def test_an_error_in_the_event_is_logged_and_the_pass_goes_on(
        api: Api, drainer: QueueDrainer, caplog: Any) -> None:
    sessions = [started(api, PROBE) for _ in range(2)]
    with caplog.at_level(logging.ERROR, logger="chalicelib.runtime.cron"):
        assert run_pass(api, "cron_broken") == 2
        assert drainer.drain() == 2  # each run once: an error in the interview's code is not retried
    failures = [r for r in caplog.records if "ZeroDivisionError" in (r.exc_text or "")]
    assert sorted(s.session for s in sessions) == sorted(
        next(s.session for s in sessions if s.session in r.getMessage()) for r in failures)
    assert [s.answers()["runs"] for s in sessions] == [0, 0]
    assert queue_depth(drainer.sqs, TASK_QUEUE) == 0


def test_a_session_whose_interview_is_gone_is_skipped_and_the_pass_goes_on(
        api: Api, fast_retries: Services, tmp_path: Path, caplog: Any) -> None:
    # Given: a session of an interview in a folder of its own, and one of the fixture
    folder = tmp_path / "interviews"
    folder.mkdir()
    shutil.copy(Path(__file__).parents[2] / "fixtures" / "interviews" / PROBE, folder / "doomed.yml")
    loader = InterviewLoader([folder, *fast_retries.settings.interview_path])
    services = dataclasses.replace(fast_retries, loader=loader)
    sessions = Sessions(services)
    doomed, _ = sessions.start("doomed.yml", interface=Interface.API)
    sessions.view(doomed, Request("doomed.yml", doomed.session_id, user=CRON_USER, interface=Interface.API))
    kept = started(api, PROBE)

    # When: the doomed interview's file is removed, and a pass runs
    (folder / "doomed.yml").unlink()
    with caplog.at_level(logging.WARNING, logger="chalicelib.runtime.cron"):
        assert Cron(sessions).queue_pass("cron_daily") == 1

    # Then: its session was skipped with a warning that names the interview; the other was queued
    assert any("doomed.yml" in r.getMessage() for r in caplog.records)
    runner = Cron(sessions)
    for body in _queued(fast_retries):
        runner.run(body)
    assert kept.answers()["runs"] == 1


def _queued(services: Services) -> list[dict[str, Any]]:
    import json

    sqs = services.queue._sqs()[0]  # type: ignore[attr-defined]
    url = sqs.get_queue_url(QueueName=TASK_QUEUE)["QueueUrl"]
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in received]


# ---------------------------------------------------------------------------- POST /api/cron
def test_post_api_cron_needs_the_admin_and_an_event_name(api: Api, services: Any) -> None:
    services.accounts.create_user("someone@example.com", "user-password", privileges=("user",))
    services.accounts.add_api_key("someone@example.com", "UserKey0123456789abcdefghijklmno", "tests")

    refused = api.post("/api/cron", {"type": "cron_daily"}, key="UserKey0123456789abcdefghijklmno")
    assert refused.status == 403 and refused.json == {"error": "Access denied."}
    for body, fragment in (({}, "Parameter type is required"), ({"type": "cron daily; rm"}, "event name"),
                           ({"type": ["cron_daily"]}, "event name")):
        result: ApiResult = api.post("/api/cron", body)
        assert result.status == 400 and fragment in result.json["error"], result.body
    assert ok_json(api.post("/api/cron", {"type": "cron_daily"})) == {"queued": 0}


def test_the_schedules_are_the_four_docassemble_events_and_each_handler_runs_a_pass(
        api: Api, drainer: QueueDrainer) -> None:
    from chalice.app import ScheduledEventConfig

    from app import app

    rules = {s.name: s.schedule_expression.to_string() for s in app.event_sources
             if isinstance(s, ScheduledEventConfig)}
    assert rules == {"cron_hourly": "cron(0 * * * ? *)", "cron_daily": "cron(0 0 * * ? *)",
                     "cron_weekly": "cron(0 0 ? * SUN *)", "cron_monthly": "cron(0 0 1 * ? *)"}
    session = started(api, PROBE)
    clock = Scheduler(app)
    (daily,) = [s for s in clock.schedules if s.name == "cron_daily"]
    assert clock.fire(daily, datetime.datetime(2026, 12, 3, tzinfo=datetime.UTC)) == {"queued": 1}
    drainer.drain()
    assert session.answers()["runs"] == 1


def test_a_session_turn_of_the_api_is_not_a_cron_turn(api: Api, fast_retries: Services) -> None:
    """The head records scheduled runs only: an ordinary turn leaves the list as it was."""
    session = started(api, PROBE)
    Cron(Sessions(fast_retries)).run({"cron": "cron_daily", "run": "p", "i": PROBE, "session": session.session})
    session.set({"runs": 5})
    head = fast_retries.store.load(PROBE, session.session)[0]
    assert head.cron_runs == ("p",) and session.answers()["runs"] == 5


def test_a_run_may_start_a_background_task_and_count_tasks(api: Api, drainer: QueueDrainer) -> None:
    session = started(api, PROBE)
    for nudges in (1, 2):
        assert run_pass(api, "cron_background") == 1
        drainer.drain()  # the run, then the task it started, then the task's callback
        answers = session.answers()
        assert (answers["nudges"], answers["runs"]) == (nudges, 15)
    assert [t["status"] for t in session.tasks()] == ["done", "done"]


def test_last_access_is_the_users_last_save_and_a_cron_run_is_not_an_access(
        api: Api, fast_retries: Services) -> None:
    session = started(api, PROBE)
    ok_json(session.set({"runs": 3}))  # the admin's save (the API key's owner)
    cron = Cron(Sessions(fast_retries))
    message = {"cron": "cron_access", "i": PROBE, "session": session.session}

    cron.run({**message, "run": "first"})
    first = session.answers()
    assert first["seen"] is not None and first["by_admin"] == first["seen"]
    assert first["by_anonymous"] is None
    assert 0 <= first["idle_days"] < 1
    assert first["seen_with_cron"] == first["seen"]  # no cron run had saved yet

    cron.run({**message, "run": "second"})
    second = session.answers()
    assert second["seen"] == first["seen"]  # the first cron run did not count
    assert second["seen_with_cron"] > first["seen"]  # unless asked for


@pytest.mark.parametrize(("served_days_ago", "reminders"), [(30, 1), (0, 0)])
def test_one_reminder_twenty_days_after_the_date_given_and_then_none(
        api: Api, drainer: QueueDrainer, served_days_ago: int, reminders: int) -> None:
    session = started(api, "cron_reminder.yml")
    served = datetime.date.today() - datetime.timedelta(days=served_days_ago)
    ok_json(session.set({"served_on": served.isoformat()}))

    for _ in range(2):  # two daily passes: a reminder is sent once, and then the session leaves cron
        run_pass(api, "cron_daily")
        drainer.drain()

    assert session.answers()["reminders_sent"] == reminders
    assert run_pass(api, "cron_daily") == 1 - reminders


def test_alarm_clock_counts_each_hour_and_logs_that_it_is_not_time_yet(
        api: Api, drainer: QueueDrainer, caplog: Any, examples: Path) -> None:
    # Given: docassemble's alarm-clock.yml answered up to its "Good night!" screen, waking an hour from now
    session = started(api, "alarm-clock.yml")
    wake = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1)).strftime("%H:%M")
    assert question(session) == "What is your e-mail address?"
    ok_json(session.set({"email": "sleeper@example.com"}))
    assert question(session) == "When shall I wake you up?"
    ok_json(session.set({"raw_wakeup_time": wake}))
    assert question(session) == "What is your time zone?"
    ok_json(session.set({"timezone": "UTC"}))
    assert question(session) == "Good night!"

    # When: two hourly passes run before the wake-up time
    with caplog.at_level(logging.INFO, logger="chalicelib.runtime.cron"):
        for _ in range(2):
            assert run_pass(api, "cron_hourly") == 1
            drainer.drain()

    # Then: each counted, and each said why no e-mail went out (sending it is the mail issue's test).
    # Each pass adds 2: the event's code meets `now` undefined (reconsider), which is computed, and
    # the code runs again from its start, as in docassemble.
    assert session.answers()["counter"] == 4
    said = [r.getMessage() for r in caplog.records if "Not ready to send wakeup call" in r.getMessage()]
    assert len(said) == 2 and all(session.session in line for line in said)


def test_a_run_sends_its_e_mail_once_and_counts_the_task(api: Api, drainer: QueueDrainer,
                                                          fresh_aws: dict[str, Any]) -> None:
    import boto3
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    boto3.client("ses", region_name="us-east-1").verify_domain_identity(Domain="mail.localhost")
    session = started(api, PROBE)
    for _ in range(2):  # the second pass finds the task performed: nothing more is sent
        assert run_pass(api, "cron_mail") == 1
        drainer.drain()
    sent = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
    assert len(sent) == 1 and "Subject: Daily note" in sent[0].raw_data
    assert session.answers()["sent_note"] is True
