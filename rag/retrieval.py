"""Retrieval over the index: dense (FAISS), lexical (BM25 with bm25s) or both fused by
reciprocal rank. BM25 finds the paragraph for questions that use the report's words; dense
retrieval finds it for paraphrases; reciprocal-rank fusion needs no score calibration."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from rag.embedding import Embedder
from rag.errors import RagError
from rag.index import PassageIndex
from rag.text import content_terms
from rag.types import Hit

RETRIEVAL_MODES = ("dense", "bm25", "hybrid")
# The constant of reciprocal-rank fusion (Cormack et al. 2009): damps the head of each list.
RRF_K = 60


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

    def retrieve(self, question: str, k: int) -> list[Hit]:
        """The `k` best passages for `question`, best first."""
        depth = max(4 * k, 20)
        if self.mode == "dense":
            ranking = self.dense(question, depth)
        elif self.mode == "bm25":
            ranking = self.lexical(question, depth)
        else:
            ranking = fuse_reciprocal_rank(
                [self.dense(question, depth), self.lexical(question, depth)]
            )
        return [
            Hit(passage=self.index.passages[position], score=score, rank=rank)
            for rank, (position, score) in enumerate(ranking[:k])
        ]

    def dense(self, question: str, depth: int) -> list[tuple[int, float]]:
        vector = self.embedder.embed([question])[0]
        return self.index.search(vector, min(depth, len(self.index.passages)))

    def lexical(self, question: str, depth: int) -> list[tuple[int, float]]:
        """BM25 ranking over stemmed content words; passages with no shared word are left out."""
        terms = content_terms(question)
        if not terms or not self.index.passages:
            return []
        scores = np.asarray(self._bm25_model().get_scores(terms))
        order = np.argsort(-scores, kind="stable")[:depth]
        return [
            (int(position), float(scores[position])) for position in order if scores[position] > 0
        ]

    def _bm25_model(self) -> Any:
        if self._bm25 is None:
            import bm25s

            corpus = [
                content_terms(f"{p.section or ''} {p.text}") or ["-"] for p in self.index.passages
            ]
            model = bm25s.BM25()
            model.index(corpus, show_progress=False)
            self._bm25 = model
        return self._bm25


def fuse_reciprocal_rank(
    rankings: Sequence[Sequence[tuple[int, float]]],
) -> list[tuple[int, float]]:
    """Reciprocal-rank fusion: each item scores Σ 1/(RRF_K + rank) over the rankings."""
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, (position, _score) in enumerate(ranking, start=1):
            fused[position] = fused.get(position, 0.0) + 1.0 / (RRF_K + rank)
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))
