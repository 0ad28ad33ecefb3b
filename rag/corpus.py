"""Which documents an index holds, as one ingest run finds them: ids from file names, kept
apart when two files would share one; changed, moved, duplicate and removed files."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

from rag.loaders import document_id
from rag.manifest import DocumentRecord
from rag.types import Document

if TYPE_CHECKING:
    from rag.ingest import IngestReport


class Corpus:
    """The index's documents as this run finds them: records by id, and the documents that
    must be (re-)embedded."""

    def __init__(
        self,
        records: dict[str, DocumentRecord],
        report: IngestReport,
        reserved: dict[str, str] | None = None,
        project: Path | None = None,
    ) -> None:
        self.records = dict(records)
        self.pending: dict[str, Document] = {}
        self.report = report
        self._by_path = {path_key(r.path): doc_id for doc_id, r in records.items()}
        # On a rebuild, the id each listed file had (by resolved path): anchors must not move,
        # so no other file may take one of these ids.
        self._reserved = dict(reserved or {})
        # The folder whose files the manifest names relatively (`rag.manifest.project_folder`):
        # a copy of a report there is read rather than one elsewhere.
        self._project = project

    def place(self, document: Document, path: Path) -> None:
        """Decide what `document`, read from `path`, does to the index."""
        key = str(path)
        copy_of = self._forget_duplicate(key)
        doc_id = self._by_path.get(key)
        if doc_id is not None:
            if self.records[doc_id].content_hash == document.content_hash:
                self.report.unchanged.append(doc_id)
            else:
                self._stage(dataclasses.replace(document, doc_id=doc_id), key)
                self.report.replaced.append(doc_id)
            return
        moved_from = next(
            (
                doc_id
                for doc_id, record in self.records.items()
                if record.content_hash == document.content_hash
                and doc_id not in self.pending
                and record.file_missing
            ),
            None,
        )
        if moved_from is not None:
            del self._by_path[path_key(self.records[moved_from].path)]
            self.records[moved_from] = dataclasses.replace(self.records[moved_from], path=key)
            self._by_path[key] = moved_from
            self.report.moved.append((moved_from, key))
            if moved_from in copy_of:
                self.report.moved_to_copy.append(moved_from)
            return
        doc_id = self._reserved.get(key, "")
        # A file the rebuilt index listed is read again, not new to the index.
        listed = bool(doc_id) and doc_id not in self.records
        if not listed:
            doc_id = self._new_id(path, document.doc_id)
            if doc_id != document.doc_id:
                self.report.renamed.append((key, doc_id))
        self._stage(dataclasses.replace(document, doc_id=doc_id), key)
        (self.report.reread if listed else self.report.added).append(doc_id)

    def remove_missing(self, folders: list[Path]) -> None:
        """Drop documents (and duplicate entries) whose file in one of `folders` is gone."""

        def gone(path: str) -> bool:
            resolved = Path(path_key(path))
            return any(resolved.is_relative_to(f) for f in folders) and not resolved.exists()

        for doc_id, record in list(self.records.items()):
            if gone(record.path):
                self._drop(doc_id)
                self.report.removed.append(doc_id)
            elif any(gone(duplicate) for duplicate in record.duplicates):
                kept = tuple(d for d in record.duplicates if not gone(d))
                self.records[doc_id] = dataclasses.replace(record, duplicates=kept)

    def merge_duplicates(self) -> None:
        """Index each content once: of the documents sharing a content hash, keep one that is
        already embedded; else, on a rebuild, the id the old index gave that content
        (`_keep_listed_id`); else the first by path whose file name another one extends
        (`report.md` before `report-copy.md`), or the first by path. The others become its
        duplicates."""
        by_hash: dict[str, list[str]] = {}
        for doc_id, record in sorted(self.records.items(), key=lambda item: item[1].path):
            by_hash.setdefault(record.content_hash, []).append(doc_id)
        for doc_ids in by_hash.values():
            if len(doc_ids) < 2:
                continue
            keeper = next((d for d in doc_ids if d not in self.pending), None)
            if keeper is None:
                keeper = self._keep_listed_id(doc_ids)
            for doc_id in doc_ids:
                if doc_id == keeper:
                    continue
                record = self.records[doc_id]
                self._drop(doc_id)
                report = self.report
                for outcome in (report.added, report.reread, report.replaced, report.unchanged):
                    if doc_id in outcome:
                        outcome.remove(doc_id)
                self.report.renamed = [r for r in self.report.renamed if r[1] != doc_id]
                self._add_duplicates(keeper, (record.path, *record.duplicates))
                self.report.duplicates.append((record.path, keeper))

    def _keep_listed_id(self, doc_ids: list[str]) -> str:
        """Of `doc_ids` (one content, none embedded, sorted by path), the one to index: the
        id a rebuilt index listed, so that its anchors stay; read from the copy inside the
        project folder if there is one, the listed file first (a copy of the index taken
        from another checkout lists that checkout's files). With no listed id, the first."""
        listed = next((d for d in doc_ids if d in self._reserved.values()), None)
        if listed is None:
            # A copy's name adds to the original's ("report-copy.md", "report (1).pdf",
            # "Copy of report.docx"), and the original's id is the one a reader expects;
            # sorting alone would pick "report-copy.md" ('-' sorts before '.').
            stems = [Path(self.records[d].path).stem.lower() for d in doc_ids]
            extended = [any(stem in other and stem != other for other in stems) for stem in stems]
            return doc_ids[extended.index(True)] if any(extended) else doc_ids[0]
        source = min(
            doc_ids,
            key=lambda d: (not self._in_project(self.records[d].path), d != listed),
        )
        if source != listed:
            # The two swap files: the listed id reads the chosen copy, and the other id,
            # about to become a duplicate entry, the file the old index read.
            listed_document, source_document = self.pending[listed], self.pending[source]
            listed_path, source_path = self.records[listed].path, self.records[source].path
            self._stage(dataclasses.replace(source_document, doc_id=listed), source_path)
            self._stage(dataclasses.replace(listed_document, doc_id=source), listed_path)
        return listed

    def _in_project(self, path: str) -> bool:
        return self._project is not None and Path(path_key(path)).is_relative_to(self._project)

    def _stage(self, document: Document, key: str) -> None:
        self.records[document.doc_id] = DocumentRecord(
            doc_id=document.doc_id,
            title=document.title,
            path=key,
            content_hash=document.content_hash,
            passages=0,  # counted once chunked
            duplicates=(),  # a changed document no longer has its duplicates' content
        )
        self.pending[document.doc_id] = document
        self._by_path[key] = document.doc_id

    def _drop(self, doc_id: str) -> None:
        record = self.records.pop(doc_id)
        self.pending.pop(doc_id, None)
        self._by_path.pop(path_key(record.path), None)

    def _add_duplicates(self, doc_id: str, paths: tuple[str, ...]) -> None:
        record = self.records[doc_id]
        merged = tuple(sorted({*record.duplicates, *paths}))
        self.records[doc_id] = dataclasses.replace(record, duplicates=merged)

    def _forget_duplicate(self, key: str) -> set[str]:
        """A file read again is judged afresh, not by an earlier duplicate entry; the ids of
        the documents it was listed as a duplicate of."""
        copy_of: set[str] = set()
        for doc_id, record in list(self.records.items()):
            if key in record.duplicates:
                kept = tuple(d for d in record.duplicates if d != key)
                self.records[doc_id] = dataclasses.replace(record, duplicates=kept)
                copy_of.add(doc_id)
        return copy_of

    def _new_id(self, path: Path, preferred: str) -> str:
        """`preferred`, or when another file holds it, a variant naming what differs (the
        extension, or for the same extension the folder), or else numbered."""
        extension = path.suffix.lstrip(".").lower()
        folder = document_id(path.parent) if path.parent.name else ""
        by_extension = f"{preferred}-{extension}" if extension else ""
        by_folder = f"{folder}-{preferred}" if folder else ""
        holder = self.records.get(preferred)
        same_extension = holder is not None and Path(holder.path).suffix.lower() == path.suffix
        candidates = [
            preferred,
            *((by_folder, by_extension) if same_extension else (by_extension, by_folder)),
        ]
        taken = {*self.records, *self._reserved.values()}
        for candidate in candidates:
            if candidate and candidate not in taken:
                return candidate
        number = 2
        while f"{preferred}-{number}" in taken:
            number += 1
        return f"{preferred}-{number}"


def path_key(path: str) -> str:
    """How files are compared: resolved (older indexes recorded paths as given)."""
    return str(Path(path).resolve())


def display_path(path: str) -> str:
    """`path` relative to the working directory when it lies below it, else absolute."""
    resolved = Path(path).resolve()
    try:
        return str(resolved.relative_to(Path.cwd()))
    except ValueError:
        return str(resolved)
