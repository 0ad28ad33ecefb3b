"""`POST /api/ask`: a verified, cited answer, as one JSON object or as server-sent events.

Events, in order: `passages` (the retrieved passages, before generation starts), `token`
(text deltas as the model writes), `citations` (the verified citations), `done` (the whole
answer, the same object as the JSON answer). On failure an `error` event ends the stream.

The `token` events are the model's unverified draft, kept for clients that show progress:
verification often drops or re-cites what they said (a draft may state things no report
says). Only the `done` answer may be shown to a reader; the chat widget shows none of the
tokens.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncGenerator, Collection
from contextlib import aclosing

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from api.deps import ApiKeyDep, PipelineDep, ServiceDep, client_of
from api.errors import ApiError
from api.schemas import AnswerResponse, AskRequest, error_responses
from api.service import AssistantService
from api.streaming import EventStreamResponse, answer_and_audit, answer_events, sse_event
from rag.errors import RagError
from rag.pipeline import StreamEvent

log = logging.getLogger("api")
router = APIRouter(tags=["answers"], dependencies=[ApiKeyDep])

ENDPOINT = "/api/ask"
SSE_EXAMPLE = (
    'event: passages\ndata: [{"anchor": "gcm-unece-2020#p22", "doc": "gcm-unece-2020", ...}]\n\n'
    'event: token\ndata: {"text": "Italy"}\n\n'
    'event: citations\ndata: [{"n": 1, "anchor": "gcm-unece-2020#p22", "quote": "...", ...}]\n\n'
    'event: done\ndata: {"question": "...", "answer": "... [1].", "citations": [...], '
    '"parts": [], ...}\n\n'
)


@router.post(
    "/ask",
    response_model=AnswerResponse,
    responses={
        200: {
            "description": "The answer (JSON), or with `stream: true` its events; `token` "
            "events are the unverified draft, and only `done` may be shown.",
            "content": {"text/event-stream": {"example": SSE_EXAMPLE}},
        },
        **error_responses(400, 401, 413, 422, 503),
    },
)
async def ask(
    body: AskRequest, request: Request, service: ServiceDep, pipeline: PipelineDep
) -> Response:
    """Answer `question` from the indexed reports, every claim cited to its passage.

    With `stream: true` the answer comes as server-sent events: `passages`, then `token`s,
    then `citations` and `done`. **The `token` events are the model's unverified draft**:
    verification may drop or re-cite any of it, and a draft can state things no report
    says. Show only the `done` answer (the same object as the JSON answer) to readers; use
    the tokens, if at all, as a sign of progress.

    With `documents`, the answer comes from those documents only.

    A question of several parts is answered part by part: `parts` gives each part's
    question and answer, for showing each under its question (empty for one part).
    """
    # Checked before the stream starts, so that an unknown id is a 422 rather than an
    # `error` event after a 200.
    documents = pipeline.check_documents(body.documents)
    admission = service.generation.admit()
    started = time.perf_counter()
    corpus_hash = pipeline.retriever.index.corpus_hash
    events = answer_events(
        pipeline, body.question, body.k, service.generation, admission, documents
    )
    if body.stream:
        return EventStreamResponse(
            _event_stream(events, service, corpus_hash, started, client_of(request), documents),
            on_close=admission.release,
        )
    answer = await answer_and_audit(
        events, admission, service, corpus_hash, started, client_of(request), ENDPOINT, documents
    )
    return JSONResponse(answer.to_dict())


async def _event_stream(
    events: AsyncGenerator[StreamEvent, None],
    service: AssistantService,
    corpus_hash: str,
    started: float,
    client: str | None,
    documents: Collection[str] | None,
) -> AsyncGenerator[str, None]:
    try:
        async with aclosing(events):
            async for event in events:
                if event.kind == "passages":
                    yield sse_event("passages", [hit.to_dict() for hit in event.data])
                elif event.kind == "token":
                    yield sse_event("token", {"text": event.data})
                elif event.kind == "citations":
                    yield sse_event("citations", [c.to_dict() for c in event.data])
                elif event.kind == "done":
                    latency_ms = (time.perf_counter() - started) * 1000
                    await anyio.to_thread.run_sync(
                        service.record_answer,
                        event.data,
                        corpus_hash,
                        latency_ms,
                        client,
                        ENDPOINT,
                        documents,
                    )
                    yield sse_event("done", event.data.to_dict())
    except (RagError, ApiError) as error:
        yield sse_event("error", {"error": str(error)})
    except Exception:
        log.exception("streamed answer failed")
        yield sse_event("error", {"error": "internal error; the server log has the details"})
