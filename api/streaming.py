"""Running the synchronous pipeline for async routes, and streaming its events as SSE.

`Pipeline.stream` is a blocking generator (retrieval, then the model's tokens). Each step
runs in a worker thread, so the event loop stays free for other requests. Retrieval runs as
soon as the request is admitted; generation waits for the request's turn in the
`GenerationQueue`. Closing the event stream early (the client left) closes the pipeline's
generator, and with it the model's token stream: generation stops at the next token.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncGenerator, Callable, Collection, Iterator
from contextlib import aclosing
from typing import TYPE_CHECKING, Any

import anyio
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from api.generation_queue import Admission, GenerationQueue
from rag.pipeline import Pipeline, StreamEvent
from rag.types import Answer

if TYPE_CHECKING:
    from api.service import AssistantService


async def answer_events(
    pipeline: Pipeline,
    question: str,
    k: int | None,
    queue: GenerationQueue,
    admission: Admission,
    documents: Collection[str] | None = None,
) -> AsyncGenerator[StreamEvent, None]:
    """The pipeline's events for `question` (asked of `documents` only, when given):
    `passages` first, then (in this request's turn) `token`s, `citations` and `done`. The
    queue place `admission` is given back as soon as the pipeline is done, before the
    response ends."""
    events = pipeline.stream(question, k, documents)
    try:
        passages = await _step(events)
        if passages is None:
            return
        yield passages
        async with queue.turn():
            try:
                while (event := await _step(events)) is not None:
                    yield event
            finally:
                await _close(events)  # before the turn passes on
    finally:
        await _close(events)
        admission.release()


async def final_answer(events: AsyncGenerator[StreamEvent, None]) -> Answer:
    """The `done` answer at the end of `events` (closed however this ends)."""
    answer: Answer | None = None
    async with aclosing(events):
        async for event in events:
            if event.kind == "done":
                answer = event.data
    assert answer is not None, "the pipeline ended without a 'done' event"
    return answer


async def answer_and_audit(
    events: AsyncGenerator[StreamEvent, None],
    admission: Admission,
    service: AssistantService,
    corpus_hash: str,
    started: float,
    client: str | None,
    endpoint: str,
    documents: Collection[str] | None = None,
) -> Answer:
    """The answer of a request that is not streamed, written to the audit log (with the
    corpus it came from and the `documents` it was limited to); its queue place is given
    back as soon as the pipeline is done, before the (blocking) audit write."""
    try:
        answer = await final_answer(events)
    finally:
        admission.release()
    latency_ms = (time.perf_counter() - started) * 1000
    await anyio.to_thread.run_sync(
        service.record_answer, answer, corpus_hash, latency_ms, client, endpoint, documents
    )
    return answer


async def _step(events: Iterator[StreamEvent]) -> StreamEvent | None:
    return await anyio.to_thread.run_sync(next, events, None)


async def _close(events: Iterator[StreamEvent]) -> None:
    close: Callable[[], None] | None = getattr(events, "close", None)
    if close is not None:
        # Shielded: this runs while the request is being cancelled, and must still happen.
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(close)


def sse_event(event: str, data: Any) -> str:
    """One server-sent event: `event: NAME` and its JSON on one `data:` line."""
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def sse_data(data: Any) -> str:
    """One unnamed server-sent event, as OpenAI's streaming format has them."""
    payload = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    return f"data: {payload}\n\n"


class EventStreamResponse(StreamingResponse):
    """`text/event-stream` that notices a departing client at once (not only at its next
    write) and always closes its event source and calls `on_close`, whatever happens, so
    that generation stops and the request's queue place is given back."""

    media_type = "text/event-stream"

    def __init__(self, content: AsyncGenerator[str, None], on_close: Callable[[], None]) -> None:
        super().__init__(content, headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        self._content = content
        self._on_close = on_close

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            async with anyio.create_task_group() as group:

                async def stream_then_stop() -> None:
                    await self.stream_response(send)
                    group.cancel_scope.cancel()

                group.start_soon(stream_then_stop)
                await self.listen_for_disconnect(receive)
                group.cancel_scope.cancel()
        except* OSError:
            pass  # the client went away in the middle of a write
        finally:
            with anyio.CancelScope(shield=True):
                await self._content.aclose()
            self._on_close()
