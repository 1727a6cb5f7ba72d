"""The HTTP app factory: it only assembles settings, lifespan, middleware, errors and routers."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.staticfiles import StaticFiles

from api.error_handlers import install_error_handlers
from api.knowledgebase import KnowledgeBase
from api.middleware import (
    BodyLimitMiddleware,
    JsonDepthMiddleware,
    PublicOriginMiddleware,
    ResponseHeadersMiddleware,
    with_vary_accept,
)
from api.routes import (
    contributions,
    docs,
    health,
    items,
    linkeddata,
    search,
    signals,
    werkboek,
)
from api.security import with_security_headers
from api.sparql import routes as sparql
from api.sparql.client_limits import ClientSlots
from api.web import harvest, pages
from api.web.templating import STATIC_DIR
from kg.errors import WijkenError
from kg.settings import Settings, get_settings
from kg.snapshots import Snapshots
from kg.sparql.messages import WorkerConfig
from kg.sparql.pool import SparqlWorkerPool
from kg.store import Store
from search.index_layout import IndexLayout
from search.sparql_similarity import similarity_function

logger = logging.getLogger("wijken")


def _warm_up(kb: KnowledgeBase) -> None:
    """Load the embedding model and the indexes now, so the first question is not the slow one.
    A missing or mismatched index is not fatal: the service runs and /api/health says why."""
    try:
        kb.search_engine.search("warm-up", k=1)
    except WijkenError as exc:
        logger.warning("search is not ready: %s", exc)


def sparql_pool(settings: Settings, store: Store) -> SparqlWorkerPool:
    """The SPARQL workers for an on-disk store, with `wk:similarity` registered: they read
    checkpoints of the store when this process may write it."""
    assert store.data_dir is not None
    similarity = similarity_function(
        IndexLayout.of(store.data_dir).vectors, embedder=settings.embedder,
        base_iri=settings.base_iri, threads=settings.threads, data_dir=store.data_dir)
    config = WorkerConfig(
        data_dir=store.data_dir, max_rows=settings.sparql_max_rows, functions=(similarity,),
        sandbox=settings.sandbox, in_memory_quads=settings.sparql_in_memory_quads)
    return SparqlWorkerPool(config, timeout=settings.sparql_timeout, size=settings.sparql_workers,
                            snapshots=None if store.read_only else Snapshots(store))


def create_app(settings: Settings | None = None, *, kb: KnowledgeBase | None = None) -> FastAPI:
    """The wijken HTTP app. Pass `kb` to serve an existing KnowledgeBase (tests do); otherwise
    the lifespan builds one from `settings` at startup (never at import time)."""
    if settings is None:
        settings = kb.settings if kb is not None else get_settings()
    resolved: Settings = settings

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if resolved.update_token is None and os.environ.get("WIJKEN_UPDATE_TOKEN") is not None:
            logger.warning("WIJKEN_UPDATE_TOKEN is set but empty: SPARQL updates stay disabled")
        if kb is None:
            base = await run_in_threadpool(KnowledgeBase.from_settings, resolved)
        else:
            base = kb
        if base.store.data_dir is None:
            raise WijkenError("the SPARQL endpoint needs an on-disk data directory")
        await run_in_threadpool(_warm_up, base)
        pool = sparql_pool(resolved, base.store)
        await run_in_threadpool(pool.start)
        app.state.kb, app.state.sparql_pool = base, pool
        app.state.sparql_slots = ClientSlots(resolved.sparql_per_client)
        try:
            yield
        finally:
            pool.close()
            if kb is None:
                base.close()

    app = FastAPI(
        title="wijken",
        summary="Knowledge graph and Dutch semantic search for the 100 WIJKEN PLATFORM",
        lifespan=lifespan,
        docs_url=None,  # FastAPI's pages load Swagger UI/ReDoc from a CDN: see routes/docs.py
        redoc_url=None,
    )
    app.state.settings = resolved
    install_error_handlers(app)
    # Last added runs first: headers on everything, the public origin before any URL is built.
    app.add_middleware(JsonDepthMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_bytes=resolved.max_request_bytes)
    app.add_middleware(ResponseHeadersMiddleware, edit=with_vary_accept)  # the 413 too
    app.add_middleware(PublicOriginMiddleware, public_url=resolved.public_origin)
    app.add_middleware(ResponseHeadersMiddleware, edit=with_security_headers)
    app.include_router(search.router)
    app.include_router(items.router)
    app.include_router(signals.router)
    app.include_router(werkboek.router)
    app.include_router(contributions.router)
    app.include_router(health.router)
    app.include_router(sparql.router)
    app.include_router(linkeddata.build_router(resolved))
    app.include_router(pages.router)
    app.include_router(harvest.router)
    app.include_router(docs.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
