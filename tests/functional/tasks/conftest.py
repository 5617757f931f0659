"""Fixtures for the background-task tests: fast retries, a queue drainer, and a REST API session.

- `fast_retries`: the app's services with `task_retry_seconds=0`, so a failed
  attempt is visible again at once and one `drain()` runs every retry.
- `drainer`: a `QueueDrainer` over moto's SQS feeding the app's real SQS
  handlers (`run_tasks`, `fail_abandoned_tasks`), as Lambda's event source
  mapping does; it brings `fast_retries` with it.
- `start(name)`: a new session through `GET /api/session/new`, as a
  `TaskSession` that also reads the tasks list and checks in.
- `queue_url`, `queue_depth`: the SQS queues as the tests look at them.

Like tests/functional/api, moto is emptied after each test, so that later
packages which create their own tables find none left over.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from chalicelib.local.drainer import QueueDrainer
from chalicelib.runtime.services import Services
from chalicelib.settings import DEFAULT_TASK_QUEUE
from tests.conftest import Api
from tests.functional.api.helpers import ApiSession, ok_json

TASK_QUEUE = DEFAULT_TASK_QUEUE
DEAD_LETTER_QUEUE = DEFAULT_TASK_QUEUE + "-dlq"


@dataclasses.dataclass
class TaskSession(ApiSession):
    """One session driven through /api/*, with the task list and the check-in."""

    def tasks(self) -> list[dict[str, Any]]:
        result = self.api.get(f"/api/session/tasks?{self.query()}")
        assert result.status == 200, result.body
        data = result.json
        assert isinstance(data, list), data
        return data

    def task(self) -> dict[str, Any]:
        """The session's only task."""
        tasks = self.tasks()
        assert len(tasks) == 1, tasks
        return tasks[0]

    def checkin(self) -> list[dict[str, Any]]:
        data = ok_json(self.api.post("/api/session/checkin", {**self.ref}))
        assert set(data) == {"commands"}, data
        commands = data["commands"]
        assert isinstance(commands, list), commands
        return commands

    def screen(self) -> dict[str, Any]:
        """The current question (GET /api/session/question) as JSON."""
        return ok_json(self.question())

    def answers(self) -> dict[str, Any]:
        """The session's variables (GET /api/session)."""
        return ok_json(self.variables())


Start = Callable[[str], TaskSession]


@pytest.fixture(autouse=True)
def _empty_moto_afterwards(fresh_aws: dict[str, Any]) -> Iterator[None]:
    yield
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()


@pytest.fixture
def fast_retries(services: Services) -> Services:
    """The app's services with immediate retries (task_retry_seconds=0), installed for the routes and handlers."""
    from chalicelib.web import context

    fast = dataclasses.replace(services, settings=dataclasses.replace(services.settings, task_retry_seconds=0))
    context.use_services(fast)
    return fast


@pytest.fixture
def drainer(fresh_aws: dict[str, Any], fast_retries: Services) -> QueueDrainer:
    from app import app

    return QueueDrainer(app, sqs=fresh_aws["sqs"])


@pytest.fixture
def start(api: Api) -> Start:
    def start_session(interview: str) -> TaskSession:
        data = api.new_session(interview)
        assert data["i"] == interview
        assert isinstance(data.get("secret"), str) and data["secret"], data
        return TaskSession(api, interview, data["session"], data["secret"])

    return start_session


def queue_url(sqs: Any, name: str) -> str:
    url: str = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    return url


def queue_depth(sqs: Any, name: str) -> int:
    """Messages on the queue, visible or in flight (without receiving any)."""
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url(sqs, name),
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def source(drainer: QueueDrainer, handler_name: str) -> Any:
    """The drainer's event source of one handler (run_tasks or fail_abandoned_tasks)."""
    (found,) = [s for s in drainer.sources if s.handler_name == handler_name]
    return found
