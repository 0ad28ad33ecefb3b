"""Every error the HTTP API answers, as JSON that names the field at fault and the rule broken.

`/api/...` errors read `{"error": message, "field": ..., "rule": ..., "fix": ...}`, plus
`errors`, one entry per field at fault, whenever a field is; `/v1/...` errors take OpenAI's shape,
`{"error": {"message", "type", "param", "code"}}`, so that OpenAI clients show them. No input
reaches a 500: malformed JSON is a 400, the pipeline's own errors are 422 or 503.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.schemas import EXAMPLE_BODIES
from rag.errors import (
    IndexMismatchError,
    IndexMissingError,
    InvalidQuestionError,
    RagError,
    UnknownDocumentError,
)

log = logging.getLogger("api")

OPENAI_PREFIX = "/v1/"
# OpenAI's error types for the statuses that have one of their own; other 4xx are
# invalid_request_error, 5xx server_error.
OPENAI_ERROR_TYPES = {401: "authentication_error"}


@dataclasses.dataclass(eq=False)  # compared by identity, hashable, like any exception
class ApiError(Exception):
    """An error answer: status, a one-line message, the field at fault and the rule broken."""

    status: int
    message: str
    field: str | None = None
    rule: str | None = None
    fix: str | None = None
    headers: dict[str, str] = dataclasses.field(default_factory=dict)
    errors: list[dict[str, Any]] | None = None

    def __str__(self) -> str:
        return self.message


class QueueFullError(ApiError):
    """Too many generation requests are admitted already; `Retry-After` says when to retry."""

    def __init__(self, admitted: int, retry_after_s: int) -> None:
        questions = "1 question is" if admitted == 1 else f"{admitted} questions are"
        seconds = "1 second" if retry_after_s == 1 else f"{retry_after_s} seconds"
        super().__init__(
            status=503,
            message=f"the assistant is busy: {questions} being answered or waiting",
            rule="queue_full",
            fix=f"retry after {seconds}",
            headers={"Retry-After": str(retry_after_s)},
        )


def from_rag_error(error: RagError) -> ApiError:
    """The HTTP form of a pipeline error: a bad question is the client's (422); anything
    else (no index, model missing, generation server down) means the service cannot answer
    now (503). The message is the problem alone: `fix` carries the fix, and the `/v1/` shape
    joins the two (`str(error)` holds both already)."""
    message = error.problem
    if isinstance(error, InvalidQuestionError):
        return ApiError(422, message, field="question", rule="valid_question", fix=error.fix)
    if isinstance(error, UnknownDocumentError):
        return ApiError(422, message, field="documents", rule="unknown_document", fix=error.fix)
    if isinstance(error, IndexMissingError):
        return ApiError(503, message, rule="index_missing", fix=error.fix)
    if isinstance(error, IndexMismatchError):
        return ApiError(503, message, rule="index_mismatch", fix=error.fix)
    return ApiError(503, message, rule="service_unavailable", fix=error.fix)


def from_validation_error(
    error: RequestValidationError, content_type: str | None = None, example: str | None = None
) -> ApiError:
    """Field-by-field validation failures, with what to send instead (`example`: a body
    that works, for a request that sends none); JSON that does not parse, or a body not sent
    as JSON, is a 400 of its own."""
    details = []
    fixes: list[str] = []
    for item in error.errors():
        location = [str(part) for part in item.get("loc", ())]
        if location and location[0] in ("body", "query", "path", "header"):
            location = location[1:] if len(location) > 1 else location
        rule = str(item.get("type", "invalid"))
        if rule == "json_invalid":
            location = ["body"]
        field = ".".join(location) or "body"
        details.append({"field": field, "rule": rule, "message": _message(item)})
        fix = _fix(rule, field, item.get("ctx") or {}, example)
        if fix and fix not in fixes:
            fixes.append(fix)
    first = details[0] if details else {"field": "body", "rule": "invalid", "message": "invalid"}
    if first["rule"] == "json_invalid":
        return ApiError(
            400,
            f"the request body is not valid JSON ({first['message']})",
            field="body",
            rule="json_invalid",
            fix="send a JSON object with Content-Type: application/json",
            errors=details,
        )
    if first["rule"] == "model_attributes_type" and "json" not in (content_type or ""):
        return ApiError(
            400,
            f"the request body was sent as {content_type or 'no content type'}, not as JSON",
            field="Content-Type",
            rule="content_type_json",
            fix="send a JSON object with Content-Type: application/json",
        )
    summary = "; ".join(f"{d['field']}: {d['message']}" for d in details)
    return ApiError(
        422,
        summary,
        field=first["field"],
        rule=first["rule"],
        fix="; ".join(fixes) or None,
        errors=details,
    )


def _fix(rule: str, field: str, ctx: dict[str, Any], example: str | None) -> str | None:
    """What to send instead, for one failure of `field` (dotted, or "body")."""
    if field == "body" and rule in ("missing", "model_attributes_type"):
        return f"send a JSON object such as {example}" if example else "send a JSON object"
    name = f"'{field}'"
    if rule == "missing":
        return f"add {name}, as in {example}" if example and "." not in field else f"add {name}"
    if rule in ("int_type", "int_parsing", "int_from_float"):
        return f"send {name} as a whole number, without quotes"
    if rule in ("float_type", "float_parsing"):
        return f"send {name} as a number, without quotes"
    if rule in ("bool_type", "bool_parsing"):
        return f"send {name} as true or false, without quotes"
    limits = {
        "greater_than_equal": ("ge", "send {name} as {bound} or more"),
        "less_than_equal": ("le", "send {name} as {bound} or less"),
        "greater_than": ("gt", "send {name} as more than {bound}"),
        "less_than": ("lt", "send {name} as less than {bound}"),
        "string_too_short": ("min_length", "send {name} with at least {bound} character{s}"),
        "string_too_long": ("max_length", "shorten {name} to at most {bound} character{s}"),
        "too_short": ("min_length", "send {name} with at least {bound} item{s}"),
        "too_long": ("max_length", "send {name} with at most {bound} item{s}"),
    }
    if rule in limits and limits[rule][0] in ctx:
        key, wording = limits[rule]
        bound = ctx[key]
        if isinstance(bound, float) and bound.is_integer():
            bound = int(bound)  # 2, not 2.0
        return wording.format(name=name, bound=bound, s="" if bound == 1 else "s")
    fixes = {
        "extra_forbidden": f"remove {name}: /docs lists the fields this endpoint takes",
        "string_type": f"send {name} as text, in double quotes",
        "list_type": f"send {name} as a JSON list, [...]",
        "dict_type": f"send {name} as a JSON object, {{...}}",
        "model_type": f"send {name} as a JSON object, {{...}}",
        "model_attributes_type": f"send {name} as a JSON object, {{...}}",
        "literal_error": f"send {name} as {ctx.get('expected')}",
        "whitespace_only": "write the question in words",
        "string_unicode": f"remove the invalid character from {name}",
        "control_character": (
            f"remove the control character from {name} (tabs and line breaks may stay)"
        ),
        "single_choice": f"omit {name} or send 1",
        "logprobs_unsupported": f"omit {name} or send false",
        "text_format_only": f'omit {name} or send {{"type": "text"}}',
    }
    return fixes.get(rule)


def _message(item: dict[str, Any]) -> str:
    if item.get("type") == "json_invalid":
        return str(item.get("ctx", {}).get("error") or item.get("msg"))
    if item.get("type") == "extra_forbidden":
        return "unknown field (not part of this request)"
    if item.get("type") == "model_attributes_type":
        return "the body must be a JSON object"
    if item.get("type") == "string_unicode":
        # A string fails this only by holding a surrogate, which JSON lets in as an escape.
        return "the text holds an invalid character (a lone surrogate such as \\ud800)"
    return str(item.get("msg", "invalid"))


def error_response(request_path: str, error: ApiError) -> JSONResponse:
    """The JSON answer for `error`, in OpenAI's shape under /v1/."""
    body: dict[str, Any]
    if request_path.startswith(OPENAI_PREFIX):
        message = f"{error.message}; {error.fix}" if error.fix else error.message
        kind = OPENAI_ERROR_TYPES.get(
            error.status, "invalid_request_error" if error.status < 500 else "server_error"
        )
        body = {
            "error": {"message": message, "type": kind, "param": error.field, "code": error.rule}
        }
    else:
        body = {"error": error.message, "field": error.field, "rule": error.rule, "fix": error.fix}
        if error.errors is not None:
            body["errors"] = error.errors
        elif error.field is not None:
            # One shape for every error about the request: a client reads `errors` alike
            # for a failed validation and for a refused value (an unknown document id).
            body["errors"] = [{"field": error.field, "rule": error.rule, "message": error.message}]
    return JSONResponse(body, status_code=error.status, headers=error.headers or None)


def install_error_handlers(app: FastAPI) -> None:
    """Route every kind of failure to `error_response`."""

    @app.exception_handler(ApiError)
    async def on_api_error(request: Request, error: ApiError) -> JSONResponse:
        return error_response(request.url.path, error)

    @app.exception_handler(RagError)
    async def on_rag_error(request: Request, error: RagError) -> JSONResponse:
        return error_response(request.url.path, from_rag_error(error))

    @app.exception_handler(RequestValidationError)
    async def on_validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
        content_type = request.headers.get("content-type")
        example = EXAMPLE_BODIES.get(request.url.path)
        return error_response(request.url.path, from_validation_error(error, content_type, example))

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        if error.status_code == 400:  # FastAPI's answer to a body it cannot decode
            return error_response(
                request.url.path,
                ApiError(
                    400,
                    f"the request body cannot be read ({error.detail})",
                    field="body",
                    rule="json_invalid",
                    fix="send a JSON object, UTF-8 encoded, with Content-Type: application/json",
                ),
            )
        at_fault, rule = {
            404: ("path", "not_found"),
            405: ("method", "method_not_allowed"),
        }.get(error.status_code, (None, "http_error"))
        return error_response(
            request.url.path,
            ApiError(
                error.status_code,
                f"{request.method} {request.url.path}: {error.detail}",
                field=at_fault,
                rule=rule,
                fix="see /docs for the endpoints" if error.status_code in (404, 405) else None,
                headers=dict(error.headers or {}),
            ),
        )

    @app.exception_handler(Exception)
    async def on_unexpected_error(request: Request, error: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(
            request.url.path,
            ApiError(500, "internal error; the server log has the details", rule="internal"),
        )
