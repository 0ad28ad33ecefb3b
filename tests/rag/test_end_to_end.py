"""End to end on the real bundled models: MiniLM embeddings, FAISS, SmolLM2-135M GGUF."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from rag.citations import CITATION_MARKER
from rag.pipeline import Pipeline
from rag.settings import Settings
from rag.text import normalise_whitespace
from tests.conftest import HEADLINE_QUESTION, REGULARISATION_TEXT

pytestmark = pytest.mark.integration

QUESTIONS = [
    HEADLINE_QUESTION,
    "How many UNECE member states submitted voluntary reports?",
    "What did Portugal do to help migrants obtain a regular status?",
    "Which languages was interpretation available in?",
    "What is the recommended dosage of ibuprofen for adults?",
]


def assert_answer_contract(payload: dict) -> None:  # type: ignore[type-arg]
    """Every [n] resolves, every cited anchor was retrieved, every quote is verbatim."""
    numbers = {citation["n"] for citation in payload["citations"]}
    for marker in CITATION_MARKER.findall(payload["answer"]):
        assert int(marker) in numbers, f"[{marker}] has no citation"
    anchors = {passage["anchor"] for passage in payload["passages"]}
    for citation in payload["citations"]:
        assert citation["anchor"] in anchors
        assert citation["quote"]
        assert normalise_whitespace(citation["quote"]) in normalise_whitespace(citation["text"])
    if not payload["abstained"]:
        assert payload["citations"], "an answer without citations must be an abstention"


@pytest.mark.parametrize(
    "question",
    [
        HEADLINE_QUESTION,
        # As the report writes the pandemic, and in capitals: both were refused once.
        HEADLINE_QUESTION.replace("COVID", "COVID-19"),
        HEADLINE_QUESTION.upper(),
    ],
)
def test_headline_question_names_the_states_and_cites_the_passage(
    real_pipeline: Pipeline, question: str
) -> None:
    payload = real_pipeline.ask(question).to_dict()
    assert not payload["abstained"]
    for state in ("Italy", "Moldova", "Portugal"):
        assert state in payload["answer"]
    assert any(REGULARISATION_TEXT in citation["text"] for citation in payload["citations"])
    assert_answer_contract(payload)


def test_off_topic_question_abstains(real_pipeline: Pipeline) -> None:
    payload = real_pipeline.ask("What is the recommended dosage of ibuprofen for adults?").to_dict()
    assert payload["abstained"] is True
    assert payload["citations"] == []
    assert "do not answer" in payload["answer"]


@pytest.mark.parametrize("question", QUESTIONS)
def test_every_answer_keeps_the_citation_contract(real_pipeline: Pipeline, question: str) -> None:
    assert_answer_contract(real_pipeline.ask(question).to_dict())


def test_cli_json_batch_on_the_real_models(real_settings: Settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    batch = tmp_path / "questions.txt"
    batch.write_text(
        f"{HEADLINE_QUESTION}\nWhat is the recommended dosage of ibuprofen for adults?\n"
    )
    environment = {
        **os.environ,
        "RAG_INDEX_DIR": str(real_settings.index_dir),
        "RAG_SEEDS_DIR": str(real_settings.seeds_dir),
    }
    result = subprocess.run(
        [sys.executable, "-m", "rag.cli", "ask", "--json", "--batch", str(batch)],
        capture_output=True,
        text=True,
        env=environment,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert "Portugal" in first["answer"] and not first["abstained"]
    assert second["abstained"]
    assert first["model"] == "SmolLM2-135M-Instruct.Q4_1.gguf"
