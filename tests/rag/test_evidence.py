"""Evidence selection: a best sentence runs on into the sentence that finishes it; which
documents answer a question asking which reports say something."""

from __future__ import annotations

from dataclasses import replace

from rag.evidence import counts_the_counted_thing, documents_answering, with_continuation
from rag.factory import build_embedder, load_configured_index
from rag.questions import profile_question
from rag.retrieval import Retriever
from rag.settings import Settings
from rag.text import split_sentences
from rag.types import Evidence, Passage
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


def test_a_document_answers_when_nearly_as_relevant_or_holding_the_subjects_words(
    fake_index: Settings,
) -> None:
    retriever = Retriever(load_configured_index(fake_index), build_embedder(fake_index))
    sentences = {
        "about-it": ("A health firewall keeps patients' data from immigration officers.", 0.8),
        "close": ("Clinics may not pass data to immigration officers.", 0.65),
        "in-passing": ("Freedonia may copy the health firewall of its neighbour.", 0.5),
        "reports-only": ("This review reports and mentions remittances.", 0.5),
        "unrelated": ("Seasonal workers came from Sylvania.", 0.4),
    }
    evidence = [
        Evidence(Passage(f"{doc}#p1", doc, doc, None, text, 0, len(text), "h"), text, rel, rel)
        for doc, (text, rel) in sentences.items()
    ]
    question = "Which reports mention a health firewall?"

    answering = documents_answering(question, evidence, retriever)
    # Relevance within 75 % of the best, or the subject's words: "reports" and "mentions"
    # are what the question asks of a document, not its subject.
    assert [item.passage.doc_id for item in answering] == ["about-it", "close", "in-passing"]
    assert documents_answering(question, [], retriever) == []


def test_a_count_of_the_counted_thing_counts_its_head_noun(fake_index: Settings) -> None:
    embedder = build_embedder(fake_index)
    permits = profile_question("How many seasonal work permits did Zembla issue in 2020?")
    assert counts_the_counted_thing(
        permits, "Zembla issued 13,900 seasonal work permits.", embedder
    )
    assert counts_the_counted_thing(permits, "It issued 900 permits for seasonal work.", embedder)
    # "seasonal" describes both; the phrase's last word says what is counted.
    assert not counts_the_counted_thing(
        permits, "In 2020, 15,000 Zemblan seasonal workers were employed abroad.", embedder
    )
    assert not counts_the_counted_thing(permits, "Seasonal work permits were issued.", embedder)
    # A question that counts nothing asks nothing of the sentence.
    assert counts_the_counted_thing(
        profile_question("When did Zembla issue seasonal work permits?"), "No count.", embedder
    )
