"""A deterministic, dependency-free embedder for tests: hashed bag of stemmed words.

Texts sharing words get similar vectors, so retrieval tests can assert exact rankings
without loading a neural model.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from rag.text import content_terms


class HashingEmbedder:
    """Feature-hashing embedder; `model_name` is kept only for the index manifest."""

    def __init__(self, model_name: str = "hashing", dimension: int = 256) -> None:
        self._model_name = model_name
        self._dimension = dimension

    @property
    def name(self) -> str:
        return self._model_name

    @property
    def dimension(self) -> int:
        return self._dimension

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        vectors = np.zeros((len(texts), self._dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for term in content_terms(text):
                digest = hashlib.blake2b(term.encode(), digest_size=8).digest()
                vectors[row, int.from_bytes(digest[:4], "little") % self._dimension] += 1.0
            norm = np.linalg.norm(vectors[row])
            if norm > 0:
                vectors[row] /= norm
        return vectors
