"""Run inline interviews through the evaluator, turn by turn, without storage."""

from __future__ import annotations

import copy
import pickle
from typing import Any

from chalicelib.engine.answers import Answer, Applied, apply_answer
from chalicelib.engine.evaluator import Evaluation, Request
from chalicelib.engine.screen import Outcome
from chalicelib.language.parser import parse_interview
from chalicelib.library import namespace


class Run:
    """One session of an inline interview: answers persist between turns (pickled, as stored)."""

    def __init__(self, yaml_text: str, name: str = "inline.yml") -> None:
        self.interview = parse_interview(yaml_text, name)
        self.answers: dict[str, Any] = {}
        self.kv: dict[tuple[str, str], Any] = {}

    def turn(self, **request: Any) -> Outcome:
        answers = pickle.loads(pickle.dumps(self.answers))
        ev = Evaluation(self.interview, answers, Request(self.interview.name, "S" * 32, kv=self, **request),
                        namespace.build)
        outcome = ev.run()
        self.answers = pickle.loads(pickle.dumps(ev.answers()))
        self.kv.update(copy.deepcopy(ev.kv_writes))
        return outcome

    def get(self, scope: str, key: str) -> Any:
        return copy.deepcopy(self.kv.get((scope, key)))

    def answer(self, values: dict[str, Any] | None = None, button: str | None = None) -> Applied:
        return apply_answer(self.answers, Answer(values or {}, button))

    def question(self) -> str:
        outcome = self.turn()
        assert outcome.screen is not None, outcome
        return outcome.screen.question
