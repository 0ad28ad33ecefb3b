"""Evidence selection: the few sentences of the retrieved passages that answer the question.

The bundled model reads about 240 prompt tokens a second, so the prompt carries sentences,
not whole paragraphs: fewer tokens before the first word, and less for a small model to
parrot. Each sentence is a verbatim substring of its passage, so it can be quoted as is.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rag.embedding import Embedder
from rag.text import content_terms, split_sentences, words
from rag.types import Evidence, Hit

# Sentences shorter than this are page-break fragments or headings, not evidence.
MIN_SENTENCE_WORDS = 4
# Relevance weights: the sentence's own similarity to the question, the share of the
# question's content words it contains, and the retrieval rank of its passage (a sentence
# that names the answer often shares few words with the question; its paragraph does, and
# hybrid retrieval ranked the paragraph with both signals).
SENTENCE_WEIGHT = 0.45
COVERAGE_WEIGHT = 0.25
PASSAGE_WEIGHT = 0.30


def lexical_coverage(question_terms: Sequence[str], sentence: str) -> float:
    """Share of the question's distinct content terms that occur in `sentence`."""
    wanted = set(question_terms)
    if not wanted:
        return 0.0
    return len(wanted & set(content_terms(sentence))) / len(wanted)


def select_evidence(
    question: str, hits: Sequence[Hit], embedder: Embedder, max_sentences: int
) -> list[Evidence]:
    """The `max_sentences` most relevant sentences of `hits`, most relevant first.

    Relevance (0..1) mixes the embedding similarity of sentence and question with the share
    of the question's content words the sentence contains.
    """
    candidates: list[tuple[Hit, str]] = []
    seen: set[str] = set()
    for hit in hits:
        for sentence in split_sentences(hit.passage.text):
            if len(words(sentence)) >= MIN_SENTENCE_WORDS and sentence not in seen:
                seen.add(sentence)
                candidates.append((hit, sentence))
    if not candidates:
        return []
    vectors = embedder.embed([question] + [sentence for _, sentence in candidates])
    sentence_similarity = np.clip(vectors[1:] @ vectors[0], 0.0, 1.0)
    question_terms = content_terms(question)
    scored = []
    for (hit, sentence), similarity in zip(candidates, sentence_similarity, strict=True):
        match = SENTENCE_WEIGHT * float(similarity) + COVERAGE_WEIGHT * lexical_coverage(
            question_terms, sentence
        )
        scored.append(
            Evidence(
                passage=hit.passage,
                sentence=sentence,
                relevance=match + PASSAGE_WEIGHT / (1 + hit.rank),
                match=match / (SENTENCE_WEIGHT + COVERAGE_WEIGHT),
            )
        )
    scored.sort(key=lambda evidence: -evidence.relevance)
    return scored[:max_sentences]
