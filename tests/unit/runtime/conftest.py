"""The runtime on in-memory stores and queue: no moto, no threads, no sleeps.

`runtime` gives a `Runtime`: `Services.in_memory` over a temporary interview
folder, the `Sessions` use cases, and `work()`, the task worker draining the
in-memory queue. Interviews are written inline with `runtime.interview(name, yaml)`.
"""

from __future__ import annotations

import dataclasses
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from chalicelib.engine.request import Request
from chalicelib.engine.screen import Outcome
from chalicelib.runtime.queue import MemoryTaskQueue
from chalicelib.runtime.services import Services
from chalicelib.runtime.sessions import SessionRef, Sessions
from chalicelib.runtime.worker import Worker
from chalicelib.settings import Settings
from chalicelib.storage.base import SessionStore
from tests.conftest import SERVER_KEY

if TYPE_CHECKING:
    from chalicelib.runtime.clock import Clock
    from chalicelib.runtime.retry import Jitter


class Runtime:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.services = Services.in_memory(Settings.from_env({"INTERVIEW_PATH": str(folder),
                                                              "SERVER_KEY": SERVER_KEY}))
        queue = self.services.queue
        assert isinstance(queue, MemoryTaskQueue)
        self.queue = queue
        self.sessions = Sessions(self.services)
        self.worker = Worker(self.sessions)

    def use(self, store: SessionStore | None = None, clock: Clock | None = None,
            jitter: Jitter | None = None) -> None:
        """Run sessions and the worker over another store (a wrapper of this one), clock or jitter;
        the interviews, the stored data and the queue stay."""
        if store is not None:
            self.services = dataclasses.replace(self.services, store=store)
        given = {"clock": clock, "jitter": jitter}
        self.sessions = Sessions(self.services, **{k: v for k, v in given.items() if v is not None})
        self.worker = Worker(self.sessions)

    def interview(self, name: str, yaml_text: str) -> str:
        (self.folder / name).write_text(textwrap.dedent(yaml_text), encoding="utf-8")
        return name

    def handle(self, body: str) -> Any:
        """One queue message through the worker, as the SQS handler passes it."""
        return self.worker.handle(body)

    def work(self, max_rounds: int = 10) -> int:
        """Run the queue dry; the number of deliveries."""
        return self.queue.drain(self.handle, max_rounds=max_rounds)

    def run_action(self, ref: SessionRef, action: str) -> None:
        """The user's turn that runs `action`."""
        self.sessions.run_action(ref, Request(ref.interview, ref.session_id, action=action), new_step=False)

    def view(self, ref: SessionRef) -> Outcome | None:
        return self.sessions.view(ref, Request(ref.interview, ref.session_id)).outcome

    def question(self, ref: SessionRef) -> str:
        outcome = self.view(ref)
        assert outcome is not None and outcome.screen is not None, outcome
        return outcome.screen.question.strip()

    def answers(self, ref: SessionRef) -> dict[str, Any]:
        return self.sessions.read(ref).answers


@pytest.fixture
def runtime(tmp_path: Path) -> Runtime:
    return Runtime(tmp_path)
