"""Embedding backends behind one `Embedder` protocol, chosen by name from settings."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np

from rag.errors import RagError


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors of a fixed dimension."""

    @property
    def name(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


_EMBEDDERS: dict[str, Callable[[str], Embedder]] = {}


def register_embedder(backend: str, factory: Callable[[str], Embedder]) -> None:
    """Make `factory(model_name)` the embedder for `backend`."""
    _EMBEDDERS[backend] = factory


def create_embedder(backend: str, model_name: str) -> Embedder:
    """The embedder `backend` for `model_name` (cheap: the model loads on first use)."""
    if backend not in _EMBEDDERS:
        raise RagError(
            f"unknown embedder '{backend}'",
            f"set RAG_EMBEDDER to one of: {', '.join(sorted(_EMBEDDERS))}",
        )
    return _EMBEDDERS[backend](model_name)


def _register_builtin_embedders() -> None:
    from rag.embedding.hashing import HashingEmbedder
    from rag.embedding.sentence_transformers import SentenceTransformersEmbedder

    register_embedder("sentence-transformers", SentenceTransformersEmbedder)
    register_embedder("hashing", HashingEmbedder)


_register_builtin_embedders()
