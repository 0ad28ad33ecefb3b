"""Evidence selection: a best sentence runs on into the sentence that finishes it."""

from __future__ import annotations

from dataclasses import replace

from rag.evidence import with_continuation
from rag.text import split_sentences
from rag.types import Evidence
from tests.conftest import one_passage

CONCERN = (
    "The Inspector of Borders voiced concern about complaints from arrivals at the coast. "
    "She specifically called for an end to detention of families.\n"
    "It was noted that ports had reopened in June."
)


def best_of(text: str, sentence: int) -> tuple[Evidence, list[str]]:
    """Sentence number `sentence` of a one-passage text as the best evidence."""
    sentences = split_sentences(text)
    _, _, whole = one_passage(text)
    return replace(whole, sentence=sentences[sentence]), sentences


def test_a_pronoun_sentence_that_answers_is_quoted_with_the_one_before() -> None:
    best, sentences = best_of(CONCERN, 0)
    question = "What did the Inspector of Borders specifically call for?"
    extended = with_continuation(best, sentences, question)
    assert extended.sentence == (
        "The Inspector of Borders voiced concern about complaints from arrivals at the coast. "
        "She specifically called for an end to detention of families."
    )
    assert extended.sentence in best.passage.text
    assert (extended.relevance, extended.match) == (best.relevance, best.match)


def test_a_continuation_adding_nothing_the_question_asks_is_left_out() -> None:
    best, sentences = best_of(CONCERN, 0)
    question = "Who voiced concern about complaints from arrivals at the coast?"
    assert with_continuation(best, sentences, question) == best


def test_it_was_noted_opens_a_new_point() -> None:
    best, sentences = best_of(CONCERN, 1)
    question = "When had the ports reopened?"
    assert with_continuation(best, sentences, question) == best


def test_a_definite_noun_continues_the_sentence_that_introduced_it() -> None:
    text = (
        "In May the agency published a note on safeguards at land borders. "
        "The note aims to help ministries facing public health challenges."
    )
    best, sentences = best_of(text, 0)
    extended = with_continuation(best, sentences, "Which challenges does the May note address?")
    assert extended.sentence == text
    unrelated = "In May the agency published a note on safeguards. The weather was mild."
    best, sentences = best_of(unrelated, 0)
    assert with_continuation(best, sentences, "What was the weather in May?") == best


def test_the_last_sentence_of_a_passage_has_no_continuation() -> None:
    best, sentences = best_of(CONCERN, 2)
    assert with_continuation(best, sentences, "What happened to the ports in June?") == best


def test_a_new_paragraph_is_no_continuation() -> None:
    best, sentences = best_of(CONCERN.replace("coast. ", "coast.\n\n"), 0)
    question = "What did the Inspector of Borders specifically call for?"
    assert with_continuation(best, sentences, question) == best
