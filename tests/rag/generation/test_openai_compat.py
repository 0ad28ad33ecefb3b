"""The remote generator against a small OpenAI-compatible server on loopback (the real
`python -m llama_cpp.server` run is an integration test in tests/api)."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from rag.factory import build_generator, build_pipeline
from rag.generation import GeneratorConfig
from rag.generation.openai_compat import OpenAICompatibleGenerator, RemoteGeneratorError
from rag.settings import Settings
from tests.conftest import REGULARISATION_TEXT

_SOURCE_LINE = re.compile(r"^\[(\d+)\] (.+)$", re.MULTILINE)
QUESTION = "Which states instituted regularisation in the pandemic?"


class Recorder:
    """What the server saw and how it should answer."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], Any]] = []
        self.fail_with: int | None = None
        self.error_chunk = False
        self.slow_words = 0
        self.aborted = threading.Event()


class Handler(BaseHTTPRequestHandler):
    recorder: Recorder

    def log_message(self, *args: Any) -> None:
        return None

    def do_GET(self) -> None:  # noqa: N802
        self.recorder.requests.append((self.path, dict(self.headers), None))
        self._json(200, {"object": "list", "data": [{"id": "tiny-model"}, {"id": "other"}]})

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.recorder.requests.append((self.path, dict(self.headers), body))
        if self.recorder.fail_with:
            self._json(self.recorder.fail_with, {"error": {"message": "model crashed"}})
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        try:
            for delta in self._deltas(body):
                chunk = {"choices": [{"index": 0, "delta": {"content": delta}}]}
                self._send(f"data: {json.dumps(chunk)}\n\n")
            if self.recorder.error_chunk:
                self._send('data: {"error": {"message": "out of memory"}}\n\n')
            self._send(": keep-alive comment\n\ndata: [DONE]\n\n")
        except (BrokenPipeError, ConnectionResetError):
            self.recorder.aborted.set()

    def _deltas(self, body: dict[str, Any]) -> Iterator[str]:
        if self.recorder.slow_words:
            for _ in range(self.recorder.slow_words):
                time.sleep(0.01)
                yield " word"
            return
        # Like the fake generator: source [1], cited, a word at a time.
        number, sentence = _SOURCE_LINE.findall(body["messages"][-1]["content"])[0]
        words = f"{sentence} [{number}]".split(" ")
        yield words[0]
        for word in words[1:]:
            yield " " + word

    def _send(self, text: str) -> None:
        self.wfile.write(text.encode())
        self.wfile.flush()

    def _json(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def server() -> Iterator[tuple[str, Recorder]]:
    recorder = Recorder()
    handler = type("BoundHandler", (Handler,), {"recorder": recorder})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1", recorder
    httpd.shutdown()
    httpd.server_close()


def test_streams_deltas_and_sends_a_deterministic_request(
    server: tuple[str, Recorder],
) -> None:
    url, recorder = server
    generator = OpenAICompatibleGenerator(GeneratorConfig(llm_url=url, api_key="s3cret"))
    messages = [{"role": "user", "content": "Sources:\n[1] Italy acted.\n\nQuestion: Who?"}]
    assert "".join(generator.stream_chat(messages, max_tokens=40)) == "Italy acted. [1]"
    assert generator.name == "tiny-model"
    (models_path, _h, _b), (chat_path, headers, body) = recorder.requests
    assert (models_path, chat_path) == ("/v1/models", "/v1/chat/completions")
    assert headers["Authorization"] == "Bearer s3cret"
    assert body == {
        "model": "tiny-model",
        "messages": messages,
        "max_tokens": 40,
        "temperature": 0.0,
        "stream": True,
    }


def test_a_configured_model_name_is_sent(server: tuple[str, Recorder]) -> None:
    url, recorder = server
    generator = OpenAICompatibleGenerator(GeneratorConfig(llm_url=url + "/", llm_model="other"))
    list(generator.stream_chat([{"role": "user", "content": "[1] A b c."}], 8))
    assert recorder.requests[-1][2]["model"] == "other"
    assert "Authorization" not in recorder.requests[-1][1]


def test_an_unreachable_server_is_a_clear_error() -> None:
    generator = OpenAICompatibleGenerator(GeneratorConfig(llm_url="http://127.0.0.1:9/v1"))
    with pytest.raises(RemoteGeneratorError) as error:
        generator.load()
    assert "cannot reach the generation server at http://127.0.0.1:9/v1" in str(error.value)
    assert "RAG_LLM_URL" in str(error.value)
    with pytest.raises(RemoteGeneratorError):
        list(generator.stream_chat([{"role": "user", "content": "Hi"}], 8))


def test_a_server_error_status_is_reported_with_its_message(
    server: tuple[str, Recorder],
) -> None:
    url, recorder = server
    recorder.fail_with = 500
    generator = OpenAICompatibleGenerator(GeneratorConfig(llm_url=url))
    with pytest.raises(RemoteGeneratorError) as error:
        list(generator.stream_chat([{"role": "user", "content": "Hi"}], 8))
    assert "answered 500" in str(error.value) and "model crashed" in str(error.value)


def test_an_error_chunk_mid_stream_is_raised(server: tuple[str, Recorder]) -> None:
    url, recorder = server
    recorder.error_chunk = True
    generator = OpenAICompatibleGenerator(GeneratorConfig(llm_url=url))
    with pytest.raises(RemoteGeneratorError, match="out of memory"):
        list(generator.stream_chat([{"role": "user", "content": "[1] A b c."}], 8))


def test_closing_the_stream_early_drops_the_connection(server: tuple[str, Recorder]) -> None:
    url, recorder = server
    recorder.slow_words = 1000
    stream = OpenAICompatibleGenerator(GeneratorConfig(llm_url=url)).stream_chat(
        [{"role": "user", "content": "Hi"}], 1000
    )
    assert next(stream) == " word"
    stream.close()  # type: ignore[attr-defined]
    assert recorder.aborted.wait(10), "the server kept streaming to nobody"


def test_rag_llm_url_selects_the_remote_generator(fake_index: Settings) -> None:
    settings = fake_index.model_copy(update={"llm_url": "http://127.0.0.1:9/v1"})
    assert isinstance(build_generator(settings), OpenAICompatibleGenerator)


def test_remote_answers_are_verified_like_local_ones(
    server: tuple[str, Recorder], fake_index: Settings
) -> None:
    url, _recorder = server
    remote = build_pipeline(fake_index.model_copy(update={"llm_url": url})).ask(QUESTION)
    local = build_pipeline(fake_index).ask(QUESTION)  # the fake generator, same text
    assert remote.model == "tiny-model"
    assert (remote.answer, remote.citations, remote.mode) == (
        local.answer,
        local.citations,
        local.mode,
    )
    assert any(REGULARISATION_TEXT in citation.text for citation in remote.citations)
