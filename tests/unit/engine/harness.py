"""Run inline interviews through the evaluator, turn by turn, without storage."""

from __future__ import annotations

import copy
import pickle
from typing import Any

from chalicelib.engine.answers import Answer, Applied, apply_answer
from chalicelib.engine.evaluator import Evaluation
from chalicelib.engine.request import Request
from chalicelib.engine.screen import Outcome
from chalicelib.engine.state import SessionState
from chalicelib.language.parser import parse_interview
from chalicelib.library import namespace


class Run:
    """One session of an inline interview: answers and state persist between turns (pickled, as stored)."""

    def __init__(self, yaml_text: str, name: str = "inline.yml") -> None:
        self.interview = parse_interview(yaml_text, name)
        self.answers: dict[str, Any] = {}
        self.saved_state: dict[str, Any] = SessionState().saved()
        self.kv: dict[tuple[str, str], Any] = {}

    def turn(self, **request: Any) -> Outcome:
        answers = pickle.loads(pickle.dumps(self.answers))
        state = self.state
        ev = Evaluation(self.interview, answers, Request(self.interview.name, "S" * 32, kv=self, **request),
                        namespace.build, state)
        outcome = ev.run()
        self.answers = pickle.loads(pickle.dumps(ev.answers()))
        self.saved_state = pickle.loads(pickle.dumps(state.saved()))
        self.kv.update(copy.deepcopy(ev.kv_writes))
        return outcome

    def get(self, scope: str, key: str) -> Any:
        return copy.deepcopy(self.kv.get((scope, key)))

    def answer(self, values: dict[str, Any] | None = None, button: str | None = None) -> Applied:
        state = self.state
        applied = apply_answer(self.answers, state, Answer(values or {}, button))
        self.saved_state = state.saved()
        return applied

    @property
    def state(self) -> SessionState:
        """The engine's state as the last turn saved it (a fresh copy)."""
        return SessionState.restore(pickle.loads(pickle.dumps(self.saved_state)))

    def question(self) -> str:
        outcome = self.turn()
        assert outcome.screen is not None, outcome
        return outcome.screen.question
