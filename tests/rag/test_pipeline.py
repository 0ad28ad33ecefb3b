"""The pipeline with deterministic components: event order, abstention, the answer contract."""

from __future__ import annotations

import pytest

from rag.citations import check_citations
from rag.errors import InvalidQuestionError
from rag.factory import build_pipeline
from rag.pipeline import ABSTENTION_TEXT
from rag.settings import Settings
from tests.conftest import REGULARISATION_TEXT


def test_events_come_in_order_and_done_is_the_answer(fake_index: Settings) -> None:
    pipeline = build_pipeline(fake_index)
    events = list(pipeline.stream("Which states instituted regularisation in the pandemic?"))
    kinds = [event.kind for event in events]
    assert kinds[0] == "passages"
    assert kinds[-2:] == ["citations", "done"]
    assert set(kinds[1:-2]) == {"token"}
    answer = events[-1].data
    streamed = "".join(event.data for event in events if event.kind == "token")
    assert answer.mode == "generated"
    # The fake model quotes source [1]; verification keeps it, so the text survives intact.
    assert answer.answer == streamed
    assert answer.citations == events[-2].data


def test_answer_cites_only_retrieved_passages_with_verbatim_quotes(fake_index: Settings) -> None:
    answer = build_pipeline(fake_index).ask(
        "Which states instituted regularisation in the pandemic?"
    )
    payload = answer.to_dict()
    anchors = {passage["anchor"] for passage in payload["passages"]}
    assert check_citations(answer.answer, answer.citations, anchors) == []
    assert any(REGULARISATION_TEXT in c["text"] for c in payload["citations"])
    assert payload["timings_ms"]["total"] >= payload["timings_ms"]["first_token"] > 0


def test_unrelated_question_abstains_without_calling_the_model(fake_index: Settings) -> None:
    pipeline = build_pipeline(fake_index)
    answer = pipeline.ask("What is the recommended dosage of ibuprofen for adults?")
    assert answer.abstained
    assert answer.answer == ABSTENTION_TEXT
    assert answer.citations == ()
    assert pipeline.generator.calls == 0  # type: ignore[attr-defined]
    assert answer.hits, "the closest passages are still offered for reading"


def test_model_text_that_fails_verification_falls_back_to_quotes(fake_index: Settings) -> None:
    pipeline = build_pipeline(fake_index)

    def unsupported(messages, max_tokens, stop=None):  # type: ignore[no-untyped-def]
        yield "Bananas are a fruit rich in potassium."

    pipeline.generator.stream_chat = unsupported  # type: ignore[method-assign]
    answer = pipeline.ask("Which states instituted regularisation in the pandemic?")
    assert answer.mode == "extractive"
    assert "Bananas" not in answer.answer
    assert answer.citations and all(c.quote in c.text for c in answer.citations)


@pytest.mark.parametrize("question", ["", "   \n\t", "x" * 2001])
def test_invalid_questions_are_refused(fake_index: Settings, question: str) -> None:
    with pytest.raises(InvalidQuestionError):
        build_pipeline(fake_index).ask(question)
