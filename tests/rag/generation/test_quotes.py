"""The "quotes" backend: no model, so every answer is the evidence quoted, and every refusal
is the one the pipeline makes before generation."""

from __future__ import annotations

from rag.factory import build_pipeline
from rag.settings import Settings
from tests.conftest import REGULARISATION_TEXT

QUESTION = "Which states instituted regularisation in the pandemic?"


def test_an_answer_quotes_the_evidence_with_no_model(fake_index: Settings) -> None:
    quoting = build_pipeline(fake_index.model_copy(update={"generator": "quotes"}))
    answer = quoting.ask(QUESTION)
    assert (answer.model, answer.mode, answer.abstained) == ("quotes", "extractive", False)
    assert any(REGULARISATION_TEXT in citation.text for citation in answer.citations)
    assert all(citation.quote in citation.text for citation in answer.citations)
    # Nothing was streamed, so the first token is the whole answer.
    assert answer.timings_ms["first_token"] == answer.timings_ms["total"]
    # The same evidence the model's text would be checked against, quoted as its fallback.
    generating = build_pipeline(fake_index)

    def unsupported(messages, max_tokens, stop=None):  # type: ignore[no-untyped-def]
        yield "Bananas are rich in potassium."

    generating.generator.stream_chat = unsupported  # type: ignore[method-assign]
    fallback = generating.ask(QUESTION)
    assert (answer.answer, answer.citations) == (fallback.answer, fallback.citations)


def test_refusals_are_the_pipelines_own(fake_index: Settings) -> None:
    quoting = build_pipeline(fake_index.model_copy(update={"generator": "quotes"}))
    refused = quoting.ask("What did Denmark report about family reunification?")
    assert refused.abstained
    assert refused.abstention_reason == "the closest passages do not mention Denmark"
