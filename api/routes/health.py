"""Health and statistics: is the service usable (store, search index, embedder), and what is in
the graph. `GET /api/health` answers 200 whatever the index state: a missing or stale index is a
state to report (with the fix), not a failure of the health check.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import KnowledgeBaseDep
from api.error_handlers import error_responses
from api.knowledgebase import KnowledgeBase
from kg.errors import WijkenError
from search.index_layout import IndexLayout, missing_message

router = APIRouter(prefix="/api", tags=["health"])
IndexState = Literal["ready", "missing", "mismatch", "stale", "syncing"]  # IndexLayout's + one


class StoreHealth(BaseModel):
    """The RDF store."""

    triples: int = Field(description="Quads in the store, all graphs (reference data included).")
    generation: int = Field(description="Write counter of the graph; the index remembers the "
                            "generation it reflects.")
    read_only: bool = Field(description="Whether this server opened the store read-only.")


class IndexHealth(BaseModel):
    """The search index (FAISS + BM25) and whether it fits the model and the graph."""

    state: IndexState = Field(description="`ready`; `missing` (never built); `mismatch` (built "
                              "with another embedder); `stale` (the graph changed since); "
                              "`syncing` (catching up with a write of this server: search "
                              "answers from the previous state meanwhile).")
    message: str = Field(description="What the state means and how to fix it.")
    generation: int | None = Field(default=None, description="Graph generation it reflects.")
    model_id: str | None = Field(default=None, description="Embedder the index was built with.")
    items: int | None = Field(default=None, description="Indexed items.")


class EmbedderHealth(BaseModel):
    """The configured embedder (not loaded by the health check)."""

    setting: str = Field(description="The `WIJKEN_EMBEDDER` setting.")
    model_id: str | None = Field(description="Model and revision id; null when the setting "
                                 "names no usable model.")


class Health(BaseModel):
    """Whether the service can answer graph, SPARQL and search requests."""

    status: Literal["ok", "degraded"] = Field(description="`ok` when the search index is "
                                              "ready; `degraded` when only the graph works.")
    store: StoreHealth
    index: IndexHealth
    embedder: EmbedderHealth


class StatsOut(BaseModel):
    """What the graph holds."""

    types: dict[str, int] = Field(description="Records per class (Lesson, Threshold, ...).")
    themes: dict[str, int] = Field(description="Records per theme notation.")
    municipalities: dict[str, int] = Field(description="Records per municipality name.")
    triples: int = Field(description="Quads in the store, all graphs.")
    source_graphs: int = Field(description="Ingested source files (named graphs).")


def index_health(kb: KnowledgeBase, model_id: str | None) -> IndexHealth:
    """Classify the on-disk index against the configured model and the graph, cheaply: from
    its state and vector config files, without loading vectors or the model."""
    if kb.data_dir is None:
        return IndexHealth(state="missing", message=missing_message())
    current = kb.store.generation
    status = IndexLayout.of(kb.data_dir).status(model_id=model_id, generation=current)
    health = IndexHealth(state=status.state, message=status.message,
                         generation=status.generation, model_id=status.model_id,
                         items=status.items)
    if status.state == "stale" and kb.index_syncing:
        return health.model_copy(update={"state": "syncing", "message": (
            f"the search index is catching up with graph state {current}; until it has, "
            f"search answers from state {status.generation}")})
    return health


@router.get("/health", response_model=Health, summary="Service health",
            responses=error_responses(500))
def health(kb: KnowledgeBaseDep) -> Health:
    """The store (triple count, generation), the search index state (`ready`, `missing`,
    `mismatch` or `stale`, with the fix) and the configured embedder's model id. Always 200
    when the store answers: without a usable index only search is unavailable, so the
    status is `degraded`."""
    try:
        model_id: str | None = kb.search_engine.embedder.model_id
    except WijkenError:  # an unusable WIJKEN_EMBEDDER setting is reported, not raised
        model_id = None
    index = index_health(kb, model_id)
    return Health(
        status="ok" if index.state in ("ready", "syncing") else "degraded",
        store=StoreHealth(triples=len(kb.store), generation=kb.store.generation,
                          read_only=kb.read_only),
        index=index,
        embedder=EmbedderHealth(setting=kb.settings.embedder, model_id=model_id),
    )


@router.get("/stats", response_model=StatsOut, summary="Counts per type, theme, municipality",
            responses=error_responses(500))
def stats(kb: KnowledgeBaseDep) -> StatsOut:
    """How many records the graph holds per type, per theme and per municipality (largest
    first), with the number of triples and of ingested source files."""
    s = kb.stats()
    return StatsOut(types=s.types, themes=s.themes, municipalities=s.municipalities,
                    triples=s.triples, source_graphs=s.source_graphs)
