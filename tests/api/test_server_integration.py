"""The API on the real bundled models: a `rag serve` process streaming the headline answer,
eight clients at once against one in-process model, and generation on a remote
`python -m llama_cpp.server` through RAG_LLM_URL. One server process serves all but the last."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from rag.citations import check_citations
from rag.factory import build_pipeline
from rag.models import bundled_gguf_path
from rag.pipeline import Pipeline
from rag.settings import Settings
from rag.types import Citation
from tests.api.conftest import RealServer, free_port, parse_sse, stop_process
from tests.conftest import HEADLINE_QUESTION, REGULARISATION_TEXT, ROOT

pytestmark = pytest.mark.integration

TIMEOUT_S = 600
CONCURRENT_QUESTIONS = [
    HEADLINE_QUESTION,
    "What did Member States report about migrant workers during the pandemic?",
    "How are returns and readmission addressed?",
    "What is said about migrant smuggling?",
]


def test_streamed_headline_answer_comes_in_order_and_cites_the_passage(
    real_server: RealServer,
) -> None:
    with httpx.Client(base_url=real_server.url, timeout=TIMEOUT_S) as client:
        response = client.post("/api/ask", json={"question": HEADLINE_QUESTION, "stream": True})
    assert response.status_code == 200
    events = parse_sse(response.text)
    names = [event.name for event in events]
    assert names[0] == "passages"
    assert names[-1] == "done" and names.count("done") == 1
    assert names[-2] == "citations"
    assert "error" not in names
    assert set(names[1:-2]) <= {"token"}
    answer = events[-1].json()
    anchors = {passage["anchor"] for passage in answer["passages"]}
    assert events[0].json() == answer["passages"]
    citations = [Citation(**citation) for citation in answer["citations"]]
    assert check_citations(answer["answer"], citations, anchors) == []
    assert any(REGULARISATION_TEXT in citation.text for citation in citations)
    assert not answer["abstained"]
    assert answer["model"] == "SmolLM2-135M-Instruct.Q4_1.gguf"
    audited = real_server.audit_log.read_text().splitlines()[-1]
    assert HEADLINE_QUESTION in audited


def test_eight_clients_at_once_each_get_the_serial_answer(real_server: RealServer) -> None:
    def ask(question: str, stream: bool) -> tuple[str, list[str]]:
        with httpx.Client(base_url=real_server.url, timeout=TIMEOUT_S) as client:
            response = client.post("/api/ask", json={"question": question, "stream": stream})
            assert response.status_code == 200, response.text
            answer = parse_sse(response.text)[-1].json() if stream else response.json()
        return answer["answer"], [citation["anchor"] for citation in answer["citations"]]

    serial = {question: ask(question, stream=False) for question in CONCURRENT_QUESTIONS}
    # Each question twice, once streamed and once not: eight clients at the same time.
    requests = [(q, stream) for q in CONCURRENT_QUESTIONS for stream in (False, True)]
    with ThreadPoolExecutor(len(requests)) as pool:
        futures = [pool.submit(ask, question, stream) for question, stream in requests]
        results = [future.result() for future in futures]
    for (question, _stream), result in zip(requests, results, strict=True):
        assert result == serial[question], question


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`python -m llama_cpp.server` with the bundled GGUF on a free loopback port."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("llama-server") / "server.log"
    log = open(log_path, "wb")  # noqa: SIM115  # a file, not a pipe: its log is long
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(bundled_gguf_path()),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            "2048",
        ],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise RuntimeError(log_path.read_text()[-2000:])
            try:
                if httpx.get(f"{url}/models", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("llama_cpp.server did not start")
            time.sleep(0.25)
        yield url
    finally:
        stop_process(process)
        log.close()


def test_a_remote_llama_cpp_server_gives_a_verified_cited_answer(
    llama_server: str,
    real_settings: Settings,
    real_pipeline: Pipeline,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RAG_LLM_URL", llama_server)
    settings = Settings(  # type: ignore[call-arg]
        index_dir=real_settings.index_dir, audit_log=real_settings.audit_log
    )
    # Retrieval and verification here (sharing the loaded embedder and index), generation there.
    pipeline = build_pipeline(
        settings, embedder=real_pipeline.embedder, index=real_pipeline.retriever.index
    )
    with TestClient(create_app(settings, pipeline=pipeline, static_dir=None)) as client:
        health = client.get("/api/health").json()
        assert (health["generator"], health["llm_url"], health["ready"]) == (
            "openai",
            llama_server,
            True,
        )
        response = client.post("/api/ask", json={"question": HEADLINE_QUESTION})
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["model"] == str(bundled_gguf_path())  # the remote server's model id
    assert not answer["abstained"]
    citations = [Citation(**citation) for citation in answer["citations"]]
    anchors = {passage["anchor"] for passage in answer["passages"]}
    assert check_citations(answer["answer"], citations, anchors) == []
    assert any(REGULARISATION_TEXT in citation.text for citation in citations)
