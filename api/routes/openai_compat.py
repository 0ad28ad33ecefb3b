"""`POST /v1/chat/completions` and `GET /v1/models`: the assistant for OpenAI clients and
chat front-ends.

The last user message is the question; earlier messages are ignored, since every answer
must rest on the reports alone. An extra `documents` field (ids, as in `/api/ask`; OpenAI's
Python client sends it with `extra_body`) limits the answer to those documents. The
message's text is the answer as `rag ask` prints it (`rag.plain_text`): chat front-ends show
that text and nothing else, so it carries each source with its quote and a refusal's reason.
Citations also ride in an extra `citations` field, and the weak-evidence flag in
`weak_evidence` (in the final chunk when streaming). A streamed answer arrives in one
content chunk after verification, not token by token: OpenAI clients append deltas and
cannot take back a claim that verification removes, so no unverified text is sent.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncGenerator, Collection
from contextlib import aclosing
from typing import Any

import anyio
from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import TypeAdapter, ValidationError

from api.deps import ApiKeyDep, PipelineDep, ServiceDep, client_of
from api.errors import ApiError
from api.schemas import (
    ChatCompletionRequest,
    ChatCompletionResponse,
    ChatMessage,
    ModelCard,
    ModelList,
    OpenAIErrorResponse,
    Question,
    error_responses,
)
from api.service import AssistantService
from api.streaming import EventStreamResponse, answer_and_audit, answer_events, sse_data
from rag.errors import RagError
from rag.pipeline import StreamEvent
from rag.plain_text import answer_as_text
from rag.types import Answer

log = logging.getLogger("api")
router = APIRouter(prefix="/v1", tags=["OpenAI-compatible"], dependencies=[ApiKeyDep])

# The one model this endpoint serves: the assistant (retrieval, generation, verification).
SERVED_MODEL = "gcm-rag"
ENDPOINT = "/v1/chat/completions"
_STARTED = int(time.time())
# A message's text goes through the validator of `/api/ask`'s question.
QUESTION: TypeAdapter[str] = TypeAdapter(Question)


@router.get(
    "/models", response_model=ModelList, responses=error_responses(401, model=OpenAIErrorResponse)
)
async def list_models() -> ModelList:
    """The assistant, as the one model to choose."""
    return ModelList(data=[ModelCard(id=SERVED_MODEL, created=_STARTED, owned_by="gcm-rag")])


@router.post(
    "/chat/completions",
    response_model=ChatCompletionResponse,
    responses={
        200: {"content": {"text/event-stream": {}}},
        **error_responses(400, 401, 413, 422, 503, model=OpenAIErrorResponse),
    },
)
async def chat_completions(
    body: ChatCompletionRequest, request: Request, service: ServiceDep, pipeline: PipelineDep
) -> Response:
    """Answer the last user message (from `documents` only, when given); the model name in
    the request is not used."""
    question = question_of(body.messages)
    documents = pipeline.check_documents(body.documents)
    admission = service.generation.admit()
    started = time.perf_counter()
    corpus_hash = pipeline.retriever.index.corpus_hash
    events = answer_events(pipeline, question, None, service.generation, admission, documents)
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    if body.stream:
        return EventStreamResponse(
            _chunks(
                events, completion_id, service, corpus_hash, started, client_of(request), documents
            ),
            on_close=admission.release,
        )
    answer = await answer_and_audit(
        events, admission, service, corpus_hash, started, client_of(request), ENDPOINT, documents
    )
    return JSONResponse(
        {
            "id": completion_id,
            "object": "chat.completion",
            "created": int(time.time()),
            "model": SERVED_MODEL,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": answer_as_text(answer)},
                    "finish_reason": "stop",
                }
            ],
            "citations": [citation.to_dict() for citation in answer.citations],
            "weak_evidence": answer.weak_evidence,
        }
    )


def question_of(messages: list[ChatMessage]) -> str:
    """The text of the last user message, checked by the same rules as `/api/ask`'s
    `question` (words, length, valid Unicode); a failure is a 422 naming
    `messages.N.content`."""
    for position in range(len(messages) - 1, -1, -1):
        if messages[position].role == "user":
            try:
                return QUESTION.validate_python(messages[position].text())
            except ValidationError as error:
                where = ("body", "messages", position, "content")
                raise RequestValidationError(
                    [{**item, "loc": (*where, *item["loc"])} for item in error.errors()]
                ) from None
    raise ApiError(
        422,
        "messages: no message has the role 'user' (its text is the question)",
        field="messages",
        rule="user_message_required",
    )


async def _chunks(
    events: AsyncGenerator[StreamEvent, None],
    completion_id: str,
    service: AssistantService,
    corpus_hash: str,
    started: float,
    client: str | None,
    documents: Collection[str] | None,
) -> AsyncGenerator[str, None]:
    created = int(time.time())

    def chunk(delta: dict[str, str], finish_reason: str | None = None) -> dict[str, Any]:
        return {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": SERVED_MODEL,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
        }

    yield sse_data(chunk({"role": "assistant", "content": ""}))
    try:
        async with aclosing(events):
            async for event in events:
                if event.kind != "done":
                    continue
                answer: Answer = event.data
                latency_ms = (time.perf_counter() - started) * 1000
                await anyio.to_thread.run_sync(
                    service.record_answer,
                    answer,
                    corpus_hash,
                    latency_ms,
                    client,
                    ENDPOINT,
                    documents,
                )
                yield sse_data(chunk({"content": answer_as_text(answer)}))
                final = chunk({}, finish_reason="stop")
                final["citations"] = [citation.to_dict() for citation in answer.citations]
                final["weak_evidence"] = answer.weak_evidence
                yield sse_data(final)
    except (RagError, ApiError) as error:
        yield sse_data({"error": {"message": str(error), "type": "server_error"}})
    except Exception:
        log.exception("streamed chat completion failed")
        yield sse_data({"error": {"message": "internal error", "type": "server_error"}})
    yield sse_data("[DONE]")
