"""Retrieval over the index: dense (FAISS), lexical (BM25 with bm25s) or both fused by
their normalised scores.

Dense scores a passage by the better of its own similarity and its best sentence's: a
paragraph covering several topics is far from a question that one of its sentences answers.
BM25 finds the paragraph for questions in the report's own words; it is weighted in the
fusion by how much of the question its best passage contains, so that a paraphrase, which
shares few words with the report, is ranked by meaning rather than by stray word matches.

The two are fused by their scores, each scaled to its list, not by their ranks: when BM25
scores one paragraph three times above any other, that margin is the evidence, and rank
fusion throws it away ("Which states regularised migrants?" left the one paragraph naming
them sixth, behind paragraphs that dense and BM25 both ranked third or fourth). A convex
combination of normalised scores also beats rank fusion in the comparison of Bruch et al.
(2023, "An Analysis of Fusion Functions for Hybrid Retrieval").

A question may be limited to some documents: both rankings then hold only their passages,
filtered before either is cut to its depth, so that a small report among large ones is
still ranked in full. Term statistics (BM25's and `idf`) stay those of the whole corpus: a
word is as rare or as common whichever reports are searched.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Sequence
from functools import lru_cache
from typing import Any, get_args

import numpy as np

from rag.embedding import Embedder
from rag.errors import RagError, UnknownDocumentError
from rag.index import PassageIndex
from rag.mentions import mentions_any, missing_literals
from rag.questions import profile_question
from rag.settings import RetrievalMode
from rag.text import content_terms
from rag.types import Hit

RETRIEVAL_MODES: tuple[str, ...] = get_args(RetrievalMode)
# BM25's fusion weight is LEXICAL_WEIGHT × (share of the question's terms in its best
# passage) ** LEXICAL_CONFIDENCE_POWER: near LEXICAL_WEIGHT for a question in the report's
# words, near 0 for a paraphrase. The power was chosen on the dev split; the weight on the
# development sets dev to dev5, where the mean MRR rises from 1 to 2 and stays level to 4.
LEXICAL_CONFIDENCE_POWER = 2
LEXICAL_WEIGHT = 3.0
# How many times deeper the ranking goes when each document's best passage is wanted.
PER_DOCUMENT_DEPTH = 5
# "Objective 12", "Roundtable 3", "resolution 73/195": a word and its number form one term,
# so that numbered references match as a unit rather than as two common words.
_NUMBERED_REFERENCE = re.compile(r"\b([A-Za-z]{3,})\s+(\d+(?:[./]\d+)*)\b")


# "COVID-19", "H-2": a number joined to a word by a hyphen is part of its name, not a term
# of its own; "COVID-19" then weighs in a question as "COVID" does.
_NAME_NUMBER = re.compile(r"\b([A-Za-z]{2,})-\d+\b")


def lexical_terms(text: str) -> list[str]:
    """BM25 terms: stemmed content words plus one term per numbered reference."""
    references = [f"{word.lower()}#{number}" for word, number in _NUMBERED_REFERENCE.findall(text)]
    return content_terms(_NAME_NUMBER.sub(r"\1", text)) + references


class Retriever:
    """Ranks the passages of one loaded index for a question."""

    def __init__(self, index: PassageIndex, embedder: Embedder, mode: str = "hybrid") -> None:
        if mode not in RETRIEVAL_MODES:
            raise RagError(
                f"unknown retrieval mode '{mode}'", f"use one of: {', '.join(RETRIEVAL_MODES)}"
            )
        self.index = index
        self.embedder = embedder
        self.mode = mode
        self._bm25: Any = None
        self._passage_frequencies: dict[str, int] | None = None
        self._common_words: frozenset[str] | None = None
        self._proper_forms: dict[str, str] | None = None
        self._document_titles: frozenset[str] | None = None
        self._positions_by_document: dict[str, list[int]] | None = None
        # The question is embedded once and shared with evidence selection.
        self.query_vector = lru_cache(maxsize=64)(self._embed_query)

    def chosen_documents(self, documents: Collection[str] | None) -> frozenset[str] | None:
        """`documents` as a set of indexed document ids, or None (every document) when none
        are given; `UnknownDocumentError` naming the ids the index does not hold."""
        if not documents:
            return None
        chosen = frozenset(documents)
        unknown = sorted(chosen - self.index.documents.keys())
        if unknown:
            raise UnknownDocumentError(unknown, sorted(self.index.documents))
        return chosen

    def retrieve(
        self,
        question: str,
        k: int,
        one_per_document: bool = False,
        about: Sequence[str] = (),
        documents: Collection[str] | None = None,
    ) -> list[Hit]:
        """The `k` best passages for `question`, best first; with `one_per_document`, the
        best passage of each document first ("Which reports mention…?" is answered from
        every document that does, not from the five passages of the one that says most);
        with `about`, the passages of documents whose title names one of those names, or
        that name one themselves, first (see `rag.mentions.names_of_some_documents`).
        With `documents` (ids), only passages of those documents; None or empty: all."""
        depth = max(4 * k, 20)
        if one_per_document:
            # Deep enough to reach documents that mention the subject once, in passing.
            depth *= PER_DOCUMENT_DEPTH
        positions = self.positions_of(documents)
        if self.mode == "dense":
            ranking = self.dense(question, depth, positions)
        elif self.mode == "bm25":
            ranking = self.lexical(question, depth, positions)
        else:
            lexical = self.lexical(question, depth, positions)
            confidence = self.lexical_confidence(question, lexical)
            ranking = fuse_scores(
                [self.dense(question, depth, positions), lexical],
                weights=[1.0, LEXICAL_WEIGHT * confidence**LEXICAL_CONFIDENCE_POWER],
                floors=[None, 0.0],
            )
        ranking = self.stating_references_first(question, ranking)
        if about:
            ranking = self.about_first(about, ranking)
        if one_per_document:
            ranking = self.best_of_each_document_first(ranking)
        return [
            Hit(passage=self.index.passages[position], score=score, rank=rank)
            for rank, (position, score) in enumerate(ranking[:k])
        ]

    def stating_references_first(
        self, question: str, ranking: list[tuple[int, float]]
    ) -> list[tuple[int, float]]:
        """`ranking` with the passages whose own text states the question's numbered
        references ("Objective 12") moved ahead, in their order. Neither signal finds them
        alone: the reference embeds like any number, and BM25 also matches every passage
        filed under that heading, where the shorter ones win."""
        references = profile_question(question).references
        if not references:
            return ranking
        # A stable sort: stating passages first, each group in its own order.
        return sorted(
            ranking,
            key=lambda item: bool(
                missing_literals(references, [self.index.passages[item[0]].text])
            ),
        )

    def about_first(
        self, names: Sequence[str], ranking: list[tuple[int, float]]
    ) -> list[tuple[int, float]]:
        """`ranking` with the passages that are about one of `names` (by their document's
        title, their section or their text) moved ahead, each group in its order."""

        def is_about(position: int) -> bool:
            passage = self.index.passages[position]
            return mentions_any(names, passage.labelled(passage.text))

        return sorted(ranking, key=lambda item: not is_about(item[0]))

    def document_titles(self) -> frozenset[str]:
        """The titles of the indexed documents."""
        if self._document_titles is None:
            self._document_titles = frozenset(p.doc_title for p in self.index.passages)
        return self._document_titles

    def best_of_each_document_first(
        self, ranking: list[tuple[int, float]]
    ) -> list[tuple[int, float]]:
        """`ranking` with the first passage of each document moved ahead, in their order."""
        seen: set[str] = set()
        leading: list[tuple[int, float]] = []
        following: list[tuple[int, float]] = []
        for item in ranking:
            document = self.index.passages[item[0]].doc_id
            (following if document in seen else leading).append(item)
            seen.add(document)
        return leading + following

    def positions_of(self, documents: Collection[str] | None) -> list[int] | None:
        """The positions of the passages of `documents`, in index order; None (no limit)
        when no documents are given. Ids the index does not hold have no passages."""
        if not documents:
            return None
        if self._positions_by_document is None:
            by_document: dict[str, list[int]] = {}
            for position, passage in enumerate(self.index.passages):
                by_document.setdefault(passage.doc_id, []).append(position)
            self._positions_by_document = by_document
        return sorted(
            position
            for doc_id in set(documents)
            for position in self._positions_by_document.get(doc_id, [])
        )

    def dense(
        self, question: str, depth: int, positions: Sequence[int] | None = None
    ) -> list[tuple[int, float]]:
        """Passages by max(passage similarity, best sentence similarity); with `positions`,
        only those passages."""
        vector = self.query_vector(question)
        sentence_best = self.index.search_sentences(vector)
        if positions is None:
            best = dict(self.index.search(vector, min(depth, len(self.index.passages))))
        else:
            # Every chosen passage is compared: the nearest `depth` of the whole index, then
            # filtered, could hold none of a small document's passages.
            self.index.check_dimension(vector)
            similarities = self.index.vectors[list(positions)] @ vector.astype(np.float32)
            best = {p: float(s) for p, s in zip(positions, similarities, strict=True)}
            sentence_best = {p: s for p, s in sentence_best.items() if p in best}
        for position, similarity in sentence_best.items():
            if similarity > best.get(position, -2.0):
                best[position] = similarity
        return sorted(best.items(), key=lambda item: (-item[1], item[0]))[:depth]

    def lexical(
        self, question: str, depth: int, positions: Sequence[int] | None = None
    ) -> list[tuple[int, float]]:
        """BM25 ranking; passages with no shared term are left out, and with `positions`
        every passage but those."""
        terms = lexical_terms(question)
        if not terms or not self.index.passages:
            return []
        scores = np.asarray(self._bm25_model().get_scores(terms))
        if positions is not None:
            chosen = np.zeros(len(scores), dtype=bool)
            chosen[list(positions)] = True
            scores = np.where(chosen, scores, 0.0)
        order = np.argsort(-scores, kind="stable")[:depth]
        return [
            (int(position), float(scores[position])) for position in order if scores[position] > 0
        ]

    def lexical_confidence(self, question: str, lexical: Sequence[tuple[int, float]]) -> float:
        """IDF-weighted share of the question's terms found in the best BM25 passage (0..1)."""
        if not lexical:
            return 0.0
        passage = self.index.passages[lexical[0][0]]
        return self.weighted_coverage(lexical_terms(question), lexical_terms(passage.headed_text))

    def weighted_coverage(self, wanted: Sequence[str], found: Sequence[str]) -> float:
        """Share of `wanted`'s distinct terms present in `found`, each weighted by its
        inverse document frequency: a rare word of the question ("regularised") counts for
        more than one found in every passage ("states")."""
        wanted_set = set(wanted)
        if not wanted_set:
            return 0.0
        total = sum(self.idf(term) for term in wanted_set)
        return sum(self.idf(term) for term in wanted_set & set(found)) / total

    def common_words(self) -> frozenset[str]:
        """The words the corpus writes in lower case somewhere: what a capitalised word can
        be besides a name (a heading's "Objectives", "the Network")."""
        if self._common_words is None:
            self._common_words = frozenset(
                word
                for passage in self.index.passages
                for word in re.findall(r"\b[a-z][a-z'’-]*[a-z]\b", passage.text)
            )
        return self._common_words

    def proper_forms(self) -> dict[str, str]:
        """The words the corpus never writes in lower case, each in lower case mapped to the
        form the corpus writes most ("unece" → "UNECE", "italy" → "Italy")."""
        if self._proper_forms is None:
            counts: dict[str, dict[str, int]] = {}
            common = self.common_words()
            for passage in self.index.passages:
                for word in re.findall(r"\b[A-Za-z][A-Za-z'’]*\b", passage.text):
                    if word.lower() not in common:
                        forms = counts.setdefault(word.lower(), {})
                        forms[word] = forms.get(word, 0) + 1
            self._proper_forms = {
                lower: max(forms, key=lambda form: forms[form]) for lower, forms in counts.items()
            }
        return self._proper_forms

    def idf(self, term: str) -> float:
        """Smoothed inverse passage frequency of a lexical term (terms unseen get the most)."""
        count = len(self.index.passages)
        return math.log((count + 1) / (self._passage_frequency().get(term, 0) + 0.5))

    def uses(self, word: str) -> bool:
        """Whether the corpus uses `word`, in any form its stem covers ("ministers" for
        "minister")."""
        terms = lexical_terms(word)
        return bool(terms) and all(term in self._passage_frequency() for term in terms)

    def _passage_frequency(self) -> dict[str, int]:
        """How many passages hold each lexical term."""
        if self._passage_frequencies is None:
            frequency: dict[str, int] = {}
            for passage in self.index.passages:
                for seen in set(lexical_terms(passage.headed_text)):
                    frequency[seen] = frequency.get(seen, 0) + 1
            self._passage_frequencies = frequency
        return self._passage_frequencies

    def _embed_query(self, question: str) -> np.ndarray:
        return self.embedder.embed([question])[0]

    def _bm25_model(self) -> Any:
        if self._bm25 is None:
            import bm25s

            corpus = [lexical_terms(p.headed_text) or ["-"] for p in self.index.passages]
            model = bm25s.BM25()
            model.index(corpus, show_progress=False)
            self._bm25 = model
        return self._bm25


def fuse_scores(
    rankings: Sequence[Sequence[tuple[int, float]]],
    weights: Sequence[float],
    floors: Sequence[float | None],
) -> list[tuple[int, float]]:
    """Weighted sum of each ranking's scores, each scaled to 0..1 within its ranking: from
    the ranking's `floor` (None: its lowest score) to its highest score. An item a ranking
    lacks scores 0 there. Best first, ties by position.

    BM25 has a true floor, 0 (no term shared); cosine similarities in the top of a ranking
    have none that means anything, so the dense ranking is scaled from its own lowest."""
    fused: dict[int, float] = {}
    for ranking, weight, floor in zip(rankings, weights, floors, strict=True):
        if not ranking:
            continue
        scores = [score for _position, score in ranking]
        low = min(scores) if floor is None else floor
        span = max(scores) - low
        for position, score in ranking:
            scaled = (score - low) / span if span > 0 else 1.0
            fused[position] = fused.get(position, 0.0) + weight * scaled
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))
