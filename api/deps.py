"""Typed FastAPI dependencies for what the app's lifespan builds once: settings, KB, SPARQL pool."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.knowledgebase import KnowledgeBase
from kg.settings import Settings
from kg.sparql.pool import SparqlWorkerPool

# The dependencies are `async def` on purpose: they only read `app.state`, and FastAPI runs a
# plain `def` dependency in the thread pool — a thread hop per dependency per request.


async def app_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


async def app_knowledge_base(request: Request) -> KnowledgeBase:
    """The knowledge base built by the lifespan."""
    kb: KnowledgeBase = request.app.state.kb
    return kb


async def app_sparql_pool(request: Request) -> SparqlWorkerPool:
    """The SPARQL worker pool started by the lifespan."""
    pool: SparqlWorkerPool = request.app.state.sparql_pool
    return pool


SettingsDep = Annotated[Settings, Depends(app_settings)]
KnowledgeBaseDep = Annotated[KnowledgeBase, Depends(app_knowledge_base)]
SparqlPoolDep = Annotated[SparqlWorkerPool, Depends(app_sparql_pool)]
