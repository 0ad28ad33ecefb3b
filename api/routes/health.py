"""`GET /api/health`: liveness (it answers at all) and readiness (`ready`, and `problems`
saying what is missing). Always 200 and open without an API key, so that probes and the
widget can tell "not ready" from "down"; it never waits behind generation."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import ServiceDep, refresh_index
from api.schemas import HealthResponse

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthResponse)
async def health(service: ServiceDep) -> dict[str, Any]:
    """Whether the index is loaded and the model works (it loaded, or has written an
    answer since, and has not failed since), their versions and the corpus hash (of the
    index on disk now: a changed one is loaded first)."""
    await refresh_index(service)
    return service.health()
