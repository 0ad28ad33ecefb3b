"""`GET /api/documents`: the indexed documents, their passage counts and content hashes."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import ApiKeyDep, IndexDep
from api.schemas import DocumentOut, DocumentsResponse, error_responses

router = APIRouter(tags=["documents"], dependencies=[ApiKeyDep])


@router.get("/documents", response_model=DocumentsResponse, responses=error_responses(401, 503))
async def list_documents(index: IndexDep) -> DocumentsResponse:
    """Every indexed document; `corpus_hash` changes whenever any of them does."""
    return DocumentsResponse(
        corpus_hash=index.corpus_hash,
        documents=[
            DocumentOut(
                doc=record.doc_id,
                title=record.title,
                path=record.path,
                content_hash=record.content_hash,
                passages=record.passages,
                duplicates=list(record.duplicates),
            )
            for _doc, record in sorted(index.documents.items())
        ],
    )
