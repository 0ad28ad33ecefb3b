"""sentence-transformers embeddings, loaded offline from a local folder on first use."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from rag.errors import ModelLoadError
from rag.models import resolve_embedding_model


class SentenceTransformersEmbedder:
    """Embeds with a sentence-transformers model; the default is the bundled all-MiniLM-L6-v2."""

    def __init__(self, model_name: str) -> None:
        self._model_name = model_name
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self._model_name

    @property
    def dimension(self) -> int:
        model = self._load()
        # Renamed in sentence-transformers 6; keep working with both spellings.
        getter = (
            getattr(model, "get_embedding_dimension", None)
            or model.get_sentence_embedding_dimension
        )
        return int(getter())

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        model = self._load()
        vectors = model.encode(
            list(texts),
            batch_size=32,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                path = resolve_embedding_model(self._model_name)
                from sentence_transformers import SentenceTransformer

                try:
                    self._model = SentenceTransformer(path, device="cpu")
                except Exception as error:  # the library raises many types for a bad folder
                    raise ModelLoadError(
                        f"cannot load embedding model from {path}: {error}",
                        "check RAG_EMBEDDING_MODEL",
                    ) from None
            return self._model
