"""`rag docs`: list the indexed documents, or remove some from the index.

Both work on the index as it was built: listing reads only the manifest, and removing keeps
the other documents' passages and vectors as they are (nothing is embedded, no model is
loaded) and saves atomically like `rag ingest`. A removed document whose file is still in an
ingested folder comes back with the next `rag ingest` of that folder.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from rag.corpus import display_path
from rag.errors import RagError
from rag.index import PassageIndex, load_index
from rag.manifest import DocumentRecord, IndexConfig, read_documents, read_manifest
from rag.near_duplicates import as_percent
from rag.settings import Settings

NAME = "docs"


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        NAME,
        help="list the indexed documents, or remove some",
        description="Manage the documents in the index (add or update them with 'rag ingest').",
        epilog=(
            "Examples:\n"
            "  rag docs list                       id, passages, title and file of each\n"
            "  rag docs list --json\n"
            "  rag docs remove ruritania-review    by id (see 'rag docs list') or by path"
        ),
    )
    actions = parser.add_subparsers(dest="docs_action", metavar="ACTION", required=True)
    listing = actions.add_parser(
        "list",
        help="the indexed documents: id, passages, full title and file of each",
        description=(
            "List the indexed documents: id and passages, then the full title and the file, "
            "the duplicate files not indexed and the near-duplicates (another edition or "
            "format of the same text) of each."
        ),
        epilog="Examples:\n  rag docs list\n  rag docs list --json --index-dir /srv/rag/index",
    )
    listing.add_argument("--json", action="store_true", help="one JSON object per document")
    remove = actions.add_parser(
        "remove",
        help="remove documents from the index (their files are left alone)",
        description="Remove documents from the index; nothing is re-embedded.",
        epilog=(
            "Examples:\n"
            "  rag docs remove ruritania-review\n"
            "  rag docs remove seeds/old-report.pdf another-id"
        ),
    )
    remove.add_argument(
        "documents", nargs="+", metavar="DOC", help="document id (see 'rag docs list') or path"
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.docs_action == "list":
        return list_documents(settings.index_dir, as_json=args.json)
    return remove_documents(settings.index_dir, args.documents)


def list_documents(index_dir: Path, as_json: bool = False) -> int:
    """Print the indexed documents; from the manifest alone, so it is instant."""
    manifest = read_manifest(index_dir)
    # Records with absolute paths: the manifest names the project's files relative to it.
    documents = read_documents(index_dir)
    for doc_id, record in sorted(documents.items()):
        # A file ingested by its own path stays indexed after it is deleted (only ingesting
        # its folder removes it), so say which passages no longer have a source to check.
        missing = record.file_missing
        if as_json:
            print(json.dumps(_record_json(record), ensure_ascii=False))
            continue
        # The title whole, on a line of its own: titles of reports are long and often share
        # their first words ("Republic of Ruritania: Voluntary National Review…").
        print(f"{doc_id}  {record.passages} passages")
        print(f"    title: {record.title}")
        print(f"    file:  {display_path(record.path)}{'  (file missing)' if missing else ''}")
        for duplicate in record.duplicates:
            print(f"    duplicate, not indexed: {display_path(duplicate)}")
        for other, share in record.near_duplicates:
            print(
                f"    near-duplicate of '{other}': {as_percent(share)} of the shorter one's "
                "text is in the other; 'rag docs remove' the one not wanted"
            )
    if not as_json:
        print(
            f"{len(documents)} document(s), {manifest.get('passages', 0)} passages in {index_dir}/."
        )
    return 0


def _record_json(record: DocumentRecord) -> dict[str, Any]:
    """One document of `rag docs list --json`, its files named absolutely."""
    return {
        "doc": record.doc_id,
        "title": record.title,
        "path": record.path,
        "content_hash": record.content_hash,
        "passages": record.passages,
        "duplicates": list(record.duplicates),
        "near_duplicates": dict(record.near_duplicates),
        "file_missing": record.file_missing,
    }


def remove_documents(index_dir: Path, names: list[str]) -> int:
    """Remove the documents named by id or path, and save the index without them."""
    index = load_index(index_dir, _built_with(index_dir))
    doc_ids = [_find(index, name, index_dir) for name in names]
    removed = set(doc_ids)
    remaining = index.without_documents(removed)
    remaining.save(index_dir)
    for doc_id in dict.fromkeys(doc_ids):
        record = index.documents[doc_id]
        print(f"Removed '{doc_id}' ({record.passages} passages).")
        if not record.file_missing:
            print(
                f"  Its file {display_path(record.path)} is still there: "
                "'rag ingest' of its folder would add it again."
            )
    print(
        f"{len(remaining.documents)} document(s), {len(remaining.passages)} passages "
        f"left in {index_dir}/."
    )
    return 0


def _built_with(index_dir: Path) -> IndexConfig:
    """The configuration the index was built with: removing needs no model, so an index built
    with another embedder than the configured one can still be pruned."""
    manifest = read_manifest(index_dir)
    try:
        return IndexConfig(
            embedding_model=manifest["embedding_model"],
            chunker_version=manifest["chunker_version"],
            max_passage_tokens=manifest["max_passage_tokens"],
        )
    except KeyError as error:
        raise RagError(
            f"{index_dir}/manifest.json lacks {error}", "run 'rag ingest' to rebuild"
        ) from None


def _find(index: PassageIndex, name: str, index_dir: Path) -> str:
    if name in index.documents:
        return name
    wanted = Path(name).resolve()
    for doc_id, record in index.documents.items():
        if Path(record.path).resolve() == wanted:
            return doc_id
    ids = sorted(index.documents)
    known = ", ".join(ids[:10]) + (f", … ({len(ids)} in all)" if len(ids) > 10 else "") or "none"
    raise RagError(
        f"no document '{name}' in {index_dir}/ (indexed: {known})",
        "name a document id from 'rag docs list'",
    )
