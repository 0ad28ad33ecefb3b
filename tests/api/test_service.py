"""The server follows the index on disk: a document removed or changed by `rag docs remove`
or `rag ingest` while it runs is no longer served from the next request on, an answer under
way finishes on the index it started with, and an index that can no longer be loaded is
refused rather than served from memory."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from rag.docs_cli import remove_documents
from rag.factory import build_pipeline, load_configured_index
from rag.settings import Settings
from tests.api.conftest import (
    FAKE_QUESTION,
    GATE_TIMEOUT_S,
    SYLVANIA_FACT,
    InventingGenerator,
    live_server,
    parse_sse,
)
from tests.conftest import REGULARISATION_TEXT, ingest_seeds

SYLVANIA_QUESTION = "Did Sylvania institute a regularisation programme for migrants?"


def served_documents(client: TestClient) -> list[str]:
    return [document["doc"] for document in client.get("/api/documents").json()["documents"]]


def test_a_document_removed_while_serving_is_no_longer_served(
    two_report_client: TestClient,
    fake_settings: Settings,
    capsys: pytest.CaptureFixture[str],
) -> None:
    client = two_report_client
    service = client.app.state.service  # type: ignore[attr-defined]
    before = client.get("/api/health").json()
    assert before["documents"] == 2
    assert served_documents(client) == ["gcm-unece-2020", "sylvania-review"]
    loaded = service.loaded_pipeline
    client.get("/api/health")
    assert service.loaded_pipeline is loaded  # an unchanged index is not loaded again
    cited = client.post("/api/ask", json={"question": SYLVANIA_QUESTION}).json()
    assert "sylvania-review" in {citation["doc"] for citation in cited["citations"]}

    remove_documents(fake_settings.index_dir, ["sylvania-review"])
    capsys.readouterr()

    health = client.get("/api/health").json()
    assert health["status"] == "ok" and health["documents"] == 1
    assert health["corpus_hash"] == load_configured_index(fake_settings).corpus_hash
    assert health["corpus_hash"] != before["corpus_hash"]
    assert service.loaded_pipeline is not loaded
    assert served_documents(client) == ["gcm-unece-2020"]
    assert client.get("/api/passages/sylvania-review%23p1").status_code == 404
    answer = client.post("/api/ask", json={"question": SYLVANIA_QUESTION}).json()
    assert "sylvania-review" not in {citation["doc"] for citation in answer["citations"]}
    assert all(passage["doc"] != "sylvania-review" for passage in answer["passages"])
    assert SYLVANIA_FACT not in answer["answer"]
    limited = client.post(
        "/api/ask", json={"question": SYLVANIA_QUESTION, "documents": ["sylvania-review"]}
    )
    assert limited.status_code == 422 and limited.json()["rule"] == "unknown_document"


def test_a_report_changed_and_re_ingested_is_served_as_it_now_reads(
    client: TestClient, fake_index: Settings
) -> None:
    first = client.get("/api/passages/gcm-unece-2020%23p1").json()
    report = fake_index.seeds_dir / "gcm-unece-2020.txt"
    text = report.read_text(encoding="utf-8")
    report.write_text(text.replace(first["text"], "Freedonia reported ten new border posts."))
    ingest_seeds(fake_index)
    changed = client.get("/api/passages/gcm-unece-2020%23p1").json()
    assert changed["text"] == "Freedonia reported ten new border posts."
    health = client.get("/api/health").json()
    assert health["corpus_hash"] == load_configured_index(fake_index).corpus_hash


def test_an_index_deleted_or_damaged_while_serving_is_refused_until_rebuilt(
    client: TestClient, fake_index: Settings
) -> None:
    manifest = fake_index.index_dir / "manifest.json"
    saved = manifest.read_text()
    manifest.unlink()
    health = client.get("/api/health").json()
    assert (health["status"], health["index_loaded"]) == ("not ready", False)
    assert health["problems"]["index"].startswith("no index at index/; run 'rag ingest")
    refused = client.post("/api/ask", json={"question": FAKE_QUESTION})
    assert refused.status_code == 503 and refused.json()["rule"] == "index_missing"
    assert client.get("/api/passages/gcm-unece-2020%23p1").status_code == 503

    manifest.write_text(saved.replace('"documents"', '"documents_"'))
    health = client.get("/api/health").json()
    assert health["ready"] is False and "index/ is damaged" in health["problems"]["index"]
    assert client.get("/api/documents").status_code == 503

    ingest_seeds(fake_index)
    assert client.get("/api/health").json()["ready"] is True
    assert client.post("/api/ask", json={"question": FAKE_QUESTION}).status_code == 200


def test_an_answer_under_way_finishes_on_the_index_it_started_with(
    fake_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    (fake_settings.seeds_dir / "sylvania-review.md").write_text(
        f"# Sylvania Review\n\n{SYLVANIA_FACT}\n", encoding="utf-8"
    )
    ingest_seeds(fake_settings)
    old_hash = load_configured_index(fake_settings).corpus_hash
    generator = InventingGenerator()  # holds its draft until the gate opens
    pipeline = build_pipeline(fake_settings, generator=generator)
    app = create_app(fake_settings, pipeline=pipeline, static_dir=None)
    with live_server(app) as url, httpx.Client(base_url=url, timeout=GATE_TIMEOUT_S) as http:
        with ThreadPoolExecutor(1) as pool:
            asked = pool.submit(
                http.post, "/api/ask", json={"question": FAKE_QUESTION, "stream": True}
            )
            try:
                assert generator.drafted.wait(GATE_TIMEOUT_S)
                remove_documents(fake_settings.index_dir, ["gcm-unece-2020"])
                # The next request loads the index without the seed report.
                health = http.get("/api/health").json()
                assert health["documents"] == 1 and health["corpus_hash"] != old_hash
            finally:
                generator.gate.set()
            events = parse_sse(asked.result(timeout=GATE_TIMEOUT_S).text)
        done = events[-1].json()
        assert events[-1].name == "done"
        # Verified and cited against the index it retrieved from.
        assert REGULARISATION_TEXT in done["answer"]
        assert "gcm-unece-2020" in {citation["doc"] for citation in done["citations"]}
        later = http.post("/api/ask", json={"question": FAKE_QUESTION}).json()
        assert all(citation["doc"] != "gcm-unece-2020" for citation in later["citations"])
    capsys.readouterr()
    audited = [json.loads(line) for line in fake_settings.audit_log.read_text().splitlines()]
    new_hash = load_configured_index(fake_settings).corpus_hash
    assert [line["corpus_hash"] for line in audited] == [old_hash, new_hash]


def test_requests_arriving_together_after_a_change_load_the_index_once(
    client: TestClient, fake_index: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    service = client.app.state.service  # type: ignore[attr-defined]
    (fake_index.seeds_dir / "sylvania-review.md").write_text(
        f"# Sylvania Review\n\n{SYLVANIA_FACT}\n", encoding="utf-8"
    )
    ingest_seeds(fake_index)
    start = threading.Barrier(4)

    def documents() -> tuple[int, object]:
        start.wait()
        response = client.get("/api/documents")
        return len(response.json()["documents"]), service.loaded_pipeline

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: documents(), range(4)))
    assert [count for count, _ in results] == [2] * 4
    assert len({id(pipeline) for _, pipeline in results}) == 1
