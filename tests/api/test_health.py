"""`GET /api/health`, and serving without an index: the app starts, says "not ready", and
answers 503 naming `rag ingest` until an index appears (no restart needed). Whether the
model works is learnt from the model alone: answers made without it prove nothing."""

from __future__ import annotations

from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from rag.errors import RagError
from rag.factory import build_pipeline
from rag.generation.fake import FakeGenerator
from rag.settings import MAX_QUESTION_CHARS, Settings
from tests.api.conftest import FAKE_QUESTION, InventingGenerator
from tests.conftest import ingest_seeds
from tests.rag.test_index import overwrite_middle

# The fix for a server whose index folder lies outside its working folder.
OUTSIDE_FIX = (
    "run 'rag ingest --index-dir DIR' (DIR: the server's index folder, index/) to build it"
)


# Answered without the model: from the reports' own sentences, from the index's records,
# and by refusing.
WHICH_REPORTS_QUESTION = "Which reports mention regularisation?"
COLLECTION_QUESTION = "Which reports do you have?"
OFF_TOPIC_QUESTION = "What is the recommended dosage of ibuprofen for adults?"
OUTAGE_PROBLEM = "cannot reach the generation server at http://127.0.0.1:9/v1 (refused)"
OUTAGE_FIX = "start it, or unset RAG_LLM_URL to generate with the local GGUF"
OUTAGE = f"{OUTAGE_PROBLEM}; {OUTAGE_FIX}"  # as errors and health say it


class OutageGenerator(FakeGenerator):
    """The fake generator behind a server that can go down: while `down`, loading and
    generating fail as they do when the server is unreachable. `attempts` counts the
    generations asked for, and `draft`, when set, is written instead of the fake's answer."""

    def __init__(self, down: bool) -> None:
        super().__init__()
        self.down = down
        self.attempts = 0
        self.draft: str | None = None

    def load(self) -> None:
        if self.down:
            raise RagError(OUTAGE_PROBLEM, OUTAGE_FIX)

    def stream_chat(
        self, messages: list[dict[str, str]], max_tokens: int, stop: list[str] | None = None
    ) -> Iterator[str]:
        self.attempts += 1
        if self.down:
            raise RagError(OUTAGE_PROBLEM, OUTAGE_FIX)
        if self.draft is None:
            yield from super().stream_chat(messages, max_tokens, stop)
        else:
            yield self.draft


def serving(settings: Settings, generator: OutageGenerator) -> TestClient:
    """A client of the app over `settings`' index, generating with `generator`."""
    pipeline = build_pipeline(settings, generator=generator)
    return TestClient(create_app(settings, pipeline=pipeline, static_dir=None))


def model_health(client: TestClient) -> tuple[bool, bool, str | None]:
    """`ready`, `model_loaded` and the model's problem, from `/api/health`."""
    health = client.get("/api/health").json()
    return health["ready"], health["model_loaded"], health["problems"].get("model")


def test_health_reports_readiness_versions_and_corpus(client: TestClient) -> None:
    health = client.get("/api/health").json()
    corpus_hash = client.get("/api/documents").json()["corpus_hash"]
    assert health["status"] == "ok" and health["ready"] is True
    assert health["index_loaded"] is True and health["model_loaded"] is True
    assert health["model"] == "fake"
    assert health["generator"] == "fake"
    assert health["corpus_hash"] == corpus_hash
    assert health["documents"] == 1 and health["passages"] > 40
    assert health["versions"]["gcm-rag"] == metadata.version("gcm-rag")
    assert health["versions"]["llama-cpp-python"] == metadata.version("llama-cpp-python")
    assert health["queue"] == {"admitted": 0, "capacity": 8}
    assert health["max_question_chars"] == MAX_QUESTION_CHARS
    assert health["problems"] == {}


def test_without_an_index_the_app_starts_and_points_at_rag_ingest(
    fake_settings: Settings,
) -> None:
    with TestClient(create_app(fake_settings, static_dir=None)) as client:
        health = client.get("/api/health")
        assert health.status_code == 200
        assert health.json()["status"] == "not ready"
        assert health.json()["index_loaded"] is False
        assert "rag ingest" in health.json()["problems"]["index"]

        for response in (
            client.post("/api/ask", json={"question": FAKE_QUESTION}),
            client.get("/api/documents"),
            client.get("/api/passages/gcm-unece-2020%23p1"),
        ):
            assert response.status_code == 503
            error = response.json()
            assert error["rule"] == "index_missing"
            assert error["error"] == "no index at index/"
            # Not plain 'rag ingest', which builds ./index; nor the server's full path.
            assert error["fix"] == OUTSIDE_FIX
        chat = client.post(
            "/v1/chat/completions", json={"messages": [{"role": "user", "content": "Why?"}]}
        )
        assert chat.status_code == 503
        # The fix once, not once from the error's text and again from its `fix`.
        assert chat.json()["error"]["message"] == f"no index at index/; {OUTSIDE_FIX}"

        ingest_seeds(fake_settings)
        assert client.get("/api/health").json()["ready"] is True
        assert client.post("/api/ask", json={"question": FAKE_QUESTION}).status_code == 200


def test_health_names_the_index_folder_without_the_servers_path(
    fake_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Outside the working directory: the folder's name alone, in the field and the problem.
    assert not fake_settings.index_dir.resolve().is_relative_to(Path.cwd())
    with TestClient(create_app(fake_settings, static_dir=None)) as client:
        response = client.get("/api/health")
        health = response.json()
        assert health["index"] == "index"
        assert health["problems"]["index"] == f"no index at index/; {OUTSIDE_FIX}"
        assert str(fake_settings.index_dir) not in response.text
    # Inside it: relative to it, as an operator would type it.
    monkeypatch.chdir(fake_settings.index_dir.parent.parent)
    relative = fake_settings.index_dir.relative_to(Path.cwd()).as_posix()
    with TestClient(create_app(fake_settings, static_dir=None)) as client:
        health = client.get("/api/health").json()
        assert health["index"] == relative and "/" in relative
        assert health["problems"]["index"] == (
            f"no index at {relative}/; run 'rag ingest --index-dir {relative}/' to build it"
        )


def test_without_the_default_index_the_fix_is_plain_rag_ingest(
    fake_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(fake_settings.index_dir.parent)
    settings = fake_settings.model_copy(update={"index_dir": Path("index")})
    with TestClient(create_app(settings, static_dir=None)) as client:
        assert client.get("/api/health").json()["problems"]["index"] == (
            "no index at index/; run 'rag ingest' to build it"
        )


def test_a_damaged_index_is_named_without_the_servers_path(fake_index: Settings) -> None:
    vectors = next(fake_index.index_dir.glob("vectors-*.faiss"))
    overwrite_middle(vectors)
    with TestClient(create_app(fake_index, static_dir=None)) as client:
        health = client.get("/api/health")
        assert health.json()["problems"]["index"].startswith(
            f"index/{vectors.name} is corrupt (its SHA-256 differs"
        )
        documents = client.get("/api/documents")
        assert documents.json()["error"].startswith(f"index/{vectors.name} is corrupt")
        for response in (health, documents):
            assert str(fake_index.index_dir) not in response.text


def test_a_model_that_cannot_load_is_reported_not_raised(fake_index: Settings) -> None:
    settings = fake_index.model_copy(
        update={"generator": "llama-cpp", "model_path": str(fake_index.index_dir / "none.gguf")}
    )
    with TestClient(create_app(settings, static_dir=None)) as client:
        health = client.get("/api/health").json()
        assert health["ready"] is False and health["model_loaded"] is False
        assert "none.gguf" in health["problems"]["model"]
        assert client.get("/api/passages/gcm-unece-2020%23p1").status_code == 200
        response = client.post("/api/ask", json={"question": FAKE_QUESTION})
        assert response.status_code == 503
        assert "none.gguf" in response.json()["error"]
        assert "RAG_MODEL_PATH" in response.json()["fix"]
        # The reports are listed from the index's records, without the model: that the
        # answer came does not mean the model works.
        listing = client.post("/api/ask", json={"question": "List the reports"})
        assert listing.status_code == 200 and listing.json()["mode"] == "index"
        health = client.get("/api/health").json()
        assert health["model_loaded"] is False and "none.gguf" in health["problems"]["model"]


def test_an_index_built_with_other_settings_is_a_503_until_rebuilt(fake_index: Settings) -> None:
    settings = fake_index.model_copy(update={"max_passage_tokens": 120})
    with TestClient(create_app(settings, static_dir=None)) as client:
        response = client.get("/api/documents")
        assert response.status_code == 503
        assert response.json()["rule"] == "index_mismatch"
        assert "max_passage_tokens" in response.json()["error"]
        assert "rag ingest" in client.get("/api/health").json()["problems"]["index"]

        ingest_seeds(settings)
        assert client.get("/api/documents").status_code == 200
        assert client.get("/api/health").json()["ready"] is True


def test_answers_made_without_the_model_do_not_report_it_working(fake_index: Settings) -> None:
    generator = OutageGenerator(down=True)
    with serving(fake_index, generator) as client:
        assert model_health(client) == (False, False, OUTAGE)
        modes = []
        for question in (WHICH_REPORTS_QUESTION, COLLECTION_QUESTION, OFF_TOPIC_QUESTION):
            response = client.post("/api/ask", json={"question": question})
            assert response.status_code == 200, response.text
            modes.append(response.json()["mode"])
            assert model_health(client) == (False, False, OUTAGE), question
        assert modes == ["extractive", "index", "abstained"]
        assert generator.attempts == 0

        # The server is back: the first answer the model writes shows it works.
        generator.down = False
        answer = client.post("/api/ask", json={"question": FAKE_QUESTION}).json()
        assert (answer["mode"], generator.attempts) == ("generated", 1)
        assert model_health(client) == (True, True, None)


def test_a_model_failing_after_start_up_is_reported_until_it_answers_again(
    fake_index: Settings,
) -> None:
    generator = OutageGenerator(down=False)
    with serving(fake_index, generator) as client:
        assert model_health(client) == (True, True, None)

        generator.down = True
        failed = client.post("/api/ask", json={"question": FAKE_QUESTION, "stream": True})
        assert failed.text.endswith(f'event: error\ndata: {{"error": "{OUTAGE}"}}\n\n')
        assert model_health(client) == (False, False, OUTAGE)
        # A list of the reports, which needs no model, does not hide the failure.
        listing = client.post("/api/ask", json={"question": WHICH_REPORTS_QUESTION})
        assert listing.json()["mode"] == "extractive"
        assert model_health(client) == (False, False, OUTAGE)

        generator.down = False
        assert client.post("/api/ask", json={"question": FAKE_QUESTION}).status_code == 200
        assert model_health(client) == (True, True, None)


def test_a_model_answer_replaced_by_quoted_evidence_still_shows_the_model_works(
    fake_index: Settings,
) -> None:
    generator = OutageGenerator(down=True)
    with serving(fake_index, generator) as client:
        generator.down = False
        # Verification drops the invented claim and quotes the best evidence instead; the
        # model wrote, all the same.
        generator.draft = InventingGenerator.DRAFT
        answer = client.post("/api/ask", json={"question": FAKE_QUESTION}).json()
        assert (answer["mode"], generator.attempts) == ("extractive", 1)
        assert model_health(client) == (True, True, None)
