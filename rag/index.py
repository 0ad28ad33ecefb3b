"""The persisted passage index: passages and their FAISS vectors, searched, and saved
atomically together with their manifest (`rag.manifest`).

Layout of `index/`:
  manifest.json            what the index was built with, and which data files are current
  passages-<id>.jsonl      one passage per line, in vector order
  vectors-<id>.faiss       FAISS inner-product index over L2-normalised passage vectors
  sentences-<id>.faiss     the same for every sentence of every passage, in passage order
                           (rag.text.split_sentences of each passage's text)
  .partial/                not part of the index: vectors an interrupted `rag ingest` kept
                           for the next run to resume from (`rag.partial_work`)

The manifest is the commit point: data files get fresh names, are fully written and synced,
and only then does `os.replace` swap in a manifest naming them. A crash at any moment leaves
the previous manifest, and so the previous index, intact. Superseded files are removed after.

What the manifest holds, how it is read and checked against the configuration, and how
it names source files is `rag.manifest`'s; this module writes it as the commit point.

The manifest records each data file's SHA-256, checked on every load: a file changed in place
(a bad disk block, a stray write) would otherwise load as a valid FAISS index and quietly give
wrong passages. Manifests written before checksums existed load unchecked (see `load_index`).
All files, the manifest too, are created with the umask's permissions, so a server running as
another user can read an index an administrator built.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from rag.errors import IndexMismatchError
from rag.manifest import (
    MANIFEST,
    REBUILD_HINT,
    DocumentRecord,
    IndexConfig,
    absolute_paths_folder,
    check_built_with,
    documents_of,
    encode_manifest,
    project_folder,
    read_manifest,
)
from rag.text import split_sentences
from rag.types import Passage


@dataclass
class PassageIndex:
    """Passages with their vectors (row i of `vectors` belongs to `passages[i]`)."""

    config: IndexConfig
    dimension: int
    passages: list[Passage]
    vectors: np.ndarray
    documents: dict[str, DocumentRecord] = field(default_factory=dict)
    # One row per sentence, in the order of `sentence_rows()`; None for an index built
    # without them (then dense search compares whole passages only).
    sentence_vectors: np.ndarray | None = None
    _faiss: Any = None
    _by_anchor: dict[str, int] | None = None
    _sentence_rows: list[tuple[int, str]] | None = None
    _sentence_starts: list[int] | None = None
    # The project folder whose files the manifest named absolutely (written before paths
    # were stored relative to it; this project, or the one a copied index was built in):
    # saving it again makes the project movable (`rag.manifest.absolute_paths_folder`).
    absolute_paths_folder: Path | None = None

    @property
    def absolute_paths_stored(self) -> bool:
        """Whether the manifest named the project's files absolutely (see above)."""
        return self.absolute_paths_folder is not None

    @property
    def corpus_hash(self) -> str:
        """One hash over all documents' content hashes: changes whenever the corpus does."""
        joined = "\n".join(f"{d}:{r.content_hash}" for d, r in sorted(self.documents.items()))
        return hashlib.sha256(joined.encode()).hexdigest()[:16]

    def passage(self, anchor: str) -> Passage | None:
        if self._by_anchor is None:
            self._by_anchor = {p.anchor: i for i, p in enumerate(self.passages)}
        position = self._by_anchor.get(anchor)
        return None if position is None else self.passages[position]

    def neighbours(self, anchor: str) -> tuple[str | None, str | None]:
        """Anchors of the passages before and after `anchor` in the same document."""
        self.passage(anchor)
        assert self._by_anchor is not None
        position = self._by_anchor[anchor]
        doc = self.passages[position].doc_id
        before = self.passages[position - 1] if position > 0 else None
        after = self.passages[position + 1] if position + 1 < len(self.passages) else None
        return (
            before.anchor if before and before.doc_id == doc else None,
            after.anchor if after and after.doc_id == doc else None,
        )

    def place(self, anchor: str) -> tuple[int, int]:
        """Where `anchor` stands in its document: its position (1 for the first passage) and
        the document's number of passages."""
        self.passage(anchor)
        assert self._by_anchor is not None
        position = self._by_anchor[anchor]
        doc = self.passages[position].doc_id
        first = last = position
        while first > 0 and self.passages[first - 1].doc_id == doc:
            first -= 1
        while last + 1 < len(self.passages) and self.passages[last + 1].doc_id == doc:
            last += 1
        return position - first + 1, last - first + 1

    def vectors_of(self, doc_id: str) -> tuple[list[Passage], np.ndarray]:
        """The passages and vectors of one document (for incremental re-ingest)."""
        rows = [i for i, p in enumerate(self.passages) if p.doc_id == doc_id]
        return [self.passages[i] for i in rows], self.vectors[rows]

    def without_documents(self, doc_ids: set[str]) -> PassageIndex:
        """A copy without the passages (and vectors) of `doc_ids`, whose records no longer name
        them as near-duplicates; nothing is re-embedded."""
        kept = [row for row, passage in enumerate(self.passages) if passage.doc_id not in doc_ids]
        sentence_vectors = None
        if self.sentence_vectors is not None:
            parts = [self.sentences_of(row)[1] for row in kept]
            sentence_vectors = (
                np.vstack([part for part in parts if part is not None])
                if parts
                else np.zeros((0, self.dimension), dtype=np.float32)
            )
        documents = {
            doc_id: replace(
                record,
                near_duplicates=tuple(
                    (other, share)
                    for other, share in record.near_duplicates
                    if other not in doc_ids
                ),
            )
            for doc_id, record in self.documents.items()
            if doc_id not in doc_ids
        }
        return PassageIndex(
            self.config,
            self.dimension,
            [self.passages[row] for row in kept],
            self.vectors[kept],
            documents,
            sentence_vectors,
        )

    def sentence_rows(self) -> list[tuple[int, str]]:
        """(passage position, sentence) for every sentence, the rows of `sentence_vectors`."""
        if self._sentence_rows is None:
            self._sentence_rows = []
            self._sentence_starts = []
            for position, passage in enumerate(self.passages):
                self._sentence_starts.append(len(self._sentence_rows))
                self._sentence_rows.extend(
                    (position, sentence) for sentence in split_sentences(passage.text)
                )
            self._sentence_starts.append(len(self._sentence_rows))
        return self._sentence_rows

    def sentences_of(self, position: int) -> tuple[list[str], np.ndarray | None]:
        """The sentences of passage `position` and their vectors (None without them)."""
        rows = self.sentence_rows()
        assert self._sentence_starts is not None
        first, last = self._sentence_starts[position], self._sentence_starts[position + 1]
        sentences = [sentence for _, sentence in rows[first:last]]
        vectors = None if self.sentence_vectors is None else self.sentence_vectors[first:last]
        return sentences, vectors

    def position(self, anchor: str) -> int | None:
        self.passage(anchor)
        assert self._by_anchor is not None
        return self._by_anchor.get(anchor)

    def search_sentences(self, query_vector: np.ndarray) -> dict[int, float]:
        """Each passage's best sentence similarity to the query (empty without sentences).

        Whole-paragraph vectors blur a paragraph that covers several topics; the sentence
        that answers a question is usually much closer to it than its paragraph is.
        """
        if self.sentence_vectors is None or not len(self.sentence_vectors):
            return {}
        self.check_dimension(query_vector)
        similarities = self.sentence_vectors @ query_vector.astype(np.float32)
        best: dict[int, float] = {}
        for (position, _), similarity in zip(self.sentence_rows(), similarities, strict=True):
            if similarity > best.get(position, -2.0):
                best[position] = float(similarity)
        return best

    def check_dimension(self, query_vector: np.ndarray) -> None:
        if query_vector.shape[-1] != self.dimension:
            raise IndexMismatchError(
                f"index/ holds {self.dimension}-d vectors but the embedder gives "
                f"{query_vector.shape[-1]}-d ones",
                REBUILD_HINT,
            )

    def search(self, query_vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        """(passage position, cosine similarity) of the `k` nearest passages."""
        if not self.passages:
            return []
        self.check_dimension(query_vector)
        if self._faiss is None:
            self._faiss = faiss.IndexFlatIP(self.dimension)
            self._faiss.add(self.vectors)
        scores, rows = self._faiss.search(query_vector.reshape(1, -1).astype(np.float32), k)
        return [(int(r), float(s)) for r, s in zip(rows[0], scores[0], strict=True) if r >= 0]

    # --- persistence -------------------------------------------------------------------

    def save(self, index_dir: Path) -> None:
        """Write the index to `index_dir` atomically (see the module docstring)."""
        index_dir.mkdir(parents=True, exist_ok=True)
        build = uuid.uuid4().hex[:12]
        passages_file = f"passages-{build}.jsonl"
        vectors_file = f"vectors-{build}.faiss"
        lines = "".join(json.dumps(p.to_dict(), ensure_ascii=False) + "\n" for p in self.passages)
        contents = {
            "passages": (passages_file, lines.encode()),
            "vectors": (vectors_file, _serialise(self.vectors, self.dimension)),
        }
        if self.sentence_vectors is not None:
            contents["sentences"] = (
                f"sentences-{build}.faiss",
                _serialise(self.sentence_vectors, self.dimension),
            )
        for name, data in contents.values():
            _write_synced(index_dir / name, data)
        files = {role: name for role, (name, _) in contents.items()}
        checksums = {name: hashlib.sha256(data).hexdigest() for name, data in contents.values()}
        manifest = encode_manifest(
            self.config,
            self.dimension,
            len(self.passages),
            self.corpus_hash,
            self.documents,
            files,
            checksums,
            project_folder(index_dir),
        )
        _write_synced(index_dir / MANIFEST, manifest, atomic_rename=True)
        _remove_superseded(index_dir, keep=set(files.values()))


def load_index(index_dir: Path, expected: IndexConfig) -> PassageIndex:
    """Load the index at `index_dir`, refusing one built with a configuration other than
    `expected` (the message names what differs and the command that rebuilds)."""
    manifest = read_manifest(index_dir)
    check_built_with(manifest, index_dir, expected)
    try:
        files = manifest["files"]
        # Absent from manifests older than checksums: those load unchecked rather than force
        # a re-embedding of the whole corpus on upgrade; the next save adds them.
        checksums = manifest.get("checksums")
        data = {role: _read_checked(index_dir, name, checksums) for role, name in files.items()}
        passages = [
            Passage.from_dict(json.loads(line))
            # Not splitlines(): it also splits at U+2028 and the like, which json.dumps
            # leaves unescaped inside a passage's text.
            for line in data["passages"].decode("utf-8").split("\n")
            if line.strip()
        ]
        flat = _deserialise(data["vectors"])
        dimension = int(manifest["dimension"])
        sentence_vectors = (
            _vectors_of(_deserialise(data["sentences"]), dimension) if "sentences" in data else None
        )
        project = project_folder(index_dir)
        documents = documents_of(manifest, project)
        paths_folder = absolute_paths_folder(manifest, project)
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RuntimeError) as error:
        raise IndexMismatchError(f"{index_dir}/ is damaged ({error})", REBUILD_HINT) from None
    if flat.ntotal != len(passages):
        raise IndexMismatchError(
            f"{index_dir}/ is damaged ({flat.ntotal} vectors for {len(passages)} passages)",
            REBUILD_HINT,
        )
    vectors = (
        flat.reconstruct_n(0, flat.ntotal)
        if flat.ntotal
        else np.zeros((0, manifest["dimension"]), dtype=np.float32)
    )
    index = PassageIndex(expected, dimension, passages, vectors, documents, sentence_vectors)
    index.absolute_paths_folder = paths_folder
    if sentence_vectors is not None and len(sentence_vectors) != len(index.sentence_rows()):
        raise IndexMismatchError(
            f"{index_dir}/ is damaged ({len(sentence_vectors)} sentence vectors for "
            f"{len(index.sentence_rows())} sentences)",
            REBUILD_HINT,
        )
    index._faiss = flat
    return index


def _serialise(vectors: np.ndarray, dimension: int) -> bytes:
    flat = faiss.IndexFlatIP(dimension)
    if len(vectors):
        flat.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return bytes(faiss.serialize_index(flat).tobytes())


def _read_checked(index_dir: Path, name: str, checksums: dict[str, str] | None) -> bytes:
    """The bytes of data file `name`, refused when they differ from what was saved."""
    data = (index_dir / name).read_bytes()
    if checksums is not None and hashlib.sha256(data).hexdigest() != checksums.get(name):
        raise IndexMismatchError(
            f"{index_dir}/{name} is corrupt (its SHA-256 differs from the one in {MANIFEST})",
            REBUILD_HINT,
        )
    return data


def _deserialise(data: bytes) -> Any:
    return faiss.deserialize_index(np.frombuffer(data, dtype=np.uint8))


def _vectors_of(flat: Any, dimension: int) -> np.ndarray:
    if flat.ntotal == 0:
        return np.zeros((0, dimension), dtype=np.float32)
    return np.asarray(flat.reconstruct_n(0, flat.ntotal), dtype=np.float32)


def _write_synced(path: Path, data: bytes, atomic_rename: bool = False) -> None:
    """Write `data` to `path` and fsync it; with `atomic_rename`, via a temporary file."""
    target = path
    if atomic_rename:
        # Not mkstemp: it creates the file 0600 whatever the umask, and the manifest must be
        # as readable as the data files it names. O_EXCL keeps the name our own.
        target = path.parent / f".tmp-{uuid.uuid4().hex}-{path.name}"
        os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    with open(target, "wb") as stream:
        stream.write(data)
        stream.flush()
        os.fsync(stream.fileno())
    if atomic_rename:
        os.replace(target, path)
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def _remove_superseded(index_dir: Path, keep: set[str]) -> None:
    for path in index_dir.iterdir():
        stale_data = (
            path.name.startswith(("passages-", "vectors-", "sentences-")) and path.name not in keep
        )
        if stale_data or path.name.startswith(".tmp-"):
            path.unlink(missing_ok=True)
