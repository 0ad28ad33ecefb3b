"""The local GGUF generator on the bundled model."""

from __future__ import annotations

import pytest

from rag.generation import GeneratorConfig
from rag.generation.llama_cpp import LlamaCppGenerator
from rag.pipeline import Pipeline
from rag.prompting import SYSTEM_PROMPT, build_messages
from tests.conftest import one_passage

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


def messages_for(question: str, source: str) -> list[dict[str, str]]:
    """The prompt asking `question` over `source` as its only evidence."""
    _, _, evidence = one_passage(source)
    return build_messages(question, [evidence])


def generated(pipeline: Pipeline, question: str, source: str) -> str:
    """The model's raw text for `question` over one source, at most 40 tokens."""
    return "".join(pipeline.generator.stream_chat(messages_for(question, source), 40))


def test_the_model_text_does_not_depend_on_the_prompt_before(real_pipeline: Pipeline) -> None:
    question = "Which towns opened winter shelters?"
    source = "Lund and Tartu opened winter shelters for arriving families in 2019."
    first = generated(real_pipeline, question, source)
    generated(real_pipeline, "Who convened the meeting?", "The Network convened the meeting.")
    assert generated(real_pipeline, question, source) == first
    # A new generator (its own prefix, evaluated anew) writes the same text.
    fresh = LlamaCppGenerator(GeneratorConfig())
    assert "".join(fresh.stream_chat(messages_for(question, source), 40)) == first


def test_every_prompt_opens_with_the_cached_system_prompt_prefix(real_pipeline: Pipeline) -> None:
    generator = real_pipeline.generator
    assert isinstance(generator, LlamaCppGenerator)
    generated(real_pipeline, "Who convened the meeting?", "The Network convened the meeting.")
    assert generator._prefix is not None
    system, prefix = generator._prefix
    assert system == SYSTEM_PROMPT
    llama = generator._llama
    # The prefix covers the system prompt, and the prompt just evaluated starts with it, so
    # only the tokens after it were evaluated for this question.
    assert SYSTEM_PROMPT.encode() in llama.detokenize(prefix)
    assert list(llama.input_ids[: len(prefix)]) == prefix
    assert llama.n_tokens > len(prefix)
