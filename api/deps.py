"""Typed FastAPI dependencies for what the app's lifespan builds once: settings, KB, SPARQL pool."""

from __future__ import annotations

from typing import Annotated, Any, Protocol

from fastapi import Depends, Request

from api.knowledgebase import KnowledgeBase
from kg.settings import Settings
from kg.sparql_worker import SparqlWorkerPool
from kg.store import Store


class KnowledgeBaseLike(Protocol):
    """The part of `api.knowledgebase.KnowledgeBase` the SPARQL and linked-data routes use."""

    settings: Settings
    store: Store

    def after_update(self) -> None:
        """Bring derived indexes up to date after a SPARQL update."""
        ...


# The dependencies are `async def` on purpose: they only read `app.state`, and FastAPI runs a
# plain `def` dependency in the thread pool — a thread hop per dependency per request.


async def get_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


async def get_kb(request: Request) -> Any:
    """The knowledge base built by the lifespan."""
    return request.app.state.kb


async def get_sparql_pool(request: Request) -> SparqlWorkerPool:
    """The SPARQL worker pool started by the lifespan."""
    pool: SparqlWorkerPool = request.app.state.sparql_pool
    return pool


SettingsDep = Annotated[Settings, Depends(get_settings)]
KnowledgeBaseDep = Annotated[KnowledgeBaseLike, Depends(get_kb)]
SparqlPoolDep = Annotated[SparqlWorkerPool, Depends(get_sparql_pool)]
# The whole core object (search, items, traversal, stats), for the JSON API routes.
KBDep = Annotated[KnowledgeBase, Depends(get_kb)]
