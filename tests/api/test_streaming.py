"""Streaming over a real uvicorn server (in a thread) with a generator the test controls:
a client that leaves stops generation, a full queue answers 503 with Retry-After, and
retrieval-only requests never wait behind generation."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx

from api.app import create_app
from rag.factory import build_pipeline
from rag.generation.fake import FakeGenerator
from rag.settings import Settings
from tests.api.conftest import FAKE_QUESTION, live_server, parse_sse

WAIT_S = 10


class GatedGenerator(FakeGenerator):
    """Writes one word per `interval_s`, each after `gate` is open; records how many words it
    wrote and whether its stream was closed."""

    def __init__(self, words: int = 500, interval_s: float = 0.0) -> None:
        super().__init__()
        self.words = words
        self.interval_s = interval_s
        self.gate = threading.Event()
        self.generating = threading.Semaphore(0)
        self.closed = threading.Event()
        self.written = 0

    @property
    def name(self) -> str:
        return "gated"

    def stream_chat(
        self, messages: list[dict[str, str]], max_tokens: int, stop: list[str] | None = None
    ) -> Iterator[str]:
        self.calls += 1
        self.generating.release()
        try:
            for position in range(self.words):
                if not self.gate.wait(WAIT_S):
                    raise TimeoutError("the test never opened the gate")
                time.sleep(self.interval_s)
                self.written += 1
                yield "Italy" if position == 0 else " regularisation"
        finally:
            self.closed.set()


def served(settings: Settings, generator: GatedGenerator):  # type: ignore[no-untyped-def]
    pipeline = build_pipeline(settings, generator=generator)
    app = create_app(settings, pipeline=pipeline, static_dir=None)
    return app, live_server(app)


def test_a_client_that_disconnects_mid_stream_stops_generation(fake_index: Settings) -> None:
    generator = GatedGenerator(words=2000, interval_s=0.005)
    generator.gate.set()
    app, server = served(fake_index, generator)
    with server as url, httpx.Client(base_url=url, timeout=WAIT_S) as client:
        with client.stream(
            "POST", "/api/ask", json={"question": FAKE_QUESTION, "stream": True}
        ) as response:
            for line in response.iter_lines():
                if line == "event: token":
                    break
        assert generator.closed.wait(WAIT_S), "generation went on after the client left"
        assert generator.written < generator.words
        deadline = time.monotonic() + WAIT_S
        while app.state.service.generation.admitted and time.monotonic() < deadline:
            time.sleep(0.01)
        assert app.state.service.generation.admitted == 0, "its queue place was given back"
        # The model is free again: the next question is answered in full.
        generator.words = 3
        answer = client.post("/api/ask", json={"question": FAKE_QUESTION}).json()
        assert answer["mode"] in ("generated", "extractive")


def test_a_client_that_leaves_while_waiting_for_its_turn_never_generates(
    fake_index: Settings,
) -> None:
    generator = GatedGenerator(words=3)
    app, server = served(fake_index, generator)
    ask = {"question": FAKE_QUESTION, "stream": True}
    with (
        server as url,
        httpx.Client(base_url=url, timeout=WAIT_S) as client,
        ThreadPoolExecutor(1) as pool,
    ):
        first = pool.submit(client.post, "/api/ask", json=ask)
        assert generator.generating.acquire(timeout=WAIT_S)
        with client.stream("POST", "/api/ask", json=ask) as waiting:
            assert next(waiting.iter_lines()) == "event: passages"
        deadline = time.monotonic() + WAIT_S
        while app.state.service.generation.admitted > 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert app.state.service.generation.admitted == 1, "the leaver's place is free at once"
        generator.gate.set()
        assert parse_sse(first.result().text)[-1].name == "done"
        time.sleep(0.2)
        assert generator.calls == 1


def test_a_full_queue_answers_503_with_retry_after_and_frees_up(fake_index: Settings) -> None:
    settings = fake_index.model_copy(update={"queue_size": 2})
    generator = GatedGenerator(words=3)
    app, server = served(settings, generator)
    ask = {"question": FAKE_QUESTION, "stream": True}
    with server as url, httpx.Client(base_url=url, timeout=WAIT_S) as client:
        with ThreadPoolExecutor(2) as pool:
            first = pool.submit(client.post, "/api/ask", json=ask)
            assert generator.generating.acquire(timeout=WAIT_S), "first request generates"
            second = pool.submit(client.post, "/api/ask", json=ask)
            deadline = time.monotonic() + WAIT_S
            while app.state.service.generation.admitted < 2 and time.monotonic() < deadline:
                time.sleep(0.01)

            refused = client.post("/api/ask", json={"question": FAKE_QUESTION})
            assert refused.status_code == 503
            assert int(refused.headers["Retry-After"]) >= 1
            assert refused.json()["rule"] == "queue_full"
            chat = client.post(
                "/v1/chat/completions", json={"messages": [{"role": "user", "content": "Hi?"}]}
            )
            assert chat.status_code == 503 and chat.headers["Retry-After"]
            assert chat.json()["error"]["code"] == "queue_full"

            generator.gate.set()
            for future in (first, second):
                events = parse_sse(future.result().text)
                assert [e.name for e in events][-1] == "done"
        # Given back before the responses ended, so a client may ask again at once.
        assert app.state.service.generation.admitted == 0
        again = client.post("/api/ask", json={"question": FAKE_QUESTION})
        assert again.status_code == 200


def test_retrieval_only_requests_never_wait_behind_generation(fake_index: Settings) -> None:
    generator = GatedGenerator(words=3)
    _app, server = served(fake_index, generator)
    ask = {"question": FAKE_QUESTION, "stream": True}
    with (
        server as url,
        httpx.Client(base_url=url, timeout=WAIT_S) as client,
        httpx.Client(base_url=url, timeout=2) as quick,
        ThreadPoolExecutor(2) as pool,
    ):
        generating = pool.submit(client.post, "/api/ask", json=ask)
        assert generator.generating.acquire(timeout=WAIT_S)
        waiting = pool.submit(client.post, "/api/ask", json=ask)
        # One request is stuck generating and another waits for its turn, yet:
        assert quick.get("/api/passages/gcm-unece-2020%23p22").status_code == 200
        assert quick.get("/api/documents").status_code == 200
        health = quick.get("/api/health").json()
        assert health["ready"] is True
        assert health["queue"]["admitted"] == 2
        assert not generating.done() and not waiting.done()
        generator.gate.set()
        second = parse_sse(waiting.result().text)
        assert second[0].name == "passages" and second[-1].name == "done"
        assert parse_sse(generating.result().text)[-1].name == "done"
