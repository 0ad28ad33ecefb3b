"""Dependencies of the routes, as `Annotated[..., Depends(...)]` aliases.

API keys: when `RAG_API_KEYS` lists any, every route but health and the static files needs
one, as `Authorization: Bearer KEY` or `X-API-Key: KEY`. Keys are compared in constant
time and never logged.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from typing import Annotated

import anyio
from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from api.errors import ApiError
from api.service import AssistantService
from rag.index import PassageIndex
from rag.pipeline import Pipeline

_bearer = HTTPBearer(auto_error=False, description="An API key from RAG_API_KEYS.")
_api_key_header = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="An API key from RAG_API_KEYS."
)


def get_service(request: Request) -> AssistantService:
    service: AssistantService = request.app.state.service
    return service


ServiceDep = Annotated[AssistantService, Depends(get_service)]


async def require_api_key(
    service: ServiceDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header_key: Annotated[str | None, Depends(_api_key_header)],
) -> None:
    """Pass when no keys are configured, or when the request carries one of them."""
    accepted = service.settings.api_keys
    if not accepted:
        return
    offered = header_key or (bearer.credentials if bearer else None)
    if not offered:
        raise ApiError(
            401,
            "an API key is required",
            field="Authorization",
            rule="api_key_required",
            fix="send 'Authorization: Bearer KEY' or 'X-API-Key: KEY'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not key_matches(offered, accepted):
        raise ApiError(
            401,
            "the API key is not valid",
            field="Authorization",
            rule="api_key_invalid",
            fix="use a key listed in the server's RAG_API_KEYS",
            headers={"WWW-Authenticate": "Bearer"},
        )


def key_matches(offered: str, accepted: Sequence[str]) -> bool:
    """Whether `offered` is one of `accepted`, in time independent of where they differ
    (every key is compared, so the time does not tell which one matched either)."""
    offered_bytes = offered.encode()
    matched = False
    for key in accepted:
        matched |= hmac.compare_digest(offered_bytes, key.encode())
    return matched


ApiKeyDep = Depends(require_api_key)


async def get_pipeline(service: ServiceDep) -> Pipeline:
    """The pipeline over the index as it is on disk now (reloaded first if it changed); 503
    naming the fix (e.g. "run 'rag ingest'") when there is none. The request keeps this
    pipeline to its end, whatever reloads meanwhile."""
    await refresh_index(service)
    return service.pipeline()


async def refresh_index(service: AssistantService) -> None:
    """Reload the index if it changed on disk: checked in the event loop (one `stat`),
    reloaded in a worker thread."""
    if service.index_changed():
        await anyio.to_thread.run_sync(service.refresh_index)


PipelineDep = Annotated[Pipeline, Depends(get_pipeline)]


async def get_index(pipeline: PipelineDep) -> PassageIndex:
    return pipeline.retriever.index


IndexDep = Annotated[PassageIndex, Depends(get_index)]


def client_of(request: Request) -> str | None:
    """The client's address, for the audit log."""
    return request.client.host if request.client else None
