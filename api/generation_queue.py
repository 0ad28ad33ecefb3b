"""Admission and turns for generation: one in-process model answers one question at a time.

At most `capacity` generation requests are admitted at once (one generating, the rest
waiting their turn, first come first served); one more gets 503 with `Retry-After` instead of
an unbounded wait. Waiting happens here, in the event loop, not on the model's lock in a
thread, so that a client who leaves while waiting costs nothing, and requests that only
retrieve (passages, documents, health) never queue at all.
"""

from __future__ import annotations

import math
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio

from api.errors import QueueFullError

# Until a turn has been timed: about what the bundled model needs for one answer here.
INITIAL_TURN_SECONDS = 3.0
# Weight of the latest turn in the running mean that `Retry-After` is estimated from.
TURN_SMOOTHING = 0.2


class Admission:
    """A place in the queue; `release` (idempotent) gives it back."""

    def __init__(self, queue: GenerationQueue) -> None:
        self._queue: GenerationQueue | None = queue

    def release(self) -> None:
        if self._queue is not None:
            self._queue._release()
            self._queue = None


class GenerationQueue:
    """Bounded admission plus first-come turns (`concurrency` at a time: 1 for the local
    model; a remote server may take several)."""

    def __init__(self, capacity: int, concurrency: int = 1) -> None:
        self.capacity = capacity
        self.concurrency = concurrency
        self._admitted = 0
        self._turns = anyio.Semaphore(concurrency)
        self._mean_turn_s = INITIAL_TURN_SECONDS

    @property
    def admitted(self) -> int:
        """Requests generating or waiting now."""
        return self._admitted

    def admit(self) -> Admission:
        """A place in the queue, or `QueueFullError` (503 with `Retry-After`) when full."""
        if self._admitted >= self.capacity:
            raise QueueFullError(self._admitted, self.retry_after_s())
        self._admitted += 1
        return Admission(self)

    def retry_after_s(self) -> int:
        """Seconds until a place is likely free: the queue ahead at the recent turn length."""
        return max(1, math.ceil(self._mean_turn_s * self._admitted / self.concurrency))

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """Wait for this request's turn to generate, and hold it while inside."""
        async with self._turns:
            started = time.monotonic()
            try:
                yield
            finally:
                elapsed = time.monotonic() - started
                self._mean_turn_s += TURN_SMOOTHING * (elapsed - self._mean_turn_s)

    def _release(self) -> None:
        self._admitted -= 1
