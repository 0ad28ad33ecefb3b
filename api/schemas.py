"""Request and response models of the HTTP API, one family per resource.

Request models forbid unknown fields, so that a misspelt field is a 422 naming it rather
than an option silently ignored. The OpenAI-compatible request names every parameter of
OpenAI's chat completions, which its clients send (`user`, `stream_options`, sampling
options): each is checked for its type and then ignored, unless it asks for what this
assistant cannot give (several choices, log probabilities, JSON output), which is a 422; a
field OpenAI does not know is a 422 too, as OpenAI's own API answers. Response models
document the JSON; answers are the pipeline's own `Answer.to_dict()`, the same object
`rag ask --json` prints.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictStr
from pydantic_core import PydanticCustomError

from rag.settings import MAX_QUESTION_CHARS
from rag.text import CONTROL_CHARACTER

# The same bound as RAG_TOP_K.
MAX_K = 50
# Bounds of a document filter: a question limited to more reports than this is better asked
# of all of them; ids are file names made safe (`rag docs list`).
MAX_DOCUMENTS = 100
MAX_DOCUMENT_ID_CHARS = 200


def require_words(text: str) -> str:
    if not text.strip():
        raise PydanticCustomError(
            "whitespace_only", "the question must contain words, not only whitespace"
        )
    return text


def refuse_control_characters(text: str) -> str:
    found = CONTROL_CHARACTER.search(text)
    if found:
        raise PydanticCustomError(
            "control_character",
            "the text holds a control character ({character} at character {position}), "
            "which no question contains",
            {"character": f"U+{ord(found.group()):04X}", "position": found.start() + 1},
        )
    return text


Question = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_QUESTION_CHARS,
        description=f"The question, in words (at most {MAX_QUESTION_CHARS} characters).",
        examples=["Which states regularised migrants during COVID?"],
    ),
    AfterValidator(require_words),
    AfterValidator(refuse_control_characters),
]


DocumentIds = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=MAX_DOCUMENT_ID_CHARS)]],
    Field(max_length=MAX_DOCUMENTS),
]
# A body that works, for the fix of a request that sends none (or not an object), by path.
EXAMPLE_BODIES = {
    "/api/ask": '{"question": "…"}',
    "/v1/chat/completions": '{"messages": [{"role": "user", "content": "…"}]}',
}
DOCUMENTS_DESCRIPTION = (
    "Answer from these documents only: ids as `GET /api/documents` lists them (`doc`). "
    "Omitted, null or empty: every indexed document. An id not in the index is a 422 that "
    "lists the indexed ones."
)


# --- errors ------------------------------------------------------------------------------


class FieldError(BaseModel):
    field: str = Field(description="The field at fault, dotted (`messages.0.content`).")
    rule: str = Field(description="The rule it broke (`string_too_long`, `extra_forbidden`…).")
    message: str


class ErrorResponse(BaseModel):
    """Every `/api` error: what is wrong, the field at fault, the rule broken, the fix."""

    error: str
    field: str | None = None
    rule: str | None = None
    fix: str | None = None
    errors: list[FieldError] | None = None


class OpenAIError(BaseModel):
    message: str = Field(description="What is wrong, then the fix.")
    type: str = Field(
        description="invalid_request_error, authentication_error (401) or server_error."
    )
    param: str | None = Field(description="The field at fault, dotted (`messages.0.content`).")
    code: str | None = Field(description="The rule broken (`string_too_long`, `queue_full`…).")


class OpenAIErrorResponse(BaseModel):
    """Every `/v1` error, in OpenAI's shape."""

    error: OpenAIError


# Worded for both shapes: `/api` names the field and rule in `field` and `rule`, `/v1` in
# `param` and `code`.
ERROR_DESCRIPTIONS = {
    400: "The body is not valid JSON, or was not sent as JSON.",
    401: "An API key is required (RAG_API_KEYS) and none or a wrong one was sent.",
    404: "No passage has this anchor.",
    413: "The body is over 64 KiB.",
    422: "A field breaks a rule; the error names the field and the rule.",
    503: "No index (the error says to run 'rag ingest'), a model that cannot load, or a full "
    "queue (`Retry-After` says when to come back).",
}


def error_responses(
    *statuses: int, model: type[BaseModel] = ErrorResponse
) -> dict[int | str, dict[str, Any]]:
    """OpenAPI documentation of the error answers a route may give (`/v1` routes pass
    `model=OpenAIErrorResponse`)."""
    return {
        status: {"model": model, "description": ERROR_DESCRIPTIONS[status]} for status in statuses
    }


# --- ask -----------------------------------------------------------------------------------


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: Question
    k: Annotated[int, Field(strict=True, ge=1, le=MAX_K)] | None = Field(
        None, description="Passages to retrieve (default: RAG_TOP_K)."
    )
    stream: Annotated[bool, Field(strict=True)] = Field(
        False, description="Answer as server-sent events instead of one JSON object."
    )
    documents: DocumentIds | None = Field(
        None, description=DOCUMENTS_DESCRIPTION, examples=[["gcm-unece-2020"]]
    )


class RetrievedPassage(BaseModel):
    """A retrieved passage, in rank order (also the `passages` event's items)."""

    anchor: str = Field(examples=["gcm-unece-2020#p22"])
    doc: str
    section: str | None
    page: int | None
    text: str
    score: float


class CitationOut(BaseModel):
    """What an answer's `[n]` marker resolves to (also the `citations` event's items)."""

    n: int
    anchor: str
    doc: str
    doc_title: str
    section: str | None
    page: int | None
    text: str = Field(description="The whole cited passage.")
    quote: str = Field(description="The verbatim sentence of `text` that supports the claim.")


class AnswerPartOut(BaseModel):
    """One part of a question of several parts and its answer, to show under its question."""

    question: str = Field(
        description="The part, asked as a question of its own.",
        examples=["When was the GCM adopted?"],
    )
    answer: str = Field(
        description="The part's answer with `[n]` markers numbered as the answer's "
        "`citations`: the text under the part's question in `answer`. For a refused part, "
        "the refusal with its reason in brackets."
    )
    abstained: bool = Field(description="The reports do not answer this part.")
    abstention_reason: str | None = Field(description="Why the part is refused (null if not).")
    citation_numbers: list[int] = Field(
        description="The `n` of the answer's `citations` that this part cites.", examples=[[1, 2]]
    )


class AnswerResponse(BaseModel):
    """The verified answer, identical to `rag ask --json` (and to the `done` event)."""

    model_config = ConfigDict(extra="allow")

    question: str
    answer: str = Field(description="Answer text with `[n]` markers.")
    abstained: bool
    mode: str = Field(
        description="generated, extractive, abstained, or index: the indexed reports listed "
        "from the index's records (for 'Which reports do you have?'), citing nothing."
    )
    abstention_reason: str | None = Field(
        None, description="Why the assistant abstained (null when it answered)."
    )
    weak_evidence: bool = Field(
        False,
        description="The answer rests on passages that match the question only loosely: "
        "the reports may not answer it. Show it as a caution.",
    )
    citations: list[CitationOut]
    parts: list[AnswerPartOut] = Field(
        description='A question of several parts ("Which states regularised migrants during '
        'COVID, and when was the GCM adopted?") is answered part by part: each part with its '
        "own answer, in the order asked, for showing each under its question. `answer` holds "
        "the same, each part's question on a line and its answer below (unless every part is "
        "refused: then `answer` is one refusal and `abstention_reason` names each part's). "
        "Empty for a question of one part."
    )
    passages: list[RetrievedPassage]
    model: str
    timings_ms: dict[str, float | None]


# --- passages and documents ------------------------------------------------------------------


class PassageResponse(BaseModel):
    anchor: str
    doc: str
    doc_title: str
    section: str | None
    page: int | None
    text: str
    start: int = Field(description="Character offset of the passage in its source file.")
    end: int
    content_hash: str
    previous: str | None = Field(description="Anchor of the passage before, in the same document.")
    next: str | None = Field(description="Anchor of the passage after, in the same document.")
    position: int = Field(description="Where the passage stands in its document: 1 for the first.")
    document_passages: int = Field(description="How many passages its document has.")


class DocumentOut(BaseModel):
    doc: str
    title: str
    path: str = Field(
        description="The source file, relative to the seeds folder (RAG_SEEDS_DIR); the file "
        "name alone for a file ingested from elsewhere.",
        examples=["gcm-unece-2020.txt"],
    )
    content_hash: str
    passages: int
    duplicates: list[str] = Field(
        description="Other files with the same content, not indexed (paths as `path`)."
    )
    file_missing: bool = Field(
        description="The source file no longer exists (a file ingested by its own path stays "
        "indexed after it is deleted); its passages can no longer be checked against it."
    )
    near_duplicates: dict[str, float] = Field(
        description="Other indexed documents holding largely the same text (another edition "
        "or format), by id, with the share (0-1) of the shorter one's text the other holds."
    )


class DocumentsResponse(BaseModel):
    corpus_hash: str
    documents: list[DocumentOut]


# --- health ----------------------------------------------------------------------------------


class QueueStatus(BaseModel):
    admitted: int = Field(description="Generation requests answering or waiting now.")
    capacity: int = Field(description="RAG_QUEUE_SIZE: more are refused with 503.")


class HealthResponse(BaseModel):
    status: Literal["ok", "not ready"]
    ready: bool
    index_loaded: bool
    model_loaded: bool = Field(
        description="The model has shown it works (it loaded at start-up, its server "
        "answered, or it has written an answer since) and has not failed since. Answers "
        "made without it (which reports mention something, the list of reports, refusals) "
        "do not count."
    )
    model: str | None
    generator: str
    llm_url: str | None
    index: str = Field(
        description="The index folder (RAG_INDEX_DIR): relative to the server's working "
        "directory when it lies inside it, else its name alone, like the paths of "
        "/api/documents; the server's own paths are not published."
    )
    corpus_hash: str | None
    documents: int
    passages: int
    queue: QueueStatus
    max_question_chars: int = Field(
        description="The longest question accepted, in characters: longer ones are a 422. "
        "The chat widget holds its text box to it."
    )
    versions: dict[str, str | None]
    problems: dict[str, str] = Field(
        description="What keeps the assistant from being ready, by part ('index', 'model', "
        "'embedder', 'configuration'). A model that failed, at start-up or later, stays "
        "here until it next writes an answer."
    )


# --- OpenAI-compatible -----------------------------------------------------------------------


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: str
    content: str | list[ContentPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(part.text or "" for part in self.content if part.type == "text")
        return self.content or ""


def only_one_choice(n: int | None) -> int | None:
    if n not in (None, 1):
        raise PydanticCustomError(
            "single_choice",
            "only one choice is given: answers are deterministic and verified, so further "
            "choices would repeat it",
        )
    return n


def no_log_probabilities(logprobs: bool | None) -> bool | None:
    if logprobs:
        raise PydanticCustomError(
            "logprobs_unsupported",
            "log probabilities are not given: the answer is the verified text, often quoted "
            "from the reports, not the model's tokens",
        )
    return logprobs


def text_format(response_format: dict[str, Any] | None) -> dict[str, Any] | None:
    if response_format is not None and response_format.get("type") != "text":
        raise PydanticCustomError(
            "text_format_only",
            "answers are text with [n] citation markers, not JSON",
        )
    return response_format


# OpenAI's parameters by their types, checked as OpenAI checks them: no numbers in strings.
Probability = Annotated[float, Field(strict=True, ge=0, le=1)]
Penalty = Annotated[float, Field(strict=True, ge=-2, le=2)]
TokenCount = Annotated[int, Field(strict=True, ge=1)]
JsonObject = dict[str, Any]


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    include_usage: StrictBool | None = Field(
        None, description="Accepted; no usage is reported (see the response's description)."
    )
    include_obfuscation: StrictBool | None = None


class ChatCompletionRequest(BaseModel):
    """OpenAI's chat request; the last user message is the question. Every parameter of
    OpenAI's chat completions is accepted, checked for its type and ignored (answers are
    deterministic, of RAG_MAX_ANSWER_TOKENS at most, and verified; tools are never called),
    except `n` other than 1, `logprobs: true` and a `response_format` other than text, which
    ask for what this assistant cannot give (422). Fields OpenAI does not know are a 422."""

    model_config = ConfigDict(extra="forbid")

    model: StrictStr | None = None
    messages: list[ChatMessage] = Field(min_length=1)
    stream: StrictBool | None = False
    # Not an OpenAI field: OpenAI's Python client sends it with `extra_body`.
    documents: DocumentIds | None = Field(
        None, description=DOCUMENTS_DESCRIPTION, examples=[["gcm-unece-2020"]]
    )
    n: Annotated[int | None, Field(strict=True), AfterValidator(only_one_choice)] = Field(
        None, description="Only 1: answers are deterministic and verified."
    )
    logprobs: Annotated[StrictBool | None, AfterValidator(no_log_probabilities)] = None
    response_format: Annotated[JsonObject | None, AfterValidator(text_format)] = None
    # Checked, then ignored.
    temperature: Annotated[float, Field(strict=True, ge=0, le=2)] | None = None
    top_p: Probability | None = None
    max_tokens: TokenCount | None = None
    max_completion_tokens: TokenCount | None = None
    presence_penalty: Penalty | None = None
    frequency_penalty: Penalty | None = None
    logit_bias: dict[str, Annotated[int, Field(strict=True, ge=-100, le=100)]] | None = None
    top_logprobs: Annotated[int, Field(strict=True, ge=0, le=20)] | None = None
    seed: Annotated[int, Field(strict=True)] | None = None
    stop: StrictStr | Annotated[list[StrictStr], Field(max_length=4)] | None = None
    stream_options: StreamOptions | None = None
    user: StrictStr | None = None
    safety_identifier: StrictStr | None = None
    metadata: dict[str, StrictStr] | None = None
    store: StrictBool | None = None
    service_tier: StrictStr | None = None
    reasoning_effort: StrictStr | None = None
    verbosity: StrictStr | None = None
    modalities: list[StrictStr] | None = None
    audio: JsonObject | None = None
    prediction: JsonObject | None = None
    prompt_cache_key: StrictStr | None = None
    prompt_cache_retention: StrictStr | None = None
    prompt_cache_options: JsonObject | None = None
    moderation: JsonObject | None = None
    web_search_options: JsonObject | None = None
    tools: list[JsonObject] | None = None
    tool_choice: StrictStr | JsonObject | None = None
    parallel_tool_calls: StrictBool | None = None
    functions: list[JsonObject] | None = None
    function_call: StrictStr | JsonObject | None = None


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class ChatChoice(BaseModel):
    index: int
    message: AssistantMessage
    finish_reason: str


class ChatCompletionResponse(BaseModel):
    """OpenAI's chat completion, with the citations. No `usage`: the text returned is the
    verified answer, often not what the model wrote (a claim verification drops, a sentence
    quoted from a report instead), and refusals and answers about the collection involve no
    model at all, so token counts would describe something other than the answer; OpenAI's
    clients take a completion without it."""

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[ChatChoice]
    citations: list[CitationOut] = Field(description="What the answer's `[n]` markers cite.")
    weak_evidence: bool = Field(
        description="The answer rests on passages that match the question only loosely: "
        "the reports may not answer it. Show it as a caution."
    )


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]
