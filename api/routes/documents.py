"""`GET /api/documents`: the indexed documents, their passage counts and content hashes.

Paths are given relative to the seeds folder (RAG_SEEDS_DIR), or as the file name alone for
a file ingested from elsewhere: clients need to tell the files apart, not to learn where
the server keeps them.
"""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import ApiKeyDep, IndexDep, ServiceDep
from api.public_paths import public_path
from api.schemas import DocumentOut, DocumentsResponse, error_responses

router = APIRouter(tags=["documents"], dependencies=[ApiKeyDep])


@router.get("/documents", response_model=DocumentsResponse, responses=error_responses(401, 503))
async def list_documents(index: IndexDep, service: ServiceDep) -> DocumentsResponse:
    """Every indexed document; `corpus_hash` changes whenever any of them does."""
    seeds = service.settings.seeds_dir.resolve()
    return DocumentsResponse(
        corpus_hash=index.corpus_hash,
        documents=[
            DocumentOut(
                doc=record.doc_id,
                title=record.title,
                path=public_path(record.path, seeds),
                content_hash=record.content_hash,
                passages=record.passages,
                duplicates=[public_path(duplicate, seeds) for duplicate in record.duplicates],
                file_missing=record.file_missing,
                near_duplicates=dict(record.near_duplicates),
            )
            for _doc, record in sorted(index.documents.items())
        ],
    )
