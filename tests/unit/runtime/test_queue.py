"""MemoryTaskQueue.drain: the in-memory queue run dry, as SQS and its redrive would deliver it."""

from __future__ import annotations

import json

import pytest

from chalicelib.runtime.queue import Disposition, Handled, MemoryTaskQueue, QueueNotDrainedError


def message(n: int) -> dict[str, str]:
    return {"i": "q.yml", "session": "s", "task": f"t{n}"}


def body(n: int) -> str:
    return json.dumps(message(n), sort_keys=True)


def test_each_message_goes_to_the_handler_once_as_json_text_then_the_queue_is_empty() -> None:
    queue = MemoryTaskQueue()
    queue.send([message(1), message(2)])
    seen: list[str] = []

    assert queue.drain(lambda text: seen.append(text)) == 2

    assert seen == [body(1), body(2)]
    assert queue.pending() == []
    assert [(r.body, r.receive_count, r.disposition) for r in queue.received] == [
        (body(1), 1, "ack"), (body(2), 1, "ack")]
    assert queue.sent == [message(1), message(2)]  # the history stays
    assert queue.drain(lambda text: seen.append(text)) == 0


def test_a_retried_message_comes_back_until_acknowledged_and_a_given_up_one_is_dead_lettered() -> None:
    queue = MemoryTaskQueue()
    queue.send([message(1), message(2)])
    answers = {body(1): [Disposition.RETRY, Disposition.RETRY, Disposition.ACK],
               body(2): [Disposition.RETRY, Disposition.GIVE_UP]}

    delivered = queue.drain(lambda text: Handled(answers[text].pop(0), delay=30))

    assert delivered == 5
    assert [(r.body, r.receive_count) for r in queue.received] == [
        (body(1), 1), (body(2), 1), (body(1), 2), (body(2), 2), (body(1), 3)]
    assert queue.dead_letters == [body(2)]
    assert queue.pending() == []


def test_messages_the_handler_sends_are_delivered_in_a_later_round() -> None:
    queue = MemoryTaskQueue()
    queue.send([message(1)])

    def handler(text: str) -> Disposition:
        n = int(json.loads(text)["task"][1:])
        if n < 3:
            queue.send([message(n + 1)])
        return Disposition.ACK

    assert queue.drain(handler, max_rounds=3) == 3
    assert [r.body for r in queue.received] == [body(1), body(2), body(3)]


def test_a_queue_that_never_empties_within_the_rounds_is_an_error() -> None:
    queue = MemoryTaskQueue()
    queue.send([message(1)])

    with pytest.raises(QueueNotDrainedError, match=r"not empty after 4 round\(s\) \(4 deliveries\): 1 message"):
        queue.drain(lambda text: Disposition.RETRY, max_rounds=4)

    assert queue.pending() == [body(1)]


def test_a_handler_that_raises_leaves_its_message_and_the_rest_pending() -> None:
    queue = MemoryTaskQueue()
    queue.send([message(1), message(2)])

    def crash(text: str) -> None:
        raise RuntimeError("the worker crashed")

    with pytest.raises(RuntimeError, match="the worker crashed"):
        queue.drain(crash)

    assert queue.pending() == [body(1), body(2)]
    assert queue.drain(lambda text: None) == 2
    assert [r.receive_count for r in queue.received] == [2, 1]


def test_a_handler_answer_that_is_no_disposition_is_refused() -> None:
    queue = MemoryTaskQueue()
    queue.send([message(1)])

    with pytest.raises(TypeError, match="must answer None, a Disposition"):
        queue.drain(lambda text: "ack")

    assert queue.pending() == [body(1)]
