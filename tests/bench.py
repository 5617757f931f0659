"""Benchmarks (`make bench`): figures to read, never assertions.

For each core example of ../shared/examples it prints the median time per
screen of
  (a) the engine and renderer alone (evaluate + render one screen, answers in memory), and
  (b) a whole REST API turn on moto (HTTP routing, DynamoDB load, decrypt, evaluate,
      encrypt, conditional commit),
then the cold-import time and resident memory of `app.py`, and the worst time of
each hostile input of issue 7 §3 through the real app (`python -m tests.bench hostile`
runs that part alone).
"""

from __future__ import annotations

import base64
import contextlib
import copy
import json
import os
import re
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tests.bench_report import Report

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT.parent / "shared" / "examples"
FIXTURES = ROOT / "tests" / "fixtures" / "interviews"
BENCH_SERVER_KEY = base64.b64encode(os.urandom(32)).decode()

# Each core example: the steps of one path through it.
# ("view",) | ("action", name, arguments) | ("set", {variables})
Step = tuple[Any, ...]
PATHS: dict[str, list[Step]] = {
    "actions.yml": [("view",), ("action", "color", {}), ("set", {"color": "red"}), ("set", {"info_is_verified": True})],
    "actions-parameters.yml": [("view",), ("action", "add", {"color": "blue"}), ("set", {"info_is_verified": True})],
    "reload.yml": [("view",), ("view",), ("set", {"acknowledged": True})],
    "response.yml": [("view",)],
    "message.yml": [("view",)],
    "command.yml": [("view",)],
    "exit.yml": [("view",), ("set", {"target_url": "http://stanford.edu/"})],
    "leave.yml": [("view",), ("set", {"target_url": "http://stanford.edu/"})],
    "persistent-task.yml": [("view",), ("set", {"favorite_fruit": "apple"})],
}
REPEAT = int(os.environ.get("BENCH_REPEAT", "200"))
API_REPEAT = int(os.environ.get("BENCH_API_REPEAT", "30"))


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


class _Kv:
    def get(self, scope: str, key: str) -> Any:
        return None


def engine_bench() -> dict[str, float]:
    """(a) evaluate + render one screen, per screen of each path; median over screens."""
    from chalicelib.engine import assign
    from chalicelib.engine.evaluator import Evaluation
    from chalicelib.engine.request import Request
    from chalicelib.engine.state import SessionState
    from chalicelib.language.loader import InterviewLoader
    from chalicelib.library import namespace

    loader = InterviewLoader([EXAMPLES])
    results: dict[str, float] = {}
    for name, steps in PATHS.items():
        interview = loader.load(name)
        answers: dict[str, Any] = {}
        saved_state = SessionState().saved()
        per_screen: list[float] = []
        for step in steps:
            action, arguments = (step[1], step[2]) if step[0] == "action" else (None, {})
            if step[0] == "set":
                for variable, value in step[1].items():
                    assign.assign(answers, variable, value)
            request = Request(name, "B" * 32, action=action, arguments=arguments, persistent_action=False,
                              kv=_Kv())
            samples = []
            for _ in range(REPEAT):
                trial, trial_state = copy.deepcopy(answers), SessionState.restore(copy.deepcopy(saved_state))
                start = time.perf_counter()
                Evaluation(interview, trial, request, namespace.build, trial_state).run()
                samples.append(time.perf_counter() - start)
            per_screen.append(statistics.median(samples))
            state = SessionState.restore(saved_state)
            ev = Evaluation(interview, answers, request, namespace.build, state)
            ev.run()
            answers, saved_state = ev.answers(), state.saved()
        results[name] = statistics.median(per_screen) * 1000
    return results


def api_bench() -> dict[str, float]:
    """(b) whole API turns on in-process moto; median per request over each path."""
    os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                       "AWS_DEFAULT_REGION": "us-east-1", "INTERVIEW_PATH": str(EXAMPLES),
                       "SERVER_KEY": BENCH_SERVER_KEY})
    from chalice.test import Client
    from moto import mock_aws

    with mock_aws():
        from moto.moto_api._internal.models import moto_api_backend

        from app import app
        from chalicelib.local.resources import create_resources
        from chalicelib.runtime.services import Services
        from chalicelib.settings import Settings
        from chalicelib.web import context

        key = "BenchKey0123456789abcdefghijklmn"
        results: dict[str, float] = {}
        for name, steps in PATHS.items():
            # A fresh table per example: moto copies the whole table on every transaction,
            # so a growing table would slow later examples for reasons that are moto's alone.
            moto_api_backend.reset()
            create_resources()
            services = Services.from_settings(Settings.from_env())
            services.accounts.create_user("bench@localhost", "bench-password", privileges=("admin",))
            services.accounts.add_api_key("bench@localhost", key)
            context.use_services(services)
            with Client(app) as client:
                results[name] = _api_path(client, key, name, steps)
        return results


def _api_path(client: Any, key: str, name: str, steps: list[Step]) -> float:
    headers = {"X-API-Key": key, "Content-Type": "application/json"}
    samples: list[float] = []

    def timed(call: Callable[[], Any]) -> Any:
        start = time.perf_counter()
        response = call()
        samples.append(time.perf_counter() - start)
        assert response.status_code < 400, response.body
        return response

    for _ in range(API_REPEAT):
        new = client.http.get(f"/api/session/new?i={name}", headers=headers).json_body
        ids = {"i": name, "session": new["session"], "secret": new["secret"]}
        query = "&".join(f"{k}={v}" for k, v in ids.items())
        for step in steps:
            if step[0] == "view":
                timed(lambda query=query: client.http.get(f"/api/session/question?{query}", headers=headers))
            elif step[0] == "action":
                body = json.dumps({**ids, "action": step[1], "arguments": step[2]})
                timed(lambda body=body: client.http.post("/api/session/action", headers=headers, body=body))
            else:
                body = json.dumps({**ids, "variables": step[1]})
                timed(lambda body=body: client.http.post("/api/session", headers=headers, body=body))
    return _median_ms(samples)


TASK_RUNS = int(os.environ.get("BENCH_TASK_RUNS", "10"))
THROUGHPUT_TASKS = int(os.environ.get("BENCH_THROUGHPUT_TASKS", "100"))


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _http(method: str, url: str, data: dict[str, Any] | None = None, key: str = "") -> Any:
    import urllib.request

    body = json.dumps(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, method=method,
                                     headers={"X-API-Key": key, "Content-Type": "application/json"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=30) as response:
        return json.loads(response.read() or b"null")


def task_latency_bench() -> tuple[float, float]:
    """On the local stack (serialized moto, web server, worker thread): from the answer that
    commits a background task to (a) the task being done and (b) its flash reaching a check-in."""
    from chalicelib.local.stack import LocalStack
    from chalicelib.settings import Settings

    key = "BenchKey0123456789abcdefghijklmn"
    settings = Settings.from_env({"PORT": str(_free_port()), "MOTO_PORT": str(_free_port()), "API_KEY": key,
                                  "SERVER_KEY": BENCH_SERVER_KEY,
                                  "INTERVIEW_PATH": str(EXAMPLES), "ADMIN_PASSWORD": "bench-password"})
    done, noted = [], []
    with LocalStack(settings) as stack:
        api = f"{stack.web.url}/api"
        for _ in range(TASK_RUNS):
            new = _http("GET", f"{api}/session/new?i=background_action_flash.yml", key=key)
            ids = {"i": "background_action_flash.yml", "session": new["session"], "secret": new["secret"]}
            query = "&".join(f"{k}={v}" for k, v in ids.items())
            start = time.perf_counter()
            _http("POST", f"{api}/session", {**ids, "variables": {"value_to_add": 5}}, key)
            while _http("GET", f"{api}/session/tasks?{query}", key=key)[0]["status"] != "done":
                time.sleep(0.005)
            done.append(time.perf_counter() - start)
            while not _http("POST", f"{api}/session/checkin", ids, key)["commands"]:
                time.sleep(0.005)
            noted.append(time.perf_counter() - start)
    return _median_ms(done), _median_ms(noted)


MAIL_COUNT = int(os.environ.get("BENCH_MAILS", "50"))


def mail_in_bench() -> float:
    """Inbound mails per second on the local stack, end to end: smtplib → the SMTP server → the mail
    bucket and SES's notification → the mail topic → the mail queue → the handler → the session
    (email-to-case-simple.yml, multi-user), counted once every mail is listed by get_emails()."""
    import smtplib
    from email.message import EmailMessage

    from chalicelib.local.stack import LocalStack
    from chalicelib.settings import Settings
    from chalicelib.web import context

    key = "BenchKey0123456789abcdefghijklmn"
    settings = Settings.from_env({"PORT": str(_free_port()), "MOTO_PORT": str(_free_port()),
                                  "SMTP_PORT": str(_free_port()), "API_KEY": key, "SERVER_KEY": BENCH_SERVER_KEY,
                                  "INTERVIEW_PATH": str(EXAMPLES), "ADMIN_PASSWORD": "bench-password"})
    with LocalStack(settings) as stack:
        api = f"{stack.web.url}/api"
        new = _http("GET", f"{api}/session/new?i=email-to-case-simple.yml", key=key)
        ids = {"i": "email-to-case-simple.yml", "session": new["session"], "secret": new["secret"]}
        _http("POST", f"{api}/session", {**ids, "variables": {"multi_user": True}}, key)
        del ids["secret"]
        screen = _http("POST", f"{api}/session", {**ids, "variables": {"intro_seen": True}}, key)
        found = re.search(r"[a-z]{10}@mail\.localhost", screen["subquestionText"])
        assert found, screen
        address = found.group(0)
        port = context.sessions().mail_port(new["session"])
        start = time.perf_counter()
        with smtplib.SMTP("127.0.0.1", settings.smtp_port) as smtp:
            for n in range(MAIL_COUNT):
                message = EmailMessage()
                message["From"], message["To"], message["Subject"] = "bench@example.com", address, f"mail {n}"
                message.set_content("A short body.")
                smtp.send_message(message)
        deadline = start + 300
        while sum(len(a.mails) for a in port.addresses()) < MAIL_COUNT:
            if time.perf_counter() > deadline:
                raise RuntimeError("bench: the mails did not all arrive within 300 s")
            time.sleep(0.01)
            port = context.sessions().mail_port(new["session"])
        return MAIL_COUNT / (time.perf_counter() - start)


WALK_RUNS = int(os.environ.get("BENCH_WALK_RUNS", "5"))
IDLE_SECONDS = float(os.environ.get("BENCH_IDLE_SECONDS", "10"))
# docassemble 1.10.5 (uWSGI + PostgreSQL + Redis) on this machine, the same walk (issue 9's table)
DOCASSEMBLE_WALK_MS = {"actions.yml": (17.9, 20.1), "check-in.yml": (20.8, None)}


def _filled(page: str) -> dict[str, str] | None:
    """What a user fills in on `page`: every field of the form and the first button; None at an end screen."""
    import re

    def hidden(name: str) -> str:
        match = re.search(f'name="{name}" value="([^"]*)"', page)
        return match.group(1) if match else ""

    form = {"_csrf": hidden("_csrf"), "_screen": hidden("_screen")}
    for tag in re.findall(r"<(?:input|select|textarea)[^>]*name=\"_f\d+\"[^>]*>", page):
        name = re.search(r'name="(_f\d+)"', tag).group(1)  # type: ignore[union-attr]
        kind = (re.search(r'type="(\w+)"', tag) or re.search(r"(select)", tag))
        value = re.search(r'value="([^"]*)"', tag)
        if kind and kind.group(1) in ("radio", "checkbox"):
            form.setdefault(name, value.group(1) if value else "True")
        elif kind and kind.group(1) == "select":
            options = re.findall(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', page, re.S)
            choices = re.findall(r'<option value="([^"]+)"', options[0]) if options else []
            form[name] = choices[0] if choices else ""
        else:
            form[name] = {"number": "1", "date": "2024-01-02", "email": "a@example.com"}.get(
                kind.group(1) if kind else "text", "x")
    button = re.search(r'name="_button" value="(\d+)"', page)
    if button:
        form["_button"] = button.group(1)
    elif 'name="_continue"' in page:
        form["_continue"] = "1"
    else:
        return None
    return form


Walked = dict[str, tuple[float, float, int]]
Counted = dict[str, tuple[tuple[Counter[str], int], tuple[Counter[str], int]]]


def walk_bench() -> tuple[Walked, Counted, float]:
    """On the local stack over HTTP, the browser walk of issue 9: GET the interview, GET it again,
    fill every field, POST (the reply is the next page; urllib would follow a 303). Median POST and re-GET
    per interview, the screens walked, and the stack's CPU while idle (% of one core)."""
    import http.cookiejar
    import urllib.request
    from urllib.parse import urlencode

    from chalicelib.local.stack import LocalStack
    from chalicelib.settings import Settings

    settings = Settings.from_env({"PORT": str(_free_port()), "MOTO_PORT": str(_free_port()),
                                  "SERVER_KEY": BENCH_SERVER_KEY, "INTERVIEW_PATH": str(EXAMPLES),
                                  "ADMIN_PASSWORD": "bench-password"}, local_stack=True)
    from chalicelib.local import stack as local_stack

    calls: list[str] = []
    made = local_stack.in_process_client

    def counted_client(service: str, region: str) -> Any:  # the app's clients, with a call counter
        client = made(service, region)
        client.meta.events.register("before-call.dynamodb", lambda model, **_: calls.append(model.name))
        return client

    local_stack.in_process_client = counted_client  # type: ignore[assignment]
    results: dict[str, tuple[float, float, int]] = {}
    counts: dict[str, tuple[tuple[Counter[str], int], tuple[Counter[str], int]]] = {}
    with LocalStack(settings) as stack:
        time.sleep(1.0)
        before = time.process_time()
        time.sleep(IDLE_SECONDS)
        idle = (time.process_time() - before) / IDLE_SECONDS * 100
        for name in DOCASSEMBLE_WALK_MS:
            url = f"{stack.web.url}/interview?i={name}"
            posts: list[float] = []
            gets: list[float] = []
            post_calls: Counter[str] = Counter()
            get_calls: Counter[str] = Counter()
            for _ in range(WALK_RUNS):
                opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
                                                     urllib.request.ProxyHandler({}))
                page = opener.open(url, timeout=30).read().decode()
                for _ in range(20):
                    calls.clear()
                    start = time.perf_counter()
                    page = opener.open(url, timeout=30).read().decode()
                    gets.append(time.perf_counter() - start)
                    get_calls.update(calls)
                    form = _filled(page)
                    if form is None:
                        break
                    calls.clear()
                    start = time.perf_counter()
                    page = opener.open(url, data=urlencode(form).encode(), timeout=30).read().decode()
                    posts.append(time.perf_counter() - start)
                    post_calls.update(calls)
            results[name] = (_median_ms(posts), _median_ms(gets), len(gets) // WALK_RUNS)
            counts[name] = ((post_calls, len(posts)), (get_calls, len(gets)))
    local_stack.in_process_client = made  # type: ignore[assignment]
    return results, counts, idle


def _per(calls: Counter[str], requests: int) -> str:
    """Calls per request, by operation."""
    requests = max(1, requests)
    return ", ".join(f"{n / requests:.1f} {op}" for op, n in sorted(calls.items())) or "none"


def _start_tasks(sessions: Any, count: int) -> None:
    """`count` sessions of background_action.yml, each with its task queued."""
    from chalicelib.engine.request import Request
    from chalicelib.runtime.sessions import VariableChanges

    name = "background_action.yml"
    for _ in range(count):
        ref, _ = sessions.start(name, interface="api")
        sessions.set_variables(ref, Request(name, ref.session_id, interface="api"),
                               VariableChanges({"value_to_add": 5}))


@contextlib.contextmanager
def _in_process_aws() -> Iterator[None]:
    """Fake credentials, moto in this process, emptied, with the resources of infra/ created."""
    os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                       "AWS_DEFAULT_REGION": "us-east-1", "INTERVIEW_PATH": str(EXAMPLES),
                       "SERVER_KEY": BENCH_SERVER_KEY})
    os.environ.pop("AWS_ENDPOINT_URL", None)
    from moto import mock_aws

    with mock_aws():
        from moto.moto_api._internal.models import moto_api_backend

        from chalicelib.local.resources import create_resources

        moto_api_backend.reset()
        create_resources()
        yield


def worker_throughput_bench() -> float:
    """Tasks per second through the real SQS handler, in-process (moto in memory, one thread)."""
    with _in_process_aws():
        from app import app
        from chalicelib.local.drainer import QueueDrainer
        from chalicelib.runtime.services import Services
        from chalicelib.runtime.sessions import Sessions
        from chalicelib.settings import Settings
        from chalicelib.web import context

        services = Services.from_settings(Settings.from_env())
        context.use_services(services)
        sessions = Sessions(services)
        _start_tasks(sessions, THROUGHPUT_TASKS)
        start = time.perf_counter()
        handled = QueueDrainer(app).drain(max_rounds=THROUGHPUT_TASKS)
        elapsed = time.perf_counter() - start
        context.use_services(None)
        return handled / elapsed


SEND_RUNS = int(os.environ.get("BENCH_SEND_RUNS", "30"))


def send_latency_bench() -> tuple[float, float]:
    """send_both.yml's turn (one e-mail, one SMS) in-process on moto: the median time from the commit's
    return to (a) SES accepting the e-mail and (b) SNS the SMS, as the turn sends them after its commit."""
    with _in_process_aws():
        import dataclasses

        import boto3

        from chalicelib.engine.request import Request
        from chalicelib.runtime.messenger import AwsMessenger
        from chalicelib.runtime.services import Services
        from chalicelib.runtime.sessions import Sessions, VariableChanges
        from chalicelib.settings import Settings
        from tests.doubles import WrappedStore

        committed: list[float] = []
        accepted: dict[str, list[float]] = {"email": [], "sms": []}

        class TimedStore(WrappedStore):
            def commit(self, *args: Any, **kwargs: Any) -> None:
                self.inner.commit(*args, **kwargs)
                committed.append(time.perf_counter())

        class TimedMessenger(AwsMessenger):
            def send_email(self, sender: str, recipients: Any, raw: bytes) -> str:
                sent = super().send_email(sender, recipients, raw)
                accepted["email"].append(time.perf_counter() - committed[-1])
                return sent

            def send_sms(self, number: str, text: str) -> str:
                sent = super().send_sms(number, text)
                accepted["sms"].append(time.perf_counter() - committed[-1])
                return sent

        boto3.client("ses", region_name="us-east-1").verify_domain_identity(Domain="mail.localhost")
        os.environ["INTERVIEW_PATH"] = f"{EXAMPLES}:{FIXTURES}"
        services = Services.from_settings(Settings.from_env())
        services = dataclasses.replace(services, store=TimedStore(services.store), messenger=TimedMessenger())
        sessions = Sessions(services)
        name = "send_both.yml"
        answers = {"client.name.first": "Ann", "client.email": "ann@example.com",
                   "client.phone_number": "(650) 253-0000"}
        for _ in range(SEND_RUNS):
            ref, _ = sessions.start(name, interface="api")
            sessions.set_variables(ref, Request(name, ref.session_id, interface="api"), VariableChanges(answers))
        return _median_ms(accepted["email"]), _median_ms(accepted["sms"])


CRON_ENABLED = int(os.environ.get("BENCH_CRON_ENABLED", "2000"))
CRON_TOTALS = tuple(int(n) for n in os.environ.get("BENCH_CRON_TOTALS", "20000,40000").split(","))
CRON_RUNS = 20


def _put_heads(services: Any, count: int, cron: bool) -> None:
    """`count` session heads of cron.yml put straight into moto's table (cron-enabled, or encrypted ones
    the pass must not read): seeding 40,000 items through the API would take minutes."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    from chalicelib.storage.crypto import random_token
    from chalicelib.storage.dynamodb import head_to_item
    from chalicelib.storage.records import SessionHead

    backend = dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
    now = time.time()
    for _ in range(count):
        head = SessionHead("cron.yml", random_token(32), 1, 1, encrypted=not cron, created=now, modified=now,
                           allow_cron=True)
        backend.put_item(services.store.table_name, head_to_item(head))


def cron_bench() -> tuple[list[tuple[int, float, int, int, int]], float]:
    """One scheduled pass over CRON_ENABLED cron-enabled sessions among each of CRON_TOTALS sessions
    (in-process moto): (total, seconds, DynamoDB read calls, items read, runs queued) per total; and the
    median ms of one session's run of cron.yml's cron_hourly (Cron.run, as the worker calls it).
    The pass's runs go to an in-memory queue (moto's SQS slows with every message it holds, which
    AWS does not); on AWS they are one SendMessageBatch call per ten runs."""
    import dataclasses

    from chalicelib.local.moto_speedups import partition_scoped

    with _in_process_aws(), partition_scoped():
        from chalicelib.engine.request import Interface, Request
        from chalicelib.runtime.cron import Cron
        from chalicelib.runtime.queue import MemoryTaskQueue
        from chalicelib.runtime.services import Services
        from chalicelib.runtime.sessions import Sessions
        from chalicelib.settings import Settings

        services = Services.from_settings(Settings.from_env())
        client = services.store._aws.dynamodb
        counted = {"calls": 0, "items": 0}

        def after(parsed: Any, model: Any, **_: Any) -> None:
            if model.name in ("Query", "Scan", "GetItem", "BatchGetItem"):
                counted["calls"] += 1
                counted["items"] += int(parsed.get("Count", len(parsed.get("Items", []))))

        client.meta.events.register("after-call.dynamodb", after)
        _put_heads(services, CRON_ENABLED, cron=True)
        total = CRON_ENABLED
        passes = []
        for wanted in CRON_TOTALS:
            _put_heads(services, wanted - total, cron=False)
            total = wanted
            queue = MemoryTaskQueue()
            counted.update(calls=0, items=0)
            start = time.perf_counter()
            queued = Cron(Sessions(dataclasses.replace(services, queue=queue))).queue_pass("cron_hourly")
            passes.append((total, time.perf_counter() - start, counted["calls"], counted["items"], queued))
            assert len(queue.sent) == queued
        sessions = Sessions(services)
        runs = []
        for number in range(CRON_RUNS):
            ref, _ = sessions.start("cron.yml", interface=Interface.API)
            sessions.view(ref, Request("cron.yml", ref.session_id, interface=Interface.API))
            start = time.perf_counter()
            Cron(sessions).run({"cron": "cron_hourly", "run": f"bench-{number}", "i": "cron.yml",
                                "session": ref.session_id})
            runs.append(time.perf_counter() - start)
        return passes, _median_ms(runs)


def worker_memory_throughput_bench() -> float:
    """Tasks per second of our worker code alone: in-memory stores and queue, one thread."""
    from chalicelib.runtime.queue import MemoryTaskQueue
    from chalicelib.runtime.services import Services
    from chalicelib.runtime.sessions import Sessions
    from chalicelib.runtime.worker import Worker
    from chalicelib.settings import Settings

    services = Services.in_memory(Settings.from_env({"INTERVIEW_PATH": str(EXAMPLES),
                                                     "SERVER_KEY": BENCH_SERVER_KEY}))
    sessions = Sessions(services)
    _start_tasks(sessions, THROUGHPUT_TASKS)
    queue = services.queue
    assert isinstance(queue, MemoryTaskQueue)
    messages = [json.dumps(m) for m in queue.sent]
    start = time.perf_counter()
    worker = Worker(sessions)
    for body in messages:
        worker.handle(body)
    elapsed = time.perf_counter() - start
    done = sum(services.store.load_task(m["session"], m["task"]).status == "done"  # type: ignore[union-attr]
               for m in queue.sent)
    assert done == len(messages), f"only {done} of {len(messages)} tasks ended done"
    return len(messages) / elapsed


CHECKIN_RUNS = int(os.environ.get("BENCH_CHECKIN_RUNS", "50"))
_READS = {"GetItem", "BatchGetItem", "Query", "Scan"}
_WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}


def checkin_bench() -> dict[str, tuple[float, float, float]]:
    """POST /api/session/checkin on moto: median ms, DynamoDB reads and writes per check-in,
    for a screen with a `check in` action (check-in.yml) and one without (actions.yml)."""
    import boto3
    from chalice.test import Client

    with _in_process_aws():
        from app import app
        from chalicelib.runtime.services import Services
        from chalicelib.settings import Settings
        from chalicelib.storage.accounts import DynamoAccountStore
        from chalicelib.storage.dynamodb import DynamoSessionStore
        from chalicelib.web import context

        settings = Settings.from_env()
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        calls: list[str] = []
        dynamodb.meta.events.register("before-call.dynamodb.*", lambda model, **_: calls.append(model.name))
        services = Services.from_settings(settings)
        services = Services(settings, DynamoSessionStore(settings.table_name, settings.blob_bucket, client=dynamodb),
                            DynamoAccountStore(settings.table_name, client=dynamodb), services.loader, services.queue)
        key = "BenchKey0123456789abcdefghijklmn"
        services.accounts.create_user("bench@localhost", "bench-password", privileges=("admin",))
        services.accounts.add_api_key("bench@localhost", key)
        context.use_services(services)
        headers = {"X-API-Key": key, "Content-Type": "application/json"}
        results = {}
        with Client(app) as client:
            for name, parameters in (("check-in.yml", {"favorite_food": "pie"}), ("actions.yml", {})):
                new = client.http.get(f"/api/session/new?i={name}", headers=headers).json_body
                ids = {"i": name, "session": new["session"], "secret": new["secret"]}
                client.http.get("/api/session/question?" + "&".join(f"{k}={v}" for k, v in ids.items()),
                                headers=headers)
                body = json.dumps({**ids, "parameters": parameters})
                client.http.post("/api/session/checkin", headers=headers, body=body)  # warm the key cache
                samples = []
                calls.clear()
                for _ in range(CHECKIN_RUNS):
                    start = time.perf_counter()
                    client.http.post("/api/session/checkin", headers=headers, body=body)
                    samples.append(time.perf_counter() - start)
                reads = sum(c in _READS for c in calls) / CHECKIN_RUNS
                writes = sum(c in _WRITES for c in calls) / CHECKIN_RUNS
                results[name] = (_median_ms(samples), reads, writes)
        context.use_services(None)
        return results


HOSTILE_RUNS = int(os.environ.get("BENCH_HOSTILE_RUNS", "5"))
HOSTILE_TARGET_MS = 50.0
_FORM = "application/x-www-form-urlencoded"


class _Browser:
    """A cookie-keeping browser on chalice.test.Client, for bounded_fields.yml (tests/fixtures)."""

    interview = "bounded_fields.yml"
    ordinary = {"_f0": "Ann", "_f1": "ann@example.com", "_f2": "2", "_f3": "$1,200.50", "_f4": "1.75"}

    def __init__(self, client: Any) -> None:
        self.client = client
        self.cookie = ""

    def get(self) -> Any:
        response = self.client.http.get(f"/interview?i={self.interview}", headers={"cookie": self.cookie})
        for value in response.headers.get("Set-Cookie", []):
            self.cookie = value.split(";")[0]
        return response

    def tokens(self) -> dict[str, str]:
        import re

        page = self.get().body.decode()
        return {name: re.findall(f'name="{name}" value="([^"]*)"', page)[0] for name in ("_csrf", "_screen")}

    def post(self, body: str) -> Any:
        return self.client.http.post(f"/interview?i={self.interview}", body=body,
                                     headers={"cookie": self.cookie, "content-type": _FORM})

    def answer(self, **values: str) -> str:
        from urllib.parse import urlencode

        return urlencode({**self.tokens(), **self.ordinary, **values})


def _worst_ms(prepare: Callable[[], Callable[[], Any]], expect: int) -> float:
    """Worst of HOSTILE_RUNS: `prepare` sets up one run (not timed) and returns the timed call."""
    worst = 0.0
    for _ in range(HOSTILE_RUNS):
        call = prepare()
        start = time.perf_counter()
        response = call()
        worst = max(worst, time.perf_counter() - start)
        assert response.status_code == expect, (response.status_code, response.body[:300])
    return worst * 1000


def hostile_bench() -> list[tuple[str, float]]:
    """The hostile inputs of issue 7 §3, each as the request that carries it, through the app on moto."""
    from chalice.test import Client

    with _in_process_aws():
        os.environ["INTERVIEW_PATH"] = f"{EXAMPLES}:{FIXTURES}"  # bounded_fields.yml and two_questions.yml
        from app import app
        from chalicelib.runtime.services import Services
        from chalicelib.settings import Settings
        from chalicelib.web import context

        settings = Settings.from_env()
        services = Services.from_settings(settings)
        key = "BenchKey0123456789abcdefghijklmn"
        services.accounts.create_user("bench@localhost", "bench-password", privileges=("admin",))
        services.accounts.add_api_key("bench@localhost", key)
        context.use_services(services)
        with Client(app) as client:
            results = _hostile_browser(client, settings) + _hostile_api(client, key, settings)
        results += _hostile_library(settings)
        context.use_services(None)
        return results


def _hostile_browser(client: Any, settings: Any) -> list[tuple[str, float]]:
    browser = _Browser(client)
    browser.get()

    def answer(**values: str) -> Callable[[], Callable[[], Any]]:
        def prepare() -> Callable[[], Any]:
            body = browser.answer(**values)
            return lambda: browser.post(body)
        return prepare

    over_body = "_padding=" + "p" * (settings.max_request_bytes - 8)
    results = [
        ("integer field: 1e1000000", _worst_ms(answer(_f2="1e1000000"), 200)),
        ("integer field: 300,000 digits", _worst_ms(answer(_f2="9" * 300_000), 200)),
        ("integer field: 60,000 digits (under MAX_ANSWER_BYTES)", _worst_ms(answer(_f2="9" * 60_000), 200)),
        ("e-mail field: 'a@' * 5000 (10 KB)", _worst_ms(answer(_f1="a@" * 5000), 200)),
        ("e-mail field: 'a@' + '.' * 10000 + '@'", _worst_ms(answer(_f1="a@" + "." * 10_000 + "@"), 200)),
        ("answer of MAX_ANSWER_BYTES + 1", _worst_ms(answer(_f0="n" * (settings.max_answer_bytes + 1)), 200)),
        ("body of MAX_REQUEST_BYTES + 1", _worst_ms(lambda: lambda: browser.post(over_body), 413)),
        ("urlencoded body of 1,001 empty fields", _worst_ms(answer(**{f"_x{n}": "" for n in range(994)}), 413)),
        ("multipart body of 20,000 small parts", _worst_ms(_multipart_parts(browser, 20_000), 413)),
    ]

    def escapes_taken() -> Callable[[], Any]:
        fresh = _Browser(client)  # a new session each run: the answer is taken and the screen moves on
        fresh.get()
        body = fresh.answer(_x="\x01" * ((settings.max_request_bytes - 400) // 3))
        return lambda: fresh.post(body)

    results.append(("body just under MAX_REQUEST_BYTES, all %-escapes (taken)", _worst_ms(escapes_taken, 200)))
    run = iter(range(1_000_000))

    def brackets_shown() -> Callable[[], Any]:
        fresh = _Browser(client)  # a new session each run; a distinct name, so no cache can answer
        fresh.post(fresh.answer(_f0="[" * 6000 + str(next(run))))
        return fresh.get

    results.append(("6,000 '[' in a name, the next page", _worst_ms(brackets_shown, 200)))
    return results


def _multipart_parts(browser: _Browser, count: int) -> Callable[[], Callable[[], Any]]:
    def prepare() -> Callable[[], Any]:
        fields = [*browser.tokens().items(), *[("_x", "x")] * count]
        body = "".join(f'--b0\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
                       for name, value in fields) + "--b0--\r\n"
        headers = {"cookie": browser.cookie, "content-type": "multipart/form-data; boundary=b0"}
        return lambda: browser.client.http.post(f"/interview?i={browser.interview}", body=body, headers=headers)
    return prepare


def _hostile_api(client: Any, key: str, settings: Any) -> list[tuple[str, float]]:
    headers = {"X-API-Key": key, "Content-Type": "application/json"}
    new = client.http.get("/api/session/new?i=two_questions.yml", headers=headers).json_body
    ids = json.dumps({"i": "two_questions.yml", "session": new["session"], "secret": new["secret"]})[:-1]

    def post(body: str) -> Callable[[], Callable[[], Any]]:
        return lambda: lambda: client.http.post("/api/session", headers=headers, body=body)

    return [
        ("API variables: a 300,000-digit JSON integer", _worst_ms(post(ids + ', "variables": {"n": '
                                                                      + "7" * 300_000 + "}}"), 400)),
        ("API variables: nested 100,000 deep", _worst_ms(post(ids + ', "variables": {"n": ' + "[" * 100_000
                                                              + "]" * 100_000 + "}}"), 400)),
        ("API variables: one value of MAX_ANSWER_BYTES + 1",
         _worst_ms(post(ids + ', "variables": {"n": "' + "v" * settings.max_answer_bytes + '"}}'), 413)),
        ("API variables: 1,001 names", _worst_ms(post(ids + ', "question": false, "variables": '
                                                  + json.dumps({f"v{n}": n for n in range(1001)}) + "}"), 413)),
        ("API variables: 1,000 names (taken)", _worst_ms(post(ids + ', "question": false, "variables": '
                                                         + json.dumps({f"v{n}": n for n in range(1000)}) + "}"), 204)),
        ("API body of MAX_REQUEST_BYTES + 1",
         _worst_ms(post(ids + ', "pad": "' + "p" * (settings.max_request_bytes - len(ids) - 11) + '"}'), 413)),
    ]


def _hostile_library(settings: Any) -> list[tuple[str, float]]:
    """Author functions that interview code calls on an answer, on the largest answer accepted
    (once a regex each took minutes: a lazy prefix or a run of spaces retried at every position)."""
    from chalicelib.library.text import noun_plural, single_paragraph

    size = settings.max_answer_bytes

    def worst(call: Callable[[], Any]) -> float:
        times = []
        for _ in range(HOSTILE_RUNS):
            start = time.perf_counter()
            call()
            times.append(time.perf_counter() - start)
        return max(times) * 1000

    return [
        ("noun_plural() of an answer: letters, then a digit", worst(lambda: noun_plural("a" * (size - 1) + "1"))),
        ("noun_plural() of an answer: a run of spaces", worst(lambda: noun_plural("x" + " " * (size - 2) + "y"))),
        ("single_paragraph() of an answer: a run of spaces", worst(lambda: single_paragraph(" " * (size - 1) + "x"))),
    ]


def print_hostile(report: Report) -> None:
    print(f"hostile inputs (issue 7 §3), worst of {HOSTILE_RUNS} runs through the app on moto; "
          f"target < {HOSTILE_TARGET_MS:.0f} ms each:")
    section = f"Hostile inputs, worst of {HOSTILE_RUNS} runs through the app"
    for name, ms in hostile_bench():
        verdict = "ok" if ms < HOSTILE_TARGET_MS else "OVER TARGET"
        print(f"  {name:56} {ms:9.1f} ms  {verdict}")
        report.add(section, name, ms, "ms", target=f"< {HOSTILE_TARGET_MS:g}")


def import_bench(runs: int = 5) -> tuple[float, float]:
    """Cold import of app.py in a fresh interpreter: median ms, and resident memory (MB) after it."""
    code = ("import time, resource; t = time.perf_counter(); import app; d = time.perf_counter() - t; "
            "rss = [l for l in open('/proc/self/status') if l.startswith('VmRSS')][0].split()[1]; "
            "print(d, int(rss) / 1024)")
    times, memory = [], []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
        seconds, megabytes = out.stdout.split()
        times.append(float(seconds))
        memory.append(float(megabytes))
    return _median_ms(times), statistics.median(memory)


def package_size_mb() -> tuple[float, float]:
    """`make package`: build/deployment.zip's size, zipped and unzipped (MB): the code Lambda loads."""
    import zipfile

    subprocess.run(["make", "package"], cwd=ROOT, check=True, capture_output=True)
    built = ROOT / "build" / "deployment.zip"
    with zipfile.ZipFile(built) as archive:
        unzipped = sum(entry.file_size for entry in archive.infolist())
    return built.stat().st_size / 1e6, unzipped / 1e6


def load_figures(report: Report) -> None:
    from tests.bench_load import INTERVIEW, LOAD_REQUESTS, load_bench, local_stack

    env = {"PORT": str(_free_port()), "MOTO_PORT": str(_free_port()), "SMTP_PORT": str(_free_port()),
           "SERVER_KEY": BENCH_SERVER_KEY, "INTERVIEW_PATH": str(EXAMPLES), "ADMIN_PASSWORD": "bench-password"}
    section = f"Load test: N users walking {INTERVIEW} at once on the local stack ({LOAD_REQUESTS} requests each)"
    print(section + ":")
    with local_stack(ROOT, env) as base:
        for load in load_bench(base, _filled):
            print(f"  {load.users:3} users: {load.per_second:7.1f} requests/s, p50 {load.p50_ms:7.1f} ms, "
                  f"p95 {load.p95_ms:7.1f} ms, {load.failed} failed of {load.requests}")
            users = f"{load.users} user{'s' if load.users > 1 else ''}"
            report.add(section, f"{users}: requests per second", load.per_second, "req/s")
            report.add(section, f"{users}: median latency", load.p50_ms, "ms",
                       note=f"p95 {load.p95_ms:.1f} ms; {load.failed} of {load.requests} failed")


def main() -> None:
    if not EXAMPLES.is_dir():
        sys.exit(f"bench: the core examples are not at {EXAMPLES} (../shared/examples)")
    if sys.argv[1:] == ["hostile"]:
        print_hostile(Report())
        return
    report = Report()
    print(f"bench: {REPEAT} engine runs and {API_REPEAT} API paths per example (2-core machine; noisy)")
    engine = engine_bench()
    api = api_bench()
    print(f"{'example':28} {'(a) engine+render ms':>22} {'(b) API turn ms':>18}")
    for name in PATHS:
        print(f"{name:28} {engine[name]:22.3f} {api[name]:18.2f}")
    section = "Engine and API turn (median per screen, in-process moto)"
    report.add(section, "median of the examples: engine + render", statistics.median(engine.values()), "ms",
               target="<= 0.5")
    report.add(section, "median of the examples: REST API turn", statistics.median(api.values()), "ms",
               target="<= 15")
    for name in PATHS:
        report.add(section, f"{name}: engine + render", engine[name], "ms")
        report.add(section, f"{name}: REST API turn", api[name], "ms")
    print(f"{'median of examples':28} {statistics.median(engine.values()):22.3f} "
          f"{statistics.median(api.values()):18.2f}")
    cold, rss = import_bench()
    print(f"cold import of app.py: {cold:.0f} ms; resident memory after import: {rss:.1f} MB")
    print("targets: (a) <= 0.5 ms, (b) <= 15 ms, cold import <= 400 ms, memory <= 100 MB")
    section = "Lambda cold start"
    report.add(section, "cold import of app.py", cold, "ms", target="<= 400")
    report.add(section, "resident memory after import", rss, "MB", target="<= 100")
    zipped, unzipped = package_size_mb()
    print(f"package: build/deployment.zip is {zipped:.1f} MB zipped, {unzipped:.1f} MB unzipped (Lambda's limit for "
          "code deployed through S3, as `make package` and CloudFormation do: 250 MB unzipped)")
    report.add(section, "package size, unzipped", unzipped, "MB", target="<= 250",
               note=f"{zipped:.1f} MB zipped; deployed through S3 (the 50 MB zipped limit is for direct uploads)")
    walks, counts, idle = walk_bench()
    print(f"browser walk over HTTP on the local stack ({WALK_RUNS} walks each, median; docassemble 1.10.5 on this "
          "machine in brackets):")
    section = "Browser pages over HTTP on the local stack (median)"
    for name, (post, get, screens) in walks.items():
        theirs = DOCASSEMBLE_WALK_MS[name]
        their_get = f" [{theirs[1]} ms]" if theirs[1] is not None else ""
        print(f"  {name:14} POST {post:6.1f} ms [{theirs[0]} ms]   re-GET {get:6.1f} ms{their_get}   "
              f"({screens} screens)")
        post_calls, get_calls = counts[name]
        print(f"  {'':14} DynamoDB per POST: {_per(*post_calls)}; per re-GET: {_per(*get_calls)}")
        report.add(section, f"{name}: POST (answer, next page)", post, "ms", target="<= 20",
                   alternative=f"docassemble 1.10.5: {theirs[0]} ms", note=f"DynamoDB: {_per(*post_calls)}")
        report.add(section, f"{name}: re-GET", get, "ms", target="<= 15",
                   alternative=f"docassemble 1.10.5: {theirs[1]} ms" if theirs[1] is not None else "",
                   note=f"DynamoDB: {_per(*get_calls)}")
    print(f"idle local stack over {IDLE_SECONDS:g} s: {idle:.1f} % of one core (target < 1 %)")
    report.add(section, "idle local stack", idle, "% of a core", target="< 1")
    load_figures(report)
    done, noted = task_latency_bench()
    print(f"background task on the local stack ({TASK_RUNS} runs, median): committing turn -> done "
          f"{done:.0f} ms; -> notification at check-in {noted:.0f} ms")
    section = "Background tasks, check-in, mail"
    report.add(section, "background task: committing turn -> done", done, "ms", target="<= 150")
    report.add(section, "background task: committing turn -> notification at check-in", noted, "ms")
    mails = mail_in_bench()
    print(f"inbound mail on the local stack: {mails:.1f} mails/s through SMTP -> mail bucket -> "
          f"mail queue -> session ({MAIL_COUNT} mails, one SMTP connection)")
    report.add(section, "inbound mail: SMTP -> bucket -> queue -> session", mails, "mails/s")
    for name, (ms, reads, writes) in checkin_bench().items():
        kind = "with a check in action" if name == "check-in.yml" else "without (plain screen)"
        print(f"check-in {kind}, {name}: median {ms:.2f} ms; DynamoDB per check-in: {reads:g} reads, "
              f"{writes:g} writes")
        report.add(section, f"check-in {kind} ({name})", ms, "ms", note=f"{reads:g} reads, {writes:g} writes")
    sqs_rate, memory_rate = worker_throughput_bench(), worker_memory_throughput_bench()
    print(f"worker throughput in-process, one thread: {sqs_rate:.1f} tasks/s through SQS and "
          f"DynamoDB on moto; {memory_rate:.0f} tasks/s on the in-memory stores "
          f"(our code alone; {THROUGHPUT_TASKS} tasks)")
    report.add(section, "worker throughput, one thread, moto", sqs_rate, "tasks/s")
    report.add(section, "worker throughput, one thread, in-memory stores", memory_rate, "tasks/s")
    email_ms, sms_ms = send_latency_bench()
    print(f"send_email/send_sms in-process on moto ({SEND_RUNS} turns, median): commit -> SES accepted the e-mail "
          f"{email_ms:.2f} ms; -> SNS accepted the SMS {sms_ms:.2f} ms")
    report.add(section, "send_email: commit -> SES accepted", email_ms, "ms")
    report.add(section, "send_sms: commit -> SNS accepted", sms_ms, "ms")
    passes, run_ms = cron_bench()
    print(f"scheduled pass (cron_hourly) over {CRON_ENABLED:,} cron-enabled sessions, in-process moto "
          "(docassemble's cron reads every session):")
    section = f"Scheduled pass (cron_hourly) over {CRON_ENABLED:,} cron-enabled sessions"
    for total, seconds, calls, items, queued in passes:
        print(f"  among {total:>7,} sessions: {seconds:6.2f} s, {calls} DynamoDB reads returning {items:,} items, "
              f"{queued:,} runs queued ({-(-queued // 10):,} SendMessageBatch calls on AWS)")
        report.add(section, f"among {total:,} sessions", seconds, "s",
                   alternative=f"docassemble's cron reads all {total:,} sessions",
                   note=f"{calls} reads returning {items:,} items; {queued:,} runs queued")
    print(f"  one session's run (worker, cron.yml): median {run_ms:.2f} ms, beside the API turn above")
    report.add(section, "one session's run (worker, cron.yml)", run_ms, "ms")
    print_hostile(report)
    md, js = report.write(ROOT / "bench")
    print(f"bench: wrote {md.relative_to(ROOT)} and {js.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
