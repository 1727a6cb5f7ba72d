"""The item API: one record with its links, related items and why, who overcame a threshold,
and the subgraph around a record for display.

All answers come from `KnowledgeBase` (graph queries, and the search index for
`similar-text`), which block: the endpoints are plain `def` and run in the thread pool.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.deps import KnowledgeBaseDep
from api.error_handlers import error_responses
from kg.errors import UserError
from kg.items import Item
from kg.traversal import RELATED_TYPES, Related, Subgraph, ThresholdAnswer

router = APIRouter(prefix="/api", tags=["items"])
MAX_RELATED = 200
MAX_GRAPH_NODES = 500
RecordId = Annotated[str, Path(max_length=200, description="The record id, e.g. "
                                                           "`renovatiebegeleiding`.")]


@router.get(
    "/items/{id}",
    response_model=Item,
    summary="A record with all its links",
    responses=error_responses(404, 422),
)
def item(kb: KnowledgeBaseDep, id: RecordId) -> Item:
    """The record's fields (title, text, date, alternative labels, source graph) and every
    link in both directions (`out`: this record → target, `in`: target → this record), with
    the Dutch label of the relation and of the resource at the other end. Unknown ids
    answer 404."""
    return kb.item(id)


def _types(raw: str | None) -> tuple[str, ...] | None:
    if not raw:
        return None
    wanted = tuple(dict.fromkeys(t.strip() for t in raw.split(",") if t.strip()))
    bad = sorted(set(wanted) - set(RELATED_TYPES))
    if bad:
        raise UserError(f"unknown type {', '.join(bad)}; use {', '.join(RELATED_TYPES)}")
    return wanted or None


@router.get(
    "/items/{id}/related",
    response_model=list[Related],
    summary="Items related to a record, and how",
    responses=error_responses(400, 404, 422),
)
def related(
    kb: KnowledgeBaseDep,
    id: RecordId,
    type: Annotated[str | None, Query(
        description=f"Only these types, comma-separated: {', '.join(RELATED_TYPES)}.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_RELATED, description="Most items returned.")] = 50,
) -> list[Related]:
    """Lessons, thresholds, measures, breakthroughs and neighbourhoods connected to the
    record, strongest first. Each carries every path (`via`) that connects them: an explicit
    `related` link, a `direct` link, a `shared-threshold` (naming the shared thresholds in
    `through`), a shared measure, the same neighbourhood, a shared theme, or similar text
    (the cosine similarity of their embeddings, when the search index is ready)."""
    return kb.related(id, types=_types(type), limit=limit)


@router.get(
    "/thresholds/{id}/breakthroughs",
    response_model=ThresholdAnswer,
    summary="Who overcame a threshold elsewhere, and how",
    responses=error_responses(404, 422),
)
def threshold_breakthroughs(kb: KnowledgeBaseDep, id: RecordId) -> ThresholdAnswer:
    """The breakthroughs that overcome the threshold, each with its measures, neighbourhoods,
    municipalities, actors and the other thresholds it overcomes; plus the lessons and
    measures that address the threshold. A record that is not a threshold answers 404."""
    return kb.threshold_breakthroughs(id)


@router.get(
    "/graph",
    response_model=Subgraph,
    summary="The subgraph around a record, for display",
    responses=error_responses(400, 404, 422),
)
def graph(
    kb: KnowledgeBaseDep,
    id: Annotated[str, Query(min_length=1, max_length=200,
                             description="The record id at the centre.")],
    depth: Annotated[int, Query(ge=1, le=3, description="Hops from the centre.")] = 1,
    max_nodes: Annotated[int, Query(ge=1, le=MAX_GRAPH_NODES,
                                    description="Most nodes; `truncated` says when more "
                                    "were left out.")] = 150,
) -> Subgraph:
    """Nodes (records, themes, municipalities, with type and Dutch label) and directed edges
    (relation name and Dutch label) within `depth` hops of the record over its typed links
    (text mentions left out), for a graph view."""
    return kb.subgraph(id, depth=depth, max_nodes=max_nodes)
