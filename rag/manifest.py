"""The index manifest: what an index was built with, which data files are current, and
the documents it holds; read, checked against the configuration, and encoded for saving.

The manifest is `manifest.json` in the index folder. `rag.index` writes it last, as the
commit point of a save (see that module's docstring); this module owns its content.

The manifest names the source files inside the project folder (the index folder's parent,
`project_folder`) relative to it, so that a copied or moved project reads its own files;
files elsewhere are named absolutely. In memory a `DocumentRecord` always holds the
absolute path. Manifests written with absolute paths throughout (before `"relative_paths"`
marked those that are not) still load, and the next `rag ingest` rewrites them
(`absolute_paths_folder`, `PassageIndex.absolute_paths_folder`). Such a manifest copied
with its project names the files of the project it was built in: the folder is inferred
from the files this project holds at the same places, and the files there are read instead.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.chunking import CHUNKER_VERSION
from rag.errors import IndexMismatchError, IndexMissingError

MANIFEST = "manifest.json"
FORMAT_VERSION = 1
REBUILD_HINT = "run 'rag ingest' to rebuild it"


@dataclass(frozen=True)
class IndexConfig:
    """The settings an index depends on; loading refuses an index built with others."""

    embedding_model: str
    chunker_version: str = CHUNKER_VERSION
    max_passage_tokens: int = 200


@dataclass(frozen=True)
class DocumentRecord:
    """A document as the manifest lists it (its `path` and `duplicates` absolute)."""

    doc_id: str
    title: str
    path: str
    content_hash: str
    passages: int
    duplicates: tuple[str, ...] = ()
    # Other documents holding largely the same text (another edition, another format), by
    # id, with the share of the shorter one's text the other holds (`rag.near_duplicates`).
    near_duplicates: tuple[tuple[str, float], ...] = ()

    @property
    def file_missing(self) -> bool:
        """Whether the source file is gone: a document ingested by its own path stays
        indexed after its file is deleted (only ingesting its folder removes it)."""
        return not Path(self.path).exists()


def manifest_signature(index_dir: Path) -> tuple[int, int, int, int] | None:
    """What tells the manifest at `index_dir` from the one saved before it, at the cost of one
    `stat` (None when there is none): each save puts a new file in its place (device, inode,
    modification time and size), and the manifest is the commit point, so a changed
    signature is a changed index."""
    try:
        status = (index_dir / MANIFEST).stat()
    except OSError:
        return None
    return (status.st_dev, status.st_ino, status.st_mtime_ns, status.st_size)


def project_folder(index_dir: Path) -> Path:
    """The project folder of the index at `index_dir`: the folder holding it, as the project
    holds index/ beside seeds/ (its symbolic links resolved, as source paths are)."""
    return index_dir.absolute().parent.resolve()


def read_manifest(index_dir: Path) -> dict[str, Any]:
    """The manifest of the index at `index_dir`, or `IndexMissingError` saying how to build it."""
    path = index_dir / MANIFEST
    if not path.is_file():
        raise IndexMissingError(f"no index at {index_dir}/", "run 'rag ingest' to build it")
    try:
        manifest: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise IndexMismatchError(f"{path} is unreadable ({error})", REBUILD_HINT) from None
    return manifest


def read_documents(index_dir: Path) -> dict[str, DocumentRecord]:
    """The documents the manifest at `index_dir` lists, whatever the index was built with
    (`IndexMismatchError` when the manifest is unreadable or does not list them properly)."""
    manifest = read_manifest(index_dir)
    try:
        return documents_of(manifest, project_folder(index_dir))
    except (KeyError, TypeError, AttributeError) as error:
        raise IndexMismatchError(
            f"{index_dir}/{MANIFEST} lists its documents wrongly ({error!r})", REBUILD_HINT
        ) from None


def check_built_with(manifest: dict[str, Any], index_dir: Path, expected: IndexConfig) -> None:
    """Refuse (`IndexMismatchError`) the manifest of the index at `index_dir` when it has
    another format or was built with a configuration other than `expected`; the message
    names what differs and the command that rebuilds."""
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexMismatchError(
            f"{index_dir}/ has index format {manifest.get('format_version')}, "
            f"this version reads {FORMAT_VERSION}",
            REBUILD_HINT,
        )
    differences = [
        f"{name} '{manifest.get(name)}' (configured: '{getattr(expected, name)}')"
        for name in ("embedding_model", "chunker_version", "max_passage_tokens")
        if manifest.get(name) != getattr(expected, name)
    ]
    if differences:
        raise IndexMismatchError(
            f"{index_dir}/ was built with {', '.join(differences)}", REBUILD_HINT
        )


def documents_of(manifest: dict[str, Any], project: Path) -> dict[str, DocumentRecord]:
    """The documents `manifest` lists, their paths made absolute against `project`; the files
    it names absolutely in the project folder it was built in (`absolute_paths_folder`) are
    read from the same places in `project`.

    A manifest that lists them wrongly raises KeyError, TypeError or AttributeError, left to
    the caller to report in its own terms ("damaged", "lists its documents wrongly")."""
    built_in = absolute_paths_folder(manifest, project)
    return {d: _record_from_dict(d, r, project, built_in) for d, r in manifest["documents"].items()}


def absolute_paths_folder(manifest: dict[str, Any], project: Path) -> Path | None:
    """The project folder whose files `manifest` names absolutely, as manifests did before
    they named them relative to it (so that saving it again would change it), or None.

    That is `project` when a file inside it is named absolutely. A manifest written before
    `"relative_paths"` that names none may have been copied with its project (`cp -r`): it
    names the files of the project it was built in, which is inferred as the folder whose
    files this project holds at the same places (`/work/main/seeds/report.txt` and
    `project/seeds/report.txt` give `/work/main`), the one most files agree on. A folder
    holding `project` is never inferred: files beside the project stay where they are."""
    stored = [
        Path(path)
        for record in manifest["documents"].values()
        for path in (record["path"], *record.get("duplicates", ()))
    ]
    absolute = [path for path in stored if path.is_absolute()]
    if any(path.is_relative_to(project) for path in absolute):
        return project
    if manifest.get("relative_paths"):
        return None  # its absolute paths name files outside the project it was built in
    votes: Counter[Path] = Counter()
    for path in absolute:
        for folder in path.parents[:-1]:  # the nearest first; never the filesystem root
            if project.is_relative_to(folder):
                break
            if (project / path.relative_to(folder)).exists():
                votes[folder] += 1
                break
    return max(sorted(votes), key=votes.__getitem__) if votes else None


def encode_manifest(
    config: IndexConfig,
    dimension: int,
    passages: int,
    corpus_hash: str,
    documents: dict[str, DocumentRecord],
    files: dict[str, str],
    checksums: dict[str, str],
    project: Path,
) -> bytes:
    """The manifest of an index, as the bytes to save: its configuration, the data `files` by
    role with their SHA-256 `checksums`, and `documents` with paths inside `project` relative."""
    manifest = {
        "format_version": FORMAT_VERSION,
        "embedding_model": config.embedding_model,
        "dimension": dimension,
        "chunker_version": config.chunker_version,
        "max_passage_tokens": config.max_passage_tokens,
        "passages": passages,
        "corpus_hash": corpus_hash,
        "documents": {d: _record_to_dict(r, project) for d, r in sorted(documents.items())},
        # Tells this manifest from older ones, which named the project's files absolutely:
        # its absolute paths name files outside the project (`absolute_paths_folder`).
        "relative_paths": True,
        "files": files,
        "checksums": checksums,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    return json.dumps(manifest, indent=2).encode()


def _record_to_dict(record: DocumentRecord, project: Path) -> dict[str, Any]:
    return {
        "title": record.title,
        "path": _stored_path(record.path, project),
        "content_hash": record.content_hash,
        "passages": record.passages,
        "duplicates": [_stored_path(duplicate, project) for duplicate in record.duplicates],
        "near_duplicates": dict(record.near_duplicates),
    }


def _record_from_dict(
    doc_id: str, data: dict[str, Any], project: Path, built_in: Path | None
) -> DocumentRecord:
    return DocumentRecord(
        doc_id=doc_id,
        title=data["title"],
        path=_source_path(data["path"], project, built_in),
        content_hash=data["content_hash"],
        passages=data["passages"],
        duplicates=tuple(
            _source_path(duplicate, project, built_in) for duplicate in data.get("duplicates", ())
        ),
        # Absent from manifests written before near-duplicates were looked for.
        near_duplicates=tuple(sorted(data.get("near_duplicates", {}).items())),
    )


def _stored_path(path: str, project: Path) -> str:
    """How the manifest names the source file `path`: relative to `project` (POSIX) when it
    lies inside it, else as it is."""
    source = Path(path)
    if source.is_absolute() and source.is_relative_to(project):
        return source.relative_to(project).as_posix()
    return path


def _source_path(stored: str, project: Path, built_in: Path | None) -> str:
    """The absolute path of a source file the manifest names `stored`: a relative one lies
    in `project`, and so does one named absolutely in the project folder `built_in`."""
    source = Path(stored)
    if not source.is_absolute():
        return str(project / stored)
    if built_in is not None and source.is_relative_to(built_in):
        return str(project / source.relative_to(built_in))
    return stored
