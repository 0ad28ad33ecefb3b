"""The generation queue: bounded admission, idempotent release, first-come turns."""

from __future__ import annotations

import anyio
import pytest

from api.errors import QueueFullError
from api.generation_queue import GenerationQueue


def test_admission_is_bounded_and_release_is_idempotent() -> None:
    queue = GenerationQueue(capacity=2)
    first, _second = queue.admit(), queue.admit()
    with pytest.raises(QueueFullError) as refused:
        queue.admit()
    assert refused.value.status == 503
    assert refused.value.headers["Retry-After"] == str(queue.retry_after_s())
    first.release()
    first.release()
    assert queue.admitted == 1
    queue.admit()
    assert queue.admitted == 2


def test_the_busy_message_counts_in_words() -> None:
    alone = QueueFullError(admitted=1, retry_after_s=1)
    assert alone.message == "the assistant is busy: 1 question is being answered or waiting"
    assert alone.fix == "retry after 1 second"
    several = QueueFullError(admitted=3, retry_after_s=9)
    assert several.message == "the assistant is busy: 3 questions are being answered or waiting"
    assert several.fix == "retry after 9 seconds"


def test_retry_after_grows_with_the_queue() -> None:
    queue = GenerationQueue(capacity=8)
    queue.admit()
    one = queue.retry_after_s()
    for _ in range(5):
        queue.admit()
    assert queue.retry_after_s() > one >= 1


def test_turns_are_taken_one_at_a_time_in_arrival_order() -> None:
    order: list[str] = []

    async def scenario() -> None:
        queue = GenerationQueue(capacity=4)
        inside = 0

        async def request(name: str) -> None:
            nonlocal inside
            async with queue.turn():
                inside += 1
                assert inside == 1, "two requests generating at once"
                order.append(name)
                await anyio.sleep(0.01)
                inside -= 1

        async with anyio.create_task_group() as group:
            for name in "abcd":
                group.start_soon(request, name)
                await anyio.sleep(0.001)

    anyio.run(scenario)
    assert order == list("abcd")
