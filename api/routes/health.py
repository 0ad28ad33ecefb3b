"""`GET /api/health`: liveness (it answers at all) and readiness (`ready`, and `problems`
saying what is missing). Always 200 and open without an API key, so that probes and the
widget can tell "not ready" from "down"; it never waits behind generation."""

from __future__ import annotations

from typing import Any

import anyio
from fastapi import APIRouter

from api.deps import ServiceDep
from api.schemas import HealthResponse

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthResponse)
async def health(service: ServiceDep) -> dict[str, Any]:
    """Whether the index and the model are loaded, their versions and the corpus hash."""
    if service.loaded_pipeline is None:
        await anyio.to_thread.run_sync(service.retry_index)
    return service.health()
