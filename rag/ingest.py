"""Ingestion: source files → passages → vectors → the saved index, incrementally.

A document is its file. Ingesting a file whose path is already indexed keeps it when its
content hash is unchanged (nothing is embedded) and replaces it under the same document id
when the content changed. A new file gets an id from its name (`GCM Review.pdf` →
`gcm-review`); when another file holds that id, what differs is added: the extension
(`report.pdf`, `report.docx` → `report-docx`) or the folder (`serbia/report.pdf` →
`serbia-report`), so existing anchors never move. A file
with the same content as an indexed one is a duplicate: indexed once, listed in the
manifest, and announced; of identical files new to the index, the one whose name another's
extends gives the id (`notes.md`, not `notes-copy.md`). If the indexed file is gone, the new
path is where it moved, its identical copy included: the id stays, so that cited anchors do.
Documents whose files differ but whose texts largely coincide (another edition, the same
report as .md and .txt) are both indexed, marked in the manifest as near-duplicates of each
other and announced on every run, until one is removed (`rag.near_duplicates`).
An indexed document whose file lay in an ingested folder and no longer exists is removed;
documents elsewhere stay, with a warning when their file is gone.

Files inside the project folder (the index folder's parent) are recorded relative to it, so
a copied or moved project reads its own files; a manifest that named them absolutely is
rewritten by the next run, even when nothing else changed, and one copied with its project
reads the copy's files (`rag.manifest.absolute_paths_folder`).

A file that cannot be read is skipped with its reason (an indexed version of it stays).
A file whose text does not read as English (`rag.text.is_english`, as questions are judged)
is indexed with a warning on every run: the embedder and the question rules know English only.
An index that must be rebuilt (built with other settings, or damaged) is rebuilt from the
given paths and every source file its manifest still lists, under the ids they had; a listed
document whose file is gone is reported as removed. The index is written only when something
changed, after all embedding is done, through
`PassageIndex.save`, whose manifest rename is the commit point: a failed or killed run leaves
the previous index loadable.

Its embedding is not lost with it: `rag.partial_work` keeps the vectors in `index/.partial/`
piece by piece as they are made, under each document's content hash and the embedding
configuration, so the next run over the same reports embeds only what is missing ("resuming:
3 of 5 document(s) … already embedded by an interrupted run"). A run that completes, saving
the index or finding nothing to change, removes the folder.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from rag.chunking import chunk_document
from rag.corpus import Corpus, display_path, path_key
from rag.embedding import Embedder
from rag.errors import DocumentError, IndexMismatchError, IndexMissingError, RagError
from rag.index import PassageIndex, load_index
from rag.loaders import load_document, supported_extensions
from rag.loaders.text import UTF_8
from rag.manifest import (
    MANIFEST,
    REBUILD_HINT,
    DocumentRecord,
    IndexConfig,
    project_folder,
    read_documents,
)
from rag.near_duplicates import (
    NearDuplicate,
    as_percent,
    find_near_duplicates,
    near_duplicates_of,
)
from rag.partial_work import EmbeddingTask, PartialWork
from rag.text import is_english, split_sentences
from rag.types import Passage


@dataclass
class IngestReport:
    """What an ingest run did, for the CLI to print."""

    added: list[str] = field(default_factory=list)
    reread: list[str] = field(default_factory=list)  # listed by the index being rebuilt
    replaced: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    moved: list[tuple[str, str]] = field(default_factory=list)  # (doc_id, new path)
    # doc_ids of `moved` now read from a file that was their duplicate: an identical copy
    moved_to_copy: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)  # doc_ids whose file is gone
    removal_reasons: dict[str, str] = field(default_factory=dict)  # doc_id → why, if unusual
    # doc_ids kept although their file is gone: it lay outside every folder ingested
    missing_files: list[tuple[str, str]] = field(default_factory=list)  # (doc_id, path)
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (path, indexed doc_id)
    # indexed documents holding largely the same text, as files of different bytes
    near_duplicates: list[NearDuplicate] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    renamed: list[tuple[str, str]] = field(default_factory=list)  # (path, doc_id given)
    # text files read in another encoding than UTF-8
    legacy_encodings: list[tuple[str, str]] = field(default_factory=list)  # (path, encoding)
    # files whose text does not read as English (`rag.text.is_english`): indexed, but the
    # embedder and the question rules know English only
    not_english: list[str] = field(default_factory=list)
    passages_embedded: int = 0
    passages_reused: int = 0  # embedded by an interrupted run, kept in index/.partial/
    passages_total: int = 0
    documents_total: int = 0
    saved: bool = False  # False: the index files were left as they were

    def summary(self, index_dir: Path) -> str:
        """One line saying what changed in the index, and how many files were skipped (the
        exit status says some were; this line must not read as if all went well)."""
        skipped = (
            f"; {len(self.skipped)} file(s) skipped (see above), not indexed"
            if self.skipped
            else ""
        )
        if not self.saved:
            return (
                f"Index unchanged: {self.documents_total} document(s) up to date, "
                f"nothing embedded{skipped}."
            )
        extra = "".join(
            f"; {len(items)} {label}"
            for items, label in ((self.moved, "moved"), (self.removed, "removed"))
            if items
        )
        totals = (
            f"{self.documents_total} document(s), {self.passages_total} passages "
            f"in {index_dir}/{skipped}."
        )
        reused = (
            f", {self.passages_reused} reused from an interrupted run"
            if self.passages_reused
            else ""
        )
        embedded = f"({self.passages_embedded} passages embedded{reused})"
        if self.reread:  # a rebuild: nothing was kept, so nothing is changed or unchanged
            return (
                f"Rebuilt the index: re-read {len(self.reread)} document(s) it listed, "
                f"added {len(self.added)} new {embedded}{extra}; {totals}"
            )
        return (
            f"Indexed {len(self.added)} new and {len(self.replaced)} changed document(s) "
            f"{embedded}; {len(self.unchanged)} unchanged{extra}; {totals}"
        )


def collect_files(paths: Iterable[Path]) -> list[Path]:
    """Files named by `paths` (folders are searched recursively), sorted, each once.

    Hidden files and folders and Office lock files (`~$report.docx`) are passed over.
    Raises `RagError` for a path that does not exist or a folder without any file.
    """
    files: list[Path] = []
    for path in paths:
        if not path.exists():
            raise RagError(f"{path} does not exist", "name a file or folder of reports")
        if path.is_dir():
            found = sorted(
                candidate
                for candidate in path.rglob("*")
                if candidate.is_file() and not _passed_over(candidate.relative_to(path))
            )
            if not found:
                raise RagError(
                    f"{path}/ is empty",
                    f"put reports there ({', '.join(supported_extensions())})",
                )
            files.extend(found)
        else:
            files.append(path)
    unique: dict[Path, Path] = {}
    for file in files:
        unique.setdefault(file.resolve(), file)
    return list(unique.values())


def _passed_over(relative: Path) -> bool:
    return relative.name.startswith("~$") or any(p.startswith(".") for p in relative.parts)


def ingest(
    paths: Iterable[Path],
    index_dir: Path,
    config: IndexConfig,
    embedder: Embedder,
    progress: bool = True,
    log: Callable[[str], None] = print,
) -> IngestReport:
    """Add, update or remove the documents at `paths` in the index at `index_dir`.

    Skipped files, duplicates and renamed ids are announced through `log`, one line each.
    """
    paths = list(paths)
    files = collect_files(paths)
    report = IngestReport()
    work = PartialWork(index_dir, config, embedder, log)
    existing, listed = _load_existing(index_dir, config, log)
    reserved: dict[str, str] = {}
    if listed is not None:
        files, reserved = _add_listed_files(files, listed, report, log)
    corpus = Corpus(
        existing.documents if existing is not None else {},
        report,
        reserved,
        project_folder(index_dir),
    )
    for path in tqdm(files, desc="Reading", unit="file", disable=not progress):
        try:
            document = load_document(path)
        except DocumentError as error:
            report.skipped.append((str(path), str(error)))
            continue
        if document.encoding not in (None, UTF_8):
            report.legacy_encodings.append((str(path), str(document.encoding)))
        if not is_english(document.text):
            report.not_english.append(str(path))
        corpus.place(document, path.resolve())
    corpus.remove_missing([path.resolve() for path in paths if path.is_dir()])
    corpus.merge_duplicates()
    chunks = {
        doc_id: chunk_document(document, config.max_passage_tokens)
        for doc_id, document in sorted(corpus.pending.items())
    }
    _mark_near_duplicates(corpus, existing, chunks, report)
    report.missing_files = [
        (doc_id, record.path)
        for doc_id, record in sorted(corpus.records.items())
        if record.file_missing
    ]
    _announce(report, log)
    if not corpus.records:
        raise RagError(
            "no readable document to index", "fix or replace the skipped files listed above"
        )
    report.documents_total = len(corpus.records)
    paths_folder = existing.absolute_paths_folder if existing is not None else None
    unchanged = existing is not None and not corpus.pending and corpus.records == existing.documents
    if existing is not None and unchanged and paths_folder is None:
        report.passages_total = len(existing.passages)
        work.discard()
        return report  # nothing changed: leave the index files untouched
    if paths_folder is not None:
        log(_relative_paths_note(index_dir, paths_folder, embeds=bool(corpus.pending)))
    index = _build(existing, corpus, chunks, work, progress, report)
    index.save(index_dir)
    work.discard()
    report.saved = True
    return report


def _relative_paths_note(index_dir: Path, paths_folder: Path, embeds: bool) -> str:
    """What saving the index does to a manifest that named the files of `paths_folder` (this
    project, or the one a copied index was built in) absolutely."""
    project = project_folder(index_dir)
    if paths_folder == project:
        named = (
            f"named the files in {project}/ by absolute paths; it now names them relative "
            "to that folder, so that a copy of it reads its own files"
        )
    else:
        named = (
            f"named the files in {paths_folder}/, where it was built, by absolute paths; "
            f"this copy reads its own files at the same places in {project}/, and the "
            "manifest now names them relative to that folder"
        )
    return f"note: {index_dir}/{MANIFEST} {named}{'' if embeds else ' (nothing is embedded)'}"


def _announce(report: IngestReport, log: Callable[[str], None]) -> None:
    for _path, reason in report.skipped:
        log(f"skipped: {reason}")
    for path, encoding in report.legacy_encodings:
        log(f"note: {display_path(path)} is not UTF-8 text; it was read as {encoding}")
    for path in report.not_english:
        log(
            f"warning: {display_path(path)} does not appear to be in English; it is indexed, "
            "but answers about it will be poor: questions must be in English (others are "
            "refused), and English questions seldom find a passage in another language"
        )
    for path, doc_id in report.duplicates:
        log(f"duplicate: {display_path(path)} has the same content as '{doc_id}'; indexed once")
    for path, doc_id in report.renamed:
        log(
            f"note: {display_path(path)} is indexed as '{doc_id}' "
            "(its plain name is taken by another file)"
        )
    for doc_id, path in report.moved:
        if doc_id in report.moved_to_copy:
            log(
                f"moved: '{doc_id}' is now read from {display_path(path)}, its identical copy, "
                f"as its own file is gone; it keeps the id '{doc_id}', so that the anchors "
                "its answers cite stay valid"
            )
            continue
        log(f"moved: '{doc_id}' is now read from {display_path(path)}")
    for doc_id in report.removed:
        reason = report.removal_reasons.get(doc_id, "its file no longer exists")
        log(f"removed: '{doc_id}' ({reason})")
    for doc_id, path in report.missing_files:
        log(
            f"warning: '{doc_id}' is still indexed but its file {display_path(path)} no longer "
            f"exists; 'rag docs remove {doc_id}' drops it"
        )
    for pair in report.near_duplicates:
        log(
            f"warning: '{pair.shorter}' and '{pair.other}' may be one report indexed twice "
            f"(another edition or format): {as_percent(pair.shared)} of the text of "
            f"'{pair.shorter}' is also in '{pair.other}', so answers may cite both; "
            f"'rag docs remove ID' drops the one not wanted (see 'rag docs list')"
        )


def _mark_near_duplicates(
    corpus: Corpus,
    existing: PassageIndex | None,
    chunks: dict[str, list[Passage]],
    report: IngestReport,
) -> None:
    """Find the documents of `corpus` that hold largely the same text (`chunks` for those
    to be embedded, `existing` passages for the others), record them on each other's
    records and in `report`. Found afresh on every run: a removed or changed document
    takes its marks with it, and a pair left indexed is announced again."""
    texts: dict[str, list[str]] = {doc_id: [] for doc_id in corpus.records}
    for doc_id, passages in chunks.items():
        texts[doc_id] = [passage.text for passage in passages]
    for passage in existing.passages if existing is not None else ():
        if passage.doc_id in texts and passage.doc_id not in chunks:
            texts[passage.doc_id].append(passage.text)
    report.near_duplicates = find_near_duplicates(texts)
    partners = near_duplicates_of(report.near_duplicates)
    for doc_id, record in corpus.records.items():
        corpus.records[doc_id] = dataclasses.replace(
            record, near_duplicates=partners.get(doc_id, ())
        )


def _build(
    existing: PassageIndex | None,
    corpus: Corpus,
    chunks: dict[str, list[Passage]],
    work: PartialWork,
    progress: bool,
    report: IngestReport,
) -> PassageIndex:
    """The new index: kept documents' passages and vectors as they were, pending documents
    (chunked as `chunks`) embedded, or taken from what an interrupted run kept in `work`;
    documents in id order, so that an index updated step by step equals one built at once."""
    rows = _rows_by_document(existing.passages) if existing is not None else {}
    passages_of: dict[str, list[Passage]] = {}
    vectors_of: dict[str, np.ndarray] = {}
    sentence_vectors_of: dict[str, np.ndarray] = {}
    for doc_id in sorted(corpus.records):
        if doc_id in chunks:
            passages_of[doc_id] = chunks[doc_id]
            continue
        assert existing is not None
        own = rows.get(doc_id, [])
        passages_of[doc_id] = [existing.passages[row] for row in own]
        vectors_of[doc_id] = existing.vectors[own]
        # Kept passages keep their sentence vectors; an index built without them gets them.
        known = [existing.sentences_of(row)[1] for row in own]
        if all(vectors is not None for vectors in known):
            sentence_vectors_of[doc_id] = _stacked(known, existing.dimension)
    passage_tasks = {
        doc_id: EmbeddingTask(
            corpus.records[doc_id].content_hash,
            "passages",
            [_embedding_text(passage) for passage in passages],
        )
        for doc_id, passages in chunks.items()
    }
    sentence_tasks = {
        doc_id: EmbeddingTask(
            corpus.records[doc_id].content_hash,
            "sentences",
            [sentence for passage in passages for sentence in split_sentences(passage.text)],
        )
        for doc_id, passages in passages_of.items()
        if doc_id not in sentence_vectors_of
    }
    dimension = existing.dimension if existing is not None else 0
    if passage_tasks or sentence_tasks:
        dimension = _check_dimension(existing, work.dimension)
        work.embed_documents(passage_tasks, sentence_tasks, progress)
    for doc_id, task in passage_tasks.items():
        vectors_of[doc_id] = task.vectors(dimension)
        corpus.records[doc_id] = dataclasses.replace(
            corpus.records[doc_id], passages=len(chunks[doc_id])
        )
    for doc_id, task in sentence_tasks.items():
        sentence_vectors_of[doc_id] = task.vectors(dimension)
    passages_out = [passage for doc_id in sorted(passages_of) for passage in passages_of[doc_id]]
    vectors = _stacked([vectors_of[doc_id] for doc_id in sorted(passages_of)], dimension)
    sentence_vectors = _stacked(
        [sentence_vectors_of[doc_id] for doc_id in sorted(passages_of)], dimension
    )
    report.passages_reused = sum(task.resumed for task in passage_tasks.values())
    report.passages_embedded = sum(len(p) for p in chunks.values()) - report.passages_reused
    report.passages_total = len(passages_out)
    return PassageIndex(
        work.config, dimension, passages_out, vectors, dict(corpus.records), sentence_vectors
    )


def _check_dimension(existing: PassageIndex | None, dimension: int) -> int:
    """`dimension`, the embedder's, unless the kept index holds vectors of another."""
    if existing is not None and existing.passages and dimension != existing.dimension:
        raise IndexMismatchError(
            f"the index holds {existing.dimension}-d vectors but the embedder gives "
            f"{dimension}-d ones",
            f"delete the index folder and {REBUILD_HINT}",
        )
    return dimension


def _stacked(parts: Sequence[np.ndarray | None], dimension: int) -> np.ndarray:
    """The rows of `parts` one after another (None and empty parts add none)."""
    present = [part for part in parts if part is not None and len(part)]
    if not present:
        return np.zeros((0, dimension), dtype=np.float32)
    return np.vstack(present).astype(np.float32)


def _rows_by_document(passages: list[Passage]) -> dict[str, list[int]]:
    rows: dict[str, list[int]] = {}
    for row, passage in enumerate(passages):
        rows.setdefault(passage.doc_id, []).append(row)
    return rows


def _load_existing(
    index_dir: Path, config: IndexConfig, log: Callable[[str], None]
) -> tuple[PassageIndex | None, dict[str, DocumentRecord] | None]:
    """The current index, or None when there is none or it was built differently (then it is
    rebuilt from scratch, and replaced only once the new one is complete); and, for a rebuild,
    the documents the old manifest lists, so that none is dropped unannounced."""
    try:
        return load_index(index_dir, config), None
    except IndexMissingError:
        return None, None
    except IndexMismatchError as error:
        log(f"Rebuilding the index: {error.problem}.")
    try:
        listed = read_documents(index_dir)
    except (IndexMismatchError, IndexMissingError):
        log(
            f"warning: {index_dir}/{MANIFEST} cannot be read, so the documents it listed are "
            "unknown: the rebuilt index holds only the documents under the paths given; "
            "ingest the others again by naming their files or folders"
        )
        return None, None
    return None, listed


def _add_listed_files(
    files: list[Path],
    listed: dict[str, DocumentRecord],
    report: IngestReport,
    log: Callable[[str], None],
) -> tuple[list[Path], dict[str, str]]:
    """`files` plus the source files of the `listed` documents that still exist (and their
    duplicates), and the id each listed file keeps. A listed document whose file is gone is
    reported as removed."""
    given = {file.resolve() for file in files}
    extra: list[Path] = []
    reserved: dict[str, str] = {}
    for doc_id, record in sorted(listed.items()):
        source = Path(path_key(record.path))
        if source.is_file():
            reserved[str(source)] = doc_id
        else:
            report.removed.append(doc_id)
            report.removal_reasons[doc_id] = (
                f"its file {display_path(record.path)} no longer exists, "
                "so the rebuilt index cannot hold it"
            )
        for candidate in (source, *(Path(path_key(d)) for d in record.duplicates)):
            if candidate.is_file() and candidate not in given:
                given.add(candidate)
                extra.append(candidate)
    if extra:
        log(f"Re-reading {len(extra)} file(s) the previous index listed.")
    return files + sorted(extra), reserved


def _embedding_text(passage: Passage) -> str:
    """The section heading travels with the passage: it often names the topic the text omits."""
    if passage.section and not passage.text.startswith(passage.section.split(":")[0]):
        return f"{passage.section}: {passage.text}"
    return passage.text
