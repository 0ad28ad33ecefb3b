"""The clients of `rag bench`: questions asked as the chat widget asks them, timed event by
event.

Each request is `POST /api/ask` with `"stream": true`, read as server-sent events as they
arrive. Times run from sending the request to:

  first_event_ms  the first event (`passages`: retrieval done, the reader sees progress)
  first_token_ms  the first `token`, the model's unverified draft (absent when the assistant
                  abstained before generating); the widget never shows it
  answer_ms       the `done` event: the verified answer, the first answer text the widget shows
  total_ms        the end of the response

`N` clients run in threads and share one list of questions: each asks the next question as
soon as its last answer has arrived, as `N` officials each waiting for their answer, so up to
`N` questions are in the server at once. A refusal because the queue is full (503 with the
rule `queue_full`, or 429) is counted, not retried: the widget, too, tells the reader to retry.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any, Literal

import httpx

from eval.bench_server import auth_headers

Outcome = Literal["answered", "refused", "error"]
TIMINGS = ("first_event_ms", "first_token_ms", "answer_ms", "total_ms")
ERROR_PREVIEW_CHARS = 300


@dataclass(frozen=True)
class BenchQuestion:
    id: str
    text: str


@dataclass(frozen=True)
class RequestResult:
    """One question asked during a level: what came back and when (ms since sending)."""

    concurrency: int
    client: int
    question_id: str
    started_s: float  # since the level began
    status: int | None  # HTTP status; None when no response arrived
    outcome: Outcome
    total_ms: float
    first_event_ms: float | None = None
    first_token_ms: float | None = None
    answer_ms: float | None = None
    mode: str | None = None  # the answer's mode: generated, extractive or abstained
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        record = asdict(self)
        for name in (*TIMINGS, "started_s"):
            if record[name] is not None:
                record[name] = round(record[name], 3 if name == "started_s" else 1)
        return record


@dataclass(frozen=True)
class LevelRun:
    """The requests of one concurrency level and how long the level took."""

    concurrency: int
    wall_s: float
    results: list[RequestResult]


def sse_events(lines: Iterator[str]) -> Iterator[tuple[str | None, str]]:
    """(event name, data) for each server-sent event in `lines`, as each one completes."""
    name: str | None = None
    data: list[str] = []
    for line in lines:
        if not line:
            if data:
                yield name, "\n".join(data)
            name, data = None, []
        elif line.startswith("event:"):
            name = line[len("event:") :].strip()
        elif line.startswith("data:"):
            data.append(line[len("data:") :].strip())
    if data:
        yield name, "\n".join(data)


def ask_streaming(
    client: httpx.Client, question: str, level_started: float
) -> tuple[int | None, Outcome, dict[str, Any]]:
    """Ask `question` on `client` and time its events: (status, outcome, fields of
    `RequestResult`)."""
    sent = time.perf_counter()

    def since_sent() -> float:
        return (time.perf_counter() - sent) * 1000

    fields: dict[str, Any] = {"started_s": sent - level_started}
    try:
        with client.stream("POST", "/api/ask", json={"question": question, "stream": True}) as r:
            if r.status_code != 200:
                r.read()
                fields["total_ms"] = since_sent()
                refused = r.status_code == 429 or _rule(r) == "queue_full"
                fields["error"] = _error_text(r)
                return r.status_code, ("refused" if refused else "error"), fields
            for event, data in sse_events(r.iter_lines()):
                fields.setdefault("first_event_ms", since_sent())
                if event == "token":
                    fields.setdefault("first_token_ms", since_sent())
                elif event == "done":
                    fields["answer_ms"] = since_sent()
                    fields["mode"] = json.loads(data).get("mode")
                elif event == "error":
                    fields["error"] = str(json.loads(data).get("error"))[:ERROR_PREVIEW_CHARS]
            fields["total_ms"] = since_sent()
            if "answer_ms" in fields and "error" not in fields:
                return 200, "answered", fields
            fields.setdefault("error", "the stream ended without a 'done' event")
            return 200, "error", fields
    except httpx.HTTPError as error:
        fields["total_ms"] = since_sent()
        fields["error"] = f"{error.__class__.__name__}: {error}"[:ERROR_PREVIEW_CHARS]
        return None, "error", fields


def _rule(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("rule") if isinstance(body, dict) else None


def _error_text(response: httpx.Response) -> str:
    try:
        body = response.json()
        text = str(body.get("error", body)) if isinstance(body, dict) else str(body)
    except ValueError:
        text = response.text
    return f"{response.status_code}: {text}"[:ERROR_PREVIEW_CHARS]


def run_level(
    url: str,
    questions: Sequence[BenchQuestion],
    concurrency: int,
    api_key: str | None = None,
    timeout_s: float = 300.0,
    on_result: Callable[[RequestResult], None] | None = None,
) -> LevelRun:
    """Ask every question once, from `concurrency` clients sharing the list (see above).
    `on_result` is called from the client threads as each request ends."""
    pending = list(reversed(questions))
    lock = threading.Lock()
    results: list[RequestResult] = []
    level_started = time.perf_counter()

    def next_question() -> BenchQuestion | None:
        with lock:
            return pending.pop() if pending else None

    def client_loop(number: int) -> None:
        timeout = httpx.Timeout(timeout_s, connect=10.0)
        with httpx.Client(base_url=url, timeout=timeout, headers=auth_headers(api_key)) as client:
            while (question := next_question()) is not None:
                status, outcome, fields = ask_streaming(client, question.text, level_started)
                result = RequestResult(
                    concurrency=concurrency,
                    client=number,
                    question_id=question.id,
                    status=status,
                    outcome=outcome,
                    **fields,
                )
                with lock:
                    results.append(result)
                if on_result is not None:
                    on_result(result)

    with ThreadPoolExecutor(concurrency, thread_name_prefix="bench-client") as pool:
        futures = [pool.submit(client_loop, number) for number in range(1, concurrency + 1)]
        try:
            for future in futures:
                future.result()
        except BaseException:  # interrupted, or a client failed: ask nothing more
            with lock:
                pending.clear()
            raise
    wall_s = time.perf_counter() - level_started
    return LevelRun(concurrency, wall_s, sorted(results, key=lambda r: r.started_s))
