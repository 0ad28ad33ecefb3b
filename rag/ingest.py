"""Ingestion: source files → passages → vectors → the saved index.

Incremental: a document whose content hash is already indexed keeps its vectors (nothing is
re-embedded); a changed document is replaced; documents not named stay in the index. A file
that cannot be read is skipped with its reason, and the index is saved only after every
readable file is embedded, atomically, so a failed or killed run leaves the old index usable.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from rag.chunking import chunk_document
from rag.embedding import Embedder
from rag.errors import DocumentError, IndexMismatchError, IndexMissingError, RagError
from rag.index import DocumentRecord, IndexConfig, PassageIndex, load_index
from rag.loaders import load_document, supported_extensions
from rag.types import Document, Passage


@dataclass
class IngestReport:
    """What an ingest run did, for the CLI to print."""

    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (path, indexed doc_id)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    passages_embedded: int = 0
    passages_total: int = 0


def collect_files(paths: Iterable[Path]) -> list[Path]:
    """Files named by `paths` (folders are searched recursively), sorted, each once.

    Raises `RagError` for a path that does not exist or a folder without any file.
    """
    files: list[Path] = []
    for path in paths:
        if not path.exists():
            raise RagError(f"{path} does not exist", "name a file or folder of reports")
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
            if not found:
                raise RagError(
                    f"{path}/ is empty",
                    f"put reports there ({', '.join(supported_extensions())})",
                )
            files.extend(found)
        else:
            files.append(path)
    return list(dict.fromkeys(files))


def ingest(
    paths: Iterable[Path],
    index_dir: Path,
    config: IndexConfig,
    embedder: Embedder,
    progress: bool = True,
    log: Callable[[str], None] = print,
) -> IngestReport:
    """Add or update the documents at `paths` in the index at `index_dir`."""
    files = collect_files(paths)
    existing = _load_existing(index_dir, config, log)
    report = IngestReport()
    documents: list[Document] = []
    seen_hashes: dict[str, str] = {}
    for path in tqdm(files, desc="Reading", unit="file", disable=not progress):
        try:
            document = load_document(path)
        except DocumentError as error:
            report.skipped.append((str(path), str(error)))
            continue
        if document.content_hash in seen_hashes:
            report.duplicates.append((str(path), seen_hashes[document.content_hash]))
            continue
        seen_hashes[document.content_hash] = document.doc_id
        documents.append(document)

    kept_passages: list[Passage] = []
    kept_vectors: list[np.ndarray] = []
    records: dict[str, DocumentRecord] = {}
    new_ids = {document.doc_id for document in documents}
    if existing is not None:
        for doc_id, record in existing.documents.items():
            if doc_id in new_ids and record.content_hash != _hash_of(documents, doc_id):
                continue  # changed: replaced below
            if record.content_hash in seen_hashes and doc_id != seen_hashes[record.content_hash]:
                continue  # the same content arrives under another name now
            passages, vectors = existing.vectors_of(doc_id)
            kept_passages.extend(passages)
            kept_vectors.append(vectors)
            records[doc_id] = record

    pending: list[tuple[Document, list[Passage]]] = []
    for document in documents:
        if document.doc_id in records:
            report.unchanged.append(document.doc_id)
            continue
        replacing = existing is not None and document.doc_id in existing.documents
        (report.replaced if replacing else report.added).append(document.doc_id)
        pending.append((document, chunk_document(document, config.max_passage_tokens)))

    to_embed = [passage for _, passages in pending for passage in passages]
    if to_embed:
        kept_vectors.append(_embed(embedder, to_embed, progress))
        kept_passages.extend(to_embed)
    for document, passages in pending:
        records[document.doc_id] = DocumentRecord(
            doc_id=document.doc_id,
            title=document.title,
            path=document.path,
            content_hash=document.content_hash,
            passages=len(passages),
        )
    report.passages_embedded = len(to_embed)
    report.passages_total = len(kept_passages)
    if not records:
        raise RagError(
            "no readable document to index",
            "fix or replace the skipped files listed above",
        )
    if existing is not None and not to_embed and set(records) == set(existing.documents):
        return report  # nothing changed: leave the index files untouched
    dimension = existing.dimension if existing is not None and not to_embed else embedder.dimension
    vectors = (
        np.vstack(kept_vectors).astype(np.float32)
        if kept_vectors
        else np.zeros((0, dimension), dtype=np.float32)
    )
    PassageIndex(config, dimension, kept_passages, vectors, records).save(index_dir)
    return report


def _hash_of(documents: list[Document], doc_id: str) -> str | None:
    return next((d.content_hash for d in documents if d.doc_id == doc_id), None)


def _load_existing(
    index_dir: Path, config: IndexConfig, log: Callable[[str], None]
) -> PassageIndex | None:
    """The current index, or None when there is none or it was built differently (then it is
    rebuilt from scratch, and replaced only once the new one is complete)."""
    try:
        return load_index(index_dir, config)
    except IndexMissingError:
        return None
    except IndexMismatchError as error:
        log(f"Rebuilding the index: {error.problem}.")
        return None


def _embed(embedder: Embedder, passages: list[Passage], progress: bool) -> np.ndarray:
    batch = 32
    parts = []
    with tqdm(total=len(passages), desc="Embedding", unit="passage", disable=not progress) as bar:
        for start in range(0, len(passages), batch):
            texts = [_embedding_text(p) for p in passages[start : start + batch]]
            parts.append(embedder.embed(texts))
            bar.update(len(texts))
    return np.vstack(parts)


def _embedding_text(passage: Passage) -> str:
    """The section heading travels with the passage: it often names the topic the text omits."""
    return f"{passage.section}: {passage.text}" if passage.section else passage.text
