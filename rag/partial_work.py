"""Embedding that survives an interrupted ingest: vectors kept in `index/.partial/` as they
are made, so that the next run over the same reports reuses them instead of embedding again.

Embedding is most of an ingest's time (minutes for a few hundred pages on 2 cores), and the
index itself is written only at the end (`PassageIndex.save`'s manifest rename is the commit
point, so that the previous index stays loadable throughout). Without this module a run
stopped by Ctrl-C, `kill -9` or a crash after twenty minutes would leave nothing behind.

Each document's texts of one kind (its passages' embedding texts, or its sentences) are
embedded in pieces of `PIECE_TEXTS`; every finished piece is written at once as one file,
named after the document's content hash and the configuration that embeds it (embedding
model, embedder, dimension, chunker version, passage size). A changed file has another
content hash, and another model or chunking another configuration, so neither ever meets
stale vectors. Each file records the digest of the very texts it holds vectors for and a
SHA-256 of its vectors; a file that is truncated, altered, or made for other texts is
ignored (with a note) and its piece embedded again, never loaded.

Files are written to a temporary name and renamed, so a run killed mid-write leaves at most
a stray `.tmp-*` file, never a torn piece. They are not fsynced: a piece lost or zeroed by a
power failure fails its checksum and is only embedded again. Batches start at the same
texts whether a run resumes or not, so a resumed index has the very vectors an
uninterrupted run gives. The folder is removed once a run completes (`discard`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from rag.embedding import Embedder
from rag.manifest import IndexConfig

PARTIAL_DIR = ".partial"
EMBED_BATCH = 32
# Two batches: about a second of embedding on 2 cores, the most a stopped run loses; writing
# a piece takes a millisecond or two.
PIECE_TEXTS = 2 * EMBED_BATCH
# Bump when the layout of a piece file changes; older files are then ignored.
PIECE_FORMAT = b"rag-partial-1\n"


@dataclass
class EmbeddingTask:
    """The texts of one kind (`passages` or `sentences`) of one document to embed, and the
    vectors made for them so far, piece by piece in order."""

    content_hash: str
    kind: str
    texts: list[str]
    pieces: list[np.ndarray] = field(default_factory=list)
    resumed: int = 0  # how many of `texts` had vectors kept by an interrupted run

    @property
    def done(self) -> int:
        """How many of `texts` have their vectors."""
        return sum(len(piece) for piece in self.pieces)

    @property
    def complete(self) -> bool:
        return self.done == len(self.texts)

    def vectors(self, dimension: int) -> np.ndarray:
        """Every text's vector, in order (the task must be complete)."""
        assert self.complete
        if not self.pieces:
            return np.zeros((0, dimension), dtype=np.float32)
        return np.vstack(self.pieces)


class PartialWork:
    """The embedding of one ingest run into the index at `index_dir`, kept piece by piece
    in `index_dir/.partial/` for a later run to resume from."""

    def __init__(
        self,
        index_dir: Path,
        config: IndexConfig,
        embedder: Embedder,
        log: Callable[[str], None] = print,
    ) -> None:
        self.folder = index_dir / PARTIAL_DIR
        self.config = config
        self.embedder = embedder
        self._log = log
        self._configuration: str | None = None  # computed when first needed
        self._dimension = 0
        self._keeping = True  # False once a piece could not be written

    @property
    def dimension(self) -> int:
        """The embedder's dimension (loading its model)."""
        self._identity()
        return self._dimension

    @property
    def keeping(self) -> bool:
        """Whether every piece made so far was kept (False after a failed write)."""
        return self._keeping

    def embed_documents(
        self,
        passages: dict[str, EmbeddingTask],
        sentences: dict[str, EmbeddingTask],
        progress: bool,
    ) -> None:
        """Complete the tasks of each document (by id): what an interrupted run kept is
        reused, and said so; the rest is embedded, passages first, and kept piece by piece.
        If embedding stops (Ctrl-C, an error), say what is kept for the next run."""
        documents: dict[str, list[EmbeddingTask]] = {}
        for kind in (passages, sentences):
            for doc_id, task in kind.items():
                documents.setdefault(doc_id, []).append(task)
                self._resume(task)
        if any(task.resumed for own in documents.values() for task in own):
            self._log(
                f"resuming: {_documents_done(documents)} already embedded by an interrupted "
                "run; they are not embedded again"
            )
        try:
            self._embed(list(passages.values()), "Embedding", "passage", progress)
            self._embed(list(sentences.values()), "Embedding sentences", "sentence", progress)
        except BaseException:
            # A kill -9 cannot be told of, but what it interrupts is kept all the same.
            if self._keeping and any(task.done for own in documents.values() for task in own):
                self._log(
                    f"kept what was embedded so far in {self.folder}/: "
                    f"{_documents_done(documents)}; running 'rag ingest' on the same reports "
                    "again resumes from there"
                )
            raise

    def _resume(self, task: EmbeddingTask) -> None:
        """Give `task` the vectors of its leading pieces that an earlier run kept, up to the
        first piece missing or unusable."""
        while not task.complete:
            vectors = self._read(task, piece=len(task.pieces))
            if vectors is None:
                break
            task.pieces.append(vectors)
        task.resumed = task.done

    def _embed(
        self, tasks: list[EmbeddingTask], description: str, unit: str, progress: bool
    ) -> None:
        """Embed what `tasks` still lack, keeping each piece as soon as it is made; the
        progress bar starts at what was resumed."""
        total = sum(len(task.texts) for task in tasks)
        if not total:
            return
        resumed = sum(task.done for task in tasks)
        with tqdm(
            total=total, initial=resumed, desc=description, unit=unit, disable=not progress
        ) as bar:
            for task in tasks:
                while not task.complete:
                    start = task.done
                    texts = task.texts[start : start + PIECE_TEXTS]
                    batches = []
                    for first in range(0, len(texts), EMBED_BATCH):
                        batch = texts[first : first + EMBED_BATCH]
                        batches.append(np.asarray(self.embedder.embed(batch), dtype=np.float32))
                        bar.update(len(batch))
                    vectors = np.vstack(batches)
                    self._write(task, len(task.pieces), texts, vectors)
                    task.pieces.append(vectors)

    def discard(self) -> None:
        """Remove the kept pieces: the run they served is complete (its index is saved, or
        had nothing to change), so no later run needs them."""
        if self.folder.is_dir():
            shutil.rmtree(self.folder, ignore_errors=True)

    # --- piece files -----------------------------------------------------------------

    def _path(self, task: EmbeddingTask, piece: int) -> Path:
        return self.folder / (
            f"{task.content_hash[:16]}-{self._identity()[:12]}-{task.kind}-{piece:04d}.vectors"
        )

    def _identity(self) -> str:
        """A digest of everything besides the text that a vector depends on. Asked of the
        embedder only when there is something to embed: its dimension loads its model."""
        if self._configuration is None:
            self._dimension = self.embedder.dimension
            described = json.dumps(
                [
                    self.config.embedding_model,
                    self.config.chunker_version,
                    self.config.max_passage_tokens,
                    self.embedder.name,
                    self._dimension,
                ]
            )
            self._configuration = hashlib.sha256(described.encode()).hexdigest()
        return self._configuration

    def _header(self, task: EmbeddingTask, piece: int, texts: list[str]) -> dict[str, object]:
        """What a piece file must say of itself to be used for `texts`."""
        configuration = self._identity()  # also reads the dimension
        return {
            "configuration": configuration,
            "content_hash": task.content_hash,
            "kind": task.kind,
            "piece": piece,
            "texts": hashlib.sha256(json.dumps(texts).encode()).hexdigest(),
            "rows": len(texts),
            "dimension": self._dimension,
        }

    def _write(
        self, task: EmbeddingTask, piece: int, texts: list[str], vectors: np.ndarray
    ) -> None:
        """Keep one piece, atomically. A piece that cannot be written (disk full, folder
        read-only) stops the keeping, not the run: the index can still be saved."""
        if not self._keeping:
            return
        data = np.ascontiguousarray(vectors, dtype="<f4").tobytes()
        header = {**self._header(task, piece, texts), "sha256": hashlib.sha256(data).hexdigest()}
        path = self._path(task, piece)
        temporary = self.folder / f".tmp-{uuid.uuid4().hex}-{path.name}"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            # Not mkstemp: it creates files 0600 whatever the umask, as `rag.index` notes.
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            with os.fdopen(descriptor, "wb") as stream:
                stream.write(PIECE_FORMAT + json.dumps(header).encode() + b"\n" + data)
            os.replace(temporary, path)
        except OSError as error:
            with contextlib.suppress(OSError):
                temporary.unlink(missing_ok=True)
            self._keeping = False
            self._log(
                f"warning: cannot keep the vectors embedded so far in {self.folder}/ ({error}); "
                "if this run is interrupted, the next one embeds everything again"
            )

    def _read(self, task: EmbeddingTask, piece: int) -> np.ndarray | None:
        """The vectors of `task`'s piece `piece` kept by an earlier run, or None when there
        are none or the file is unusable (then a note says which and why)."""
        path = self._path(task, piece)
        try:
            return self._parse(path.read_bytes(), task, piece)
        except (FileNotFoundError, NotADirectoryError):
            return None
        except (OSError, UnusablePiece) as error:
            self._log(f"note: ignored {path} ({error}); its texts are embedded again")
            return None

    def _parse(self, data: bytes, task: EmbeddingTask, piece: int) -> np.ndarray:
        """The vectors in piece file `data`, if it is whole and made for this piece's texts
        with this configuration; else `UnusablePiece` saying why not."""
        if not data.startswith(PIECE_FORMAT):
            raise UnusablePiece("not a piece file of this version")
        header_line, separator, payload = data[len(PIECE_FORMAT) :].partition(b"\n")
        try:
            header = json.loads(header_line)
            checksum = header.pop("sha256")
        except (ValueError, TypeError, AttributeError, KeyError):
            raise UnusablePiece("its header is damaged") from None
        start = piece * PIECE_TEXTS
        texts = task.texts[start : start + PIECE_TEXTS]
        if not separator or header != self._header(task, piece, texts):
            raise UnusablePiece("it was made for other texts or settings")
        if hashlib.sha256(payload).hexdigest() != checksum:
            raise UnusablePiece("its vectors differ from the checksum it records")
        if len(payload) != len(texts) * self._dimension * 4:
            raise UnusablePiece("its vectors have the wrong size")
        vectors = np.frombuffer(payload, dtype="<f4").reshape(len(texts), self._dimension)
        return vectors.astype(np.float32)


def _documents_done(documents: dict[str, list[EmbeddingTask]]) -> str:
    """How many of `documents` (their tasks by id) have every vector, how many some, and how
    many vectors they have of all they need."""
    tasks = [task for own in documents.values() for task in own]
    complete = sum(all(task.complete for task in own) for own in documents.values())
    begun = sum(any(task.done for task in own) for own in documents.values())
    in_part = f", {begun - complete} in part" if begun > complete else ""
    done, needed = sum(task.done for task in tasks), sum(len(task.texts) for task in tasks)
    return f"{complete} of {len(documents)} document(s){in_part} ({done} of {needed} vectors)"


class UnusablePiece(Exception):
    """A piece file that must not be used, and why."""
