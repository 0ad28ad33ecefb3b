"""The local GGUF generator on the bundled model."""

from __future__ import annotations

import pytest

from rag.pipeline import Pipeline

pytestmark = pytest.mark.integration


def test_the_same_question_asked_twice_in_a_row_gets_the_same_answer(
    real_pipeline: Pipeline,
) -> None:
    # Before every prompt was evaluated from scratch, the second answer to this question
    # came from a KV cache holding the whole prompt, and differed from the first.
    question = "What is said about migrant smuggling?"
    first = real_pipeline.ask(question)
    second = real_pipeline.ask(question)
    assert (second.answer, second.citations) == (first.answer, first.citations)
