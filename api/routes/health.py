"""Health and statistics: is the service usable (store, search index, embedder), and what is in
the graph. `GET /api/health` answers 200 whatever the index state: a missing or stale index is a
state to report (with the fix), not a failure of the health check.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import KBDep
from api.error_handlers import error_responses
from api.knowledgebase import KnowledgeBase
from kg.errors import WijkenError

router = APIRouter(prefix="/api", tags=["health"])
IndexState = Literal["ready", "missing", "mismatch", "stale", "syncing"]


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


def _read_json(path: Path) -> dict[str, object] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def index_health(kb: KnowledgeBase, model_id: str | None) -> IndexHealth:
    """Classify the on-disk index against the configured model and the graph, cheaply: from
    its `state.json` and `vectors/config.json`, without loading vectors or the model."""
    index_dir = kb.data_dir / "index" if kb.data_dir is not None else None
    state = _read_json(index_dir / "state.json") if index_dir else None
    config = _read_json(index_dir / "vectors" / "config.json") if index_dir else None
    generation = state.get("generation") if state else None
    if state is None or config is None or not isinstance(generation, int) or generation < 0:
        return IndexHealth(state="missing", message="there is no search index yet: run "
                           "`wijken reindex` (or ingest records, which builds it)")
    built_with = str(config.get("model_id"))
    items = config.get("item_count")
    ready = IndexHealth(state="ready", message="the search index fits the model and the graph",
                        generation=generation, model_id=built_with,
                        items=items if isinstance(items, int) else None)
    if model_id is None or built_with != model_id:
        return ready.model_copy(update={"state": "mismatch", "message": (
            f"the search index was built with {built_with!r}, but the configured embedder is "
            f"{model_id!r}; run `wijken reindex` or configure the embedder it was built with")})
    current = kb.store.generation
    if generation != current and kb.index_syncing:
        return ready.model_copy(update={"state": "syncing", "message": (
            f"the search index is catching up with graph state {current}; until it has, "
            f"search answers from state {generation}")})
    if generation != current:
        return ready.model_copy(update={"state": "stale", "message": (
            f"the search index reflects graph state {generation}, but the graph is at state "
            f"{current}; run `wijken reindex`")})
    return ready


@router.get("/health", response_model=Health, summary="Service health",
            responses=error_responses(500))
def health(kb: KBDep) -> Health:
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
def stats(kb: KBDep) -> StatsOut:
    """How many records the graph holds per type, per theme and per municipality (largest
    first), with the number of triples and of ingested source files."""
    s = kb.stats()
    return StatsOut(types=s.types, themes=s.themes, municipalities=s.municipalities,
                    triples=s.triples, source_graphs=s.source_graphs)
