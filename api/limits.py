"""Request body size limit, enforced before any route sees the request.

A declared `Content-Length` over the limit is refused without reading the body; a chunked
body (no length declared, or a lying one) is counted as it arrives and refused as soon as it
passes the limit. The body is read here in full (it is small by then) and handed on, so that
the refusal never depends on where in a route the body would have been read.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import ApiError, error_response
from rag.settings import MAX_QUESTION_CHARS

MAX_BODY_BYTES = 64 * 1024


class BodySizeLimitMiddleware:
    """Answers 413 for request bodies over `max_bytes`."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared == -1:
            await self._refuse(scope, receive, send, self._bad_length())
            return
        if declared is not None and declared > self.max_bytes:
            await self._refuse(scope, receive, send, self._too_large(declared))
            return

        chunks: list[bytes] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client left while sending
                await self.app(scope, _replay([message], receive), send)
                return
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > self.max_bytes:
                await self._refuse(scope, receive, send, self._too_large(received, counted=True))
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        whole = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        await self.app(scope, _replay([whole], receive), send)

    def _too_large(self, size: int, counted: bool = False) -> ApiError:
        amount = f"more than {self.max_bytes}" if counted else str(size)
        return ApiError(
            413,
            f"the request body is {amount} bytes; the limit is {self.max_bytes} bytes (64 KiB)",
            field="body",
            rule="max_body_bytes",
            fix=f"send a shorter request (questions are at most {MAX_QUESTION_CHARS:,} characters)",
        )

    @staticmethod
    def _bad_length() -> ApiError:
        return ApiError(
            400,
            "the Content-Length header is not a number",
            field="Content-Length",
            rule="integer",
        )

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, error: ApiError) -> None:
        # Tell the client not to keep the connection: the unread body would follow.
        error.headers["Connection"] = "close"
        await error_response(scope.get("path", ""), error)(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    """The declared body length, None when undeclared, -1 when unparsable."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                length = int(value)
            except ValueError:
                return -1
            return length if length >= 0 else -1
    return None


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """A `receive` that hands out `messages` first, then defers to the real one (which
    reports the client's disconnect to streaming responses)."""
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed
