"""The search result payload, shared by the CLI (`--json`), the Python API and HTTP."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ItemRef(BaseModel):
    """A linked record, concept or municipality: id (notation, NIS code) and Dutch title."""

    id: str
    title: str


class Rank(BaseModel):
    """One ranking component's view of a hit."""

    rank: int | None = Field(default=None, description="1-based rank; null when not retrieved.")
    score: float | None = None


class GraphSignal(BaseModel):
    """The graph component: items sharing a threshold with strong hits."""

    score: float = 0.0
    via: list[ItemRef] = Field(default_factory=list, description="The shared thresholds.")


class Components(BaseModel):
    """Per-component ranks and scores of a hit."""

    dense: Rank
    bm25: Rank
    graph: GraphSignal


class Hit(BaseModel):
    """One search hit, enriched with its context in the graph."""

    id: str
    type: str
    type_label: str = Field(description="Dutch name of the type (les, drempel, ...).")
    title: str
    score: float
    iri: str
    snippet: str
    municipality: ItemRef | None = None
    neighbourhood: ItemRef | None = None
    themes: list[ItemRef] = []
    thresholds: list[ItemRef] = []
    measures: list[ItemRef] = []
    breakthroughs: list[ItemRef] = []
    actors: list[ItemRef] = []
    matched_terms: list[str] = []
    explanation: str = Field(description="Why this matched, in Dutch.")
    components: Components


class SearchResult(BaseModel):
    """The answer to one question."""

    query: str
    qid: str | None = None
    filters: dict[str, str] = {}
    total_candidates: int = Field(default=0, description="Items that pass the filters.")
    hits: list[Hit]
