"""The FastAPI application: `create_app(settings)`.

The lifespan loads the embedder, the generator and the index once, through rag/factory.py,
into an `AssistantService` on `app.state`; routes reach it through the dependencies in
api/deps.py. The app starts even without an index (health says "not ready", answers say
"run 'rag ingest'"). The chat widget's files, when present in api/static/, are served at
`/` (`/` is its index.html), behind every API route. API docs at /docs, served from local
files: no CDN is reachable.

Run it with `rag serve`, or `uvicorn --factory api.app:create_app`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from starlette.routing import BaseRoute, Match, Mount
from starlette.types import ASGIApp, Scope

from api.errors import install_error_handlers
from api.limits import MAX_BODY_BYTES, BodySizeLimitMiddleware
from api.routes import ask, documents, health, openai_compat, passages
from api.service import AssistantService, versions
from rag.pipeline import Pipeline
from rag.settings import Settings

STATIC_DIR = Path(__file__).parent / "static"
DESCRIPTION = """Answers questions from the indexed migration-policy reports; every claim
cites the exact passage it rests on, and the assistant abstains when the reports do not
answer. Anchors contain '#': send it as %23 in URLs."""


def create_app(
    settings: Settings | None = None,
    pipeline: Pipeline | None = None,
    static_dir: Path | None = STATIC_DIR,
) -> FastAPI:
    """The app for `settings` (default: from RAG_* variables). `pipeline`, when given, is
    served instead of loading one (tests share one loaded model this way); `static_dir`
    is served at `/` when it exists (None: no static files)."""
    settings = settings or Settings()  # type: ignore[call-arg]  # fields come from RAG_*

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service = AssistantService(settings, pipeline)
        await anyio.to_thread.run_sync(service.start)
        app.state.service = service
        yield

    app = FastAPIOffline(
        title="GCM RAG",
        description=DESCRIPTION,
        version=versions()["gcm-rag"] or "unknown",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.include_router(ask.router, prefix="/api")
    app.include_router(passages.router, prefix="/api")
    app.include_router(documents.router, prefix="/api")
    app.include_router(health.router, prefix="/api")
    app.include_router(openai_compat.router)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=MAX_BODY_BYTES)
    if settings.cors_origins:
        # Added last, so it is outermost: refusals (413, 401…) carry CORS headers too, and
        # the embedding page can read them.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "X-API-Key", "Content-Type"],
            expose_headers=["Retry-After"],
        )
    if static_dir is not None:
        # Checked per request, so that widget files added later are served without a restart.
        files = WidgetFiles(directory=static_dir, html=True, check_dir=False)
        app.router.routes.append(BehindRoutes("/", app.router.routes, files, "static"))
    return app


class BehindRoutes(Mount):
    """A mount that yields to every route before it in `routes`, also when only the
    method differs: such a request is that route's 405 with its `Allow` header (GET
    /api/ask: `Allow: POST`), where a plain mount would take it for a file and answer 404."""

    def __init__(self, path: str, routes: list[BaseRoute], app: ASGIApp, name: str) -> None:
        super().__init__(path, app=app, name=name)
        self._routes = routes

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        for route in self._routes:
            if route is self:
                break
            if route.matches(scope)[0] is Match.PARTIAL:
                return Match.NONE, {}
        return super().matches(scope)


class WidgetFiles(StaticFiles):
    """Static files whose folder may not exist (yet): then every path is a 404, not a 500."""

    async def check_config(self) -> None:
        if self.directory is not None and Path(self.directory).is_dir():
            await super().check_config()
