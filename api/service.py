"""What the HTTP layer serves from: the pipeline, loaded once at start-up, and what went
wrong loading it.

The server starts even when something is missing, so that `/api/health` can say what: a
missing index (the message names `rag ingest`), a model that will not load. Whether the
model works is learnt from the model alone (api/model_status.py): it loaded at start-up, or
wrote since, and has not failed since.

The index on disk is watched through its manifest, the commit point of every save: before
each request that reads the index (answers, passages, documents, health) one `stat` says
whether it changed since it was loaded, and if it did the index is loaded again and a new
pipeline put in place of the old one (the embedder and the model are kept). So `rag ingest`
or `rag docs remove` while the server runs takes effect at the next request, and an index
built while it ran without one is picked up. An answer under way keeps the pipeline it
started with, and so the index it retrieved from, to its end and its audit line; the swap
never reaches into it. An index that can no longer be loaded (deleted, damaged, built with
other settings) leaves no pipeline: health says why, and questions get 503 with the fix,
rather than answers from documents that may have been removed.
"""

from __future__ import annotations

import contextlib
import logging
import platform
import threading
from collections.abc import Collection
from importlib import metadata
from typing import Any

from api.audit import AuditLog
from api.generation_queue import GenerationQueue
from api.model_status import ModelStatus, WatchedGenerator
from api.public_paths import public_error, public_folder, public_message
from rag.cli_settings import naming_index_dir
from rag.embedding import Embedder
from rag.errors import RagError
from rag.factory import (
    REMOTE_GENERATOR,
    build_embedder,
    build_generator,
    build_pipeline,
    load_configured_index,
)
from rag.generation import Generator
from rag.index import PassageIndex
from rag.manifest import manifest_signature
from rag.pipeline import Pipeline
from rag.settings import MAX_QUESTION_CHARS, Settings
from rag.types import Answer

log = logging.getLogger("api")


class AssistantService:
    """Holds the loaded pipeline, the generation queue and the audit log."""

    def __init__(self, settings: Settings, pipeline: Pipeline | None = None) -> None:
        self.settings = settings
        self.backend = REMOTE_GENERATOR if settings.llm_url else settings.generator
        self.model_status = ModelStatus()
        self._embedder: Embedder | None = pipeline.embedder if pipeline else None
        self._generator: Generator | None = None
        if pipeline is not None:
            # Served through a watched generator; the pipeline given (which tests share
            # between apps) is left as it was.
            self._generator = WatchedGenerator(pipeline.generator, self.model_status)
            pipeline = Pipeline(pipeline.retriever, self._generator, pipeline.config)
        self._pipeline = pipeline
        self._index_error: RagError | None = None
        # The manifest's signature when the current index (or the failure to load one) was
        # read: `_NOT_READ` until then.
        self._index_signature: object = _NOT_READ
        self._load_lock = threading.Lock()
        # What keeps the assistant from being ready, but the model's (`model_status`).
        self.problems: dict[str, str] = {}
        # A remote server batches or queues by itself: let it have as many as are admitted.
        concurrency = settings.queue_size if self.backend == REMOTE_GENERATOR else 1
        self.generation = GenerationQueue(settings.queue_size, concurrency)
        self.audit = AuditLog(settings.audit_log)

    # --- loading (blocking: run in a worker thread) --------------------------------------

    def start(self) -> None:
        """Load the embedder, the generator and the index, recording what fails."""
        try:
            self._embedder = self._embedder or build_embedder(self.settings)
            self._generator = self._generator or WatchedGenerator(
                build_generator(self.settings), self.model_status
            )
        except RagError as error:  # an unknown backend name: nothing can run
            self.problems["configuration"] = str(error)
            self._index_error = error
            return
        with contextlib.suppress(RagError):  # recorded in `model_status`, for health
            self._generator.load()
        try:
            self._embedder.embed(["warm up"])
        except RagError as error:
            self.problems["embedder"] = str(error)
        with self._load_lock:
            if self._pipeline is None:
                self._load_index()
            else:
                # Given ready-made (tests share a loaded model): taken as the index on disk now.
                self._index_signature = manifest_signature(self.settings.index_dir)
                self._pipeline.retriever.retrieve("warm up", 1)  # builds BM25 now
        for part, problem in self.model_and_problems()[1].items():
            log.warning("not ready: %s: %s", part, problem)

    def _load_index(self) -> None:
        """Load the index into a new pipeline and put it in place (under `_load_lock`);
        when it cannot be loaded, drop the current one and record why."""
        assert self._embedder is not None and self._generator is not None
        # Taken before reading: a save meanwhile then shows as a change at the next request.
        signature = manifest_signature(self.settings.index_dir)
        try:
            index = load_configured_index(self.settings)
        except RagError as error:
            error = naming_index_dir(error, self.settings.index_dir)
            if self._pipeline is not None:
                log.warning("the index changed and cannot be loaded: %s", error)
            self._pipeline = None
            self._index_signature = signature
            self._index_error = error
            self.problems["index"] = str(error)
            return
        pipeline = build_pipeline(self.settings, self._embedder, self._generator, index)
        if "embedder" not in self.problems:
            pipeline.retriever.retrieve("warm up", 1)  # builds BM25 now
        if self._pipeline is not None:
            # A warning, as the server's log shows no lower level: the operator should see
            # that answers now come from another corpus.
            log.warning(
                "the index changed on disk and was reloaded: %d document(s), corpus %s",
                len(index.documents),
                index.corpus_hash,
            )
        self._pipeline = pipeline
        self._index_signature = signature
        self._index_error = None
        self.problems.pop("index", None)

    def index_changed(self) -> bool:
        """Whether the index on disk differs from the one loaded (or from the one that could
        not be loaded): one `stat` of its manifest, cheap enough for every request."""
        if self._embedder is None or self._generator is None:
            return False  # nothing could use an index (a bad backend name): never loaded
        return manifest_signature(self.settings.index_dir) != self._index_signature

    def refresh_index(self) -> None:
        """Load the index again if it changed on disk since it was read, so that `rag ingest`
        or `rag docs remove` run meanwhile takes effect (blocking: reads the index files).
        Requests arriving meanwhile wait for the one reload rather than each doing it."""
        if self.index_changed():
            with self._load_lock:
                if self.index_changed():
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
        corpus_hash: str,
        latency_ms: float,
        client: str | None,
        endpoint: str,
        documents: Collection[str] | None = None,
    ) -> None:
        """Audit `answer`, given from the corpus `corpus_hash` (the index it was retrieved
        from, which a reload may have replaced since), asked of `documents` only when given
        (blocking: appends to the audit log)."""
        self.audit.record(
            answer,
            corpus_hash=corpus_hash,
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

    def model_and_problems(self) -> tuple[bool, dict[str, str]]:
        """Whether the model was last seen working (it loaded at start-up, for a remote
        model its server answered, or it wrote an answer since, and has not failed since),
        and what keeps the assistant from being ready, by part, the model's failure
        included."""
        model_works, model_problem = self.model_status.state()
        problems = dict(self.problems)
        if model_problem is not None:
            problems["model"] = model_problem
        return model_works, problems

    def health(self) -> dict[str, Any]:
        pipeline = self._pipeline
        index = pipeline.retriever.index if pipeline else None
        model_loaded, problems = self.model_and_problems()
        ready = pipeline is not None and model_loaded and not problems
        return {
            "status": "ok" if ready else "not ready",
            "ready": ready,
            "index_loaded": index is not None,
            "model_loaded": model_loaded,
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
                for part, problem in problems.items()
            },
        }


_NOT_READ = object()


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
