"""`GET /api/passages/{anchor}`: one passage, with its document, offsets, neighbours and
place in the document, as JSON for systems (the chat shows it to readers: chat/reader.js).

Anchors contain '#' (`gcm-unece-2020#p22`), which a URL must carry encoded as `%23`: a bare
'#' starts the URL's fragment, which clients never send.
"""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import ApiKeyDep, IndexDep
from api.errors import ApiError
from api.schemas import PassageResponse, error_responses

router = APIRouter(tags=["passages"], dependencies=[ApiKeyDep])


@router.get(
    "/passages/{anchor:path}",
    response_model=PassageResponse,
    responses=error_responses(401, 404, 503),
)
async def get_passage(anchor: str, index: IndexDep) -> PassageResponse:
    """The passage at `anchor` (URL-encoded: `gcm-unece-2020%23p22`)."""
    passage = index.passage(anchor)
    if passage is None:
        fix = (
            "anchors look like 'gcm-unece-2020#p22'; encode '#' as %23 in the URL"
            if "#" not in anchor
            else "use an anchor from an answer's citations or passages"
        )
        raise ApiError(
            404,
            f"no passage has the anchor '{anchor}'",
            field="anchor",
            rule="known_anchor",
            fix=fix,
        )
    previous, following = index.neighbours(anchor)
    position, document_passages = index.place(anchor)
    return PassageResponse(
        anchor=passage.anchor,
        doc=passage.doc_id,
        doc_title=passage.doc_title,
        section=passage.section,
        page=passage.page,
        text=passage.text,
        start=passage.start,
        end=passage.end,
        content_hash=passage.content_hash,
        previous=previous,
        next=following,
        position=position,
        document_passages=document_passages,
    )
