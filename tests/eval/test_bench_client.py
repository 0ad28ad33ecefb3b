"""eval.bench_client: server-sent events read as they arrive, and concurrent clients against a
real uvicorn server (in a thread) over the fake index: what each request's outcome is when
it is answered, refused by a full queue, or ends in an error event."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from api.app import create_app
from eval.bench_client import BenchQuestion, RequestResult, run_level, sse_events
from rag.errors import RagError
from rag.factory import build_pipeline
from rag.generation.fake import FakeGenerator
from rag.settings import Settings
from tests.api.conftest import FAKE_QUESTION, InventingGenerator, live_server

QUESTIONS = [
    BenchQuestion("q1", FAKE_QUESTION),
    BenchQuestion("q2", "Which states reported instituting regularisation?"),
    BenchQuestion("q3", "What did Italy, Moldova and Portugal institute?"),
]


def test_sse_events_are_yielded_as_each_block_ends() -> None:
    lines = iter(
        [
            "event: passages",
            'data: [{"anchor": "a#p1"}]',
            "",
            "event: token",
            'data: {"text": "Italy"}',
            "",
            ": a comment line is ignored",
            "event: done",
            'data: {"mode": "generated"}',
        ]
    )
    events = sse_events(lines)
    assert next(events) == ("passages", '[{"anchor": "a#p1"}]')
    assert next(events) == ("token", '{"text": "Italy"}')
    # The last block counts even when the stream ends without its blank line.
    assert list(events) == [("done", '{"mode": "generated"}')]


def test_unnamed_and_multi_line_data_events() -> None:
    lines = ["data: one", "data: two", "", "", "event: x", ""]
    assert list(sse_events(iter(lines))) == [(None, "one\ntwo")]


def test_two_clients_share_the_questions_and_each_is_answered_once(
    fake_index: Settings,
) -> None:
    app = create_app(fake_index, static_dir=None)
    seen: list[RequestResult] = []
    with live_server(app) as url:
        level = run_level(url, QUESTIONS, 2, on_result=seen.append)
    assert level.concurrency == 2
    assert sorted(r.question_id for r in level.results) == ["q1", "q2", "q3"]
    assert sorted(r.question_id for r in seen) == ["q1", "q2", "q3"]
    assert {r.client for r in level.results} <= {1, 2}
    assert [r.started_s for r in level.results] == sorted(r.started_s for r in level.results)
    for result in level.results:
        assert (result.outcome, result.status, result.mode, result.error) == (
            "answered",
            200,
            "generated",
            None,
        )
        assert result.concurrency == 2
        # The fake model drafts before the answer is verified, and the stream ends after it.
        assert result.first_event_ms is not None and result.first_token_ms is not None
        assert result.answer_ms is not None
        assert result.first_event_ms <= result.first_token_ms <= result.answer_ms
        assert result.answer_ms <= result.total_ms
    assert level.wall_s >= max(r.started_s + r.total_ms / 1000 for r in level.results)


def test_a_full_queue_is_counted_as_a_refusal_not_an_error(fake_index: Settings) -> None:
    # One place in the queue; the admitted question holds it, drafting, until the other
    # question has been refused.
    settings = fake_index.model_copy(update={"queue_size": 1})
    generator = InventingGenerator()
    pipeline = build_pipeline(settings, generator=generator)
    app = create_app(settings, pipeline=pipeline, static_dir=None)

    def open_gate_on_refusal(result: RequestResult) -> None:
        if result.outcome == "refused":
            generator.gate.set()

    with live_server(app) as url:
        level = run_level(url, QUESTIONS[:2], 2, on_result=open_gate_on_refusal)
    outcomes = sorted((r.outcome, r.status) for r in level.results)
    assert outcomes == [("answered", 200), ("refused", 503)]
    (refused,) = [r for r in level.results if r.outcome == "refused"]
    assert refused.error is not None
    assert refused.error.startswith("503: the assistant is busy: 1 question is being answered")
    assert (refused.first_event_ms, refused.answer_ms, refused.mode) == (None, None, None)
    (answered,) = [r for r in level.results if r.outcome == "answered"]
    assert answered.mode == "extractive"  # verification dropped the invented draft


class BrokenGenerator(FakeGenerator):
    """Fails as a model that stops mid-answer: its stream raises before any text."""

    @property
    def name(self) -> str:
        return "broken"

    def stream_chat(
        self, messages: list[dict[str, str]], max_tokens: int, stop: list[str] | None = None
    ) -> Iterator[str]:
        raise RagError("the model stopped", "restart the server")
        yield ""  # a generator function, as the protocol's are


def test_an_error_event_makes_the_request_an_error_with_its_message(
    fake_index: Settings,
) -> None:
    pipeline = build_pipeline(fake_index, generator=BrokenGenerator())
    with live_server(create_app(fake_index, pipeline=pipeline, static_dir=None)) as url:
        (result,) = run_level(url, QUESTIONS[:1], 1).results
    assert (result.outcome, result.status, result.answer_ms, result.mode) == (
        "error",
        200,
        None,
        None,
    )
    assert result.error == "the model stopped; restart the server"
    assert result.first_event_ms is not None  # the passages came before the failure


def test_a_server_that_has_gone_is_an_error_without_a_status() -> None:
    from eval.bench_server import free_port

    (result,) = run_level(f"http://127.0.0.1:{free_port()}", QUESTIONS[:1], 1).results
    assert (result.outcome, result.status, result.first_event_ms) == ("error", None, None)
    assert result.error is not None and result.error.startswith("ConnectError: ")


@pytest.mark.parametrize(
    ("rounded", "expected"),
    [("first_event_ms", 12.3), ("total_ms", 45.7), ("started_s", 0.123)],
)
def test_results_are_rounded_for_the_json_file(rounded: str, expected: float) -> None:
    result = RequestResult(
        concurrency=1,
        client=1,
        question_id="q1",
        started_s=0.12345,
        status=200,
        outcome="answered",
        total_ms=45.66,
        first_event_ms=12.34,
    )
    assert result.to_dict()[rounded] == expected
