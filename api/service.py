"""What the HTTP layer serves from: the pipeline, loaded once at start-up, and what went
wrong loading it.

The server starts even when something is missing, so that `/api/health` can say what: a
missing index (the message names `rag ingest`), a model that will not load. A missing or
mismatched index is looked for again on later requests, so that running `rag ingest` while
the server is up takes effect without a restart.
"""

from __future__ import annotations

import logging
import platform
import threading
from collections.abc import Collection
from importlib import metadata
from typing import Any

from api.audit import AuditLog
from api.generation_queue import GenerationQueue
from api.public_paths import public_error, public_folder, public_message
from rag.collection import COLLECTION_MODE
from rag.embedding import Embedder
from rag.errors import IndexMismatchError, IndexMissingError, RagError
from rag.factory import (
    REMOTE_GENERATOR,
    build_embedder,
    build_generator,
    build_pipeline,
    load_configured_index,
)
from rag.generation import Generator
from rag.index import PassageIndex
from rag.pipeline import Pipeline
from rag.settings import MAX_QUESTION_CHARS, Settings
from rag.types import Answer

log = logging.getLogger("api")


class AssistantService:
    """Holds the loaded pipeline, the generation queue and the audit log."""

    def __init__(self, settings: Settings, pipeline: Pipeline | None = None) -> None:
        self.settings = settings
        self.backend = REMOTE_GENERATOR if settings.llm_url else settings.generator
        self._pipeline = pipeline
        self._embedder: Embedder | None = pipeline.embedder if pipeline else None
        self._generator: Generator | None = pipeline.generator if pipeline else None
        self._index_error: RagError | None = None
        self._load_lock = threading.Lock()
        self.problems: dict[str, str] = {}
        self.model_loaded = False
        # A remote server batches or queues by itself: let it have as many as are admitted.
        concurrency = settings.queue_size if self.backend == REMOTE_GENERATOR else 1
        self.generation = GenerationQueue(settings.queue_size, concurrency)
        self.audit = AuditLog(settings.audit_log)

    # --- loading (blocking: run in a worker thread) --------------------------------------

    def start(self) -> None:
        """Load the embedder, the generator and the index, recording what fails."""
        try:
            self._embedder = self._embedder or build_embedder(self.settings)
            self._generator = self._generator or build_generator(self.settings)
        except RagError as error:  # an unknown backend name: nothing can run
            self.problems["configuration"] = str(error)
            self._index_error = error
            return
        try:
            self._generator.load()
            self.model_loaded = True
        except RagError as error:
            self.problems["model"] = str(error)
        try:
            self._embedder.embed(["warm up"])
        except RagError as error:
            self.problems["embedder"] = str(error)
        with self._load_lock:
            if self._pipeline is None:
                self._load_index()
            else:
                self._pipeline.retriever.retrieve("warm up", 1)  # builds BM25 now
        for part, problem in self.problems.items():
            log.warning("not ready: %s: %s", part, problem)

    def _load_index(self) -> None:
        assert self._embedder is not None and self._generator is not None
        try:
            index = load_configured_index(self.settings)
        except RagError as error:
            self._index_error = error
            self.problems["index"] = str(error)
            return
        pipeline = build_pipeline(self.settings, self._embedder, self._generator, index)
        if "embedder" not in self.problems:
            pipeline.retriever.retrieve("warm up", 1)  # builds BM25 now
        self._pipeline = pipeline
        self._index_error = None
        self.problems.pop("index", None)

    def retry_index(self) -> None:
        """Load the index again if it was missing or built with other settings, so that
        'rag ingest' run meanwhile takes effect (blocking: reads the index files)."""
        unusable = (IndexMissingError, IndexMismatchError)
        if self._pipeline is None and isinstance(self._index_error, unusable):
            with self._load_lock:
                if self._pipeline is None:
                    self._load_index()

    # --- serving ------------------------------------------------------------------------

    @property
    def loaded_pipeline(self) -> Pipeline | None:
        return self._pipeline

    def pipeline(self) -> Pipeline:
        """The pipeline, or the `RagError` that explains why there is none."""
        if self._pipeline is None:
            if self._index_error is None:
                raise RagError("the assistant is still starting", "retry")
            raise public_error(self._index_error, self.settings.index_dir)
        return self._pipeline

    def index(self) -> PassageIndex:
        return self.pipeline().retriever.index

    def record_answer(
        self,
        answer: Answer,
        latency_ms: float,
        client: str | None,
        endpoint: str,
        documents: Collection[str] | None = None,
    ) -> None:
        """Audit `answer`, asked of `documents` only when given (blocking: appends to the
        audit log)."""
        if answer.mode not in ("abstained", COLLECTION_MODE) and not self.model_loaded:
            # The model answered, so it works now (it may have failed at start-up); a list of
            # the indexed reports is read from the index's records without it.
            self.model_loaded = True
            self.problems.pop("model", None)
        index = self._pipeline.retriever.index if self._pipeline else None
        self.audit.record(
            answer,
            corpus_hash=index.corpus_hash if index else None,
            latency_ms=latency_ms,
            client=client,
            endpoint=endpoint,
            documents=documents,
        )

    def model_name(self) -> str | None:
        if self._generator is None:
            return None
        try:
            return self._generator.name
        except RagError:
            return None

    def health(self) -> dict[str, Any]:
        pipeline = self._pipeline
        index = pipeline.retriever.index if pipeline else None
        ready = pipeline is not None and self.model_loaded and not self.problems
        return {
            "status": "ok" if ready else "not ready",
            "ready": ready,
            "index_loaded": index is not None,
            "model_loaded": self.model_loaded,
            "model": self.model_name(),
            "generator": self.backend,
            "llm_url": self.settings.llm_url,
            "index": public_folder(self.settings.index_dir),
            "corpus_hash": index.corpus_hash if index else None,
            "documents": len(index.documents) if index else 0,
            "passages": len(index.passages) if index else 0,
            "queue": {"admitted": self.generation.admitted, "capacity": self.generation.capacity},
            "max_question_chars": MAX_QUESTION_CHARS,
            "versions": versions(),
            # The log, for the operator, keeps the folder's full path.
            "problems": {
                part: public_message(problem, self.settings.index_dir)
                for part, problem in self.problems.items()
            },
        }


def versions() -> dict[str, str | None]:
    return {
        "gcm-rag": _version("gcm-rag"),
        "llama-cpp-python": _version("llama-cpp-python"),
        "python": platform.python_version(),
    }


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None
