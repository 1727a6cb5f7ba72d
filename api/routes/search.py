"""The search API: one Dutch question (`GET /api/search`) or many (`POST /api/search/batch`).

The payload is `search.result_models.SearchResult`, the same object `wijken search --json` prints.
Search embeds the question and runs FAISS and BM25, which block: the endpoints are plain `def`,
so FastAPI runs them in its thread pool and the event loop stays free.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from api.deps import KnowledgeBaseDep
from api.error_handlers import error_responses
from kg.errors import UserError, WijkenError
from search.engine import FILTERS, MAX_K, MAX_QUERY_CHARS
from search.result_models import SearchResult

router = APIRouter(prefix="/api", tags=["search"])
MAX_BATCH = 100
FILTER_HELP = {
    "type": "Record type(s), comma-separated: lesson, threshold, measure, breakthrough "
            "(or the Dutch les, drempel, maatregel, doorbraak).",
    "theme": "Theme notation(s), comma-separated, e.g. `renovatie,energie`.",
    "municipality": "Flemish municipality name(s) or NIS code(s), comma-separated.",
    "neighbourhood": "Neighbourhood id(s), comma-separated.",
    "actor": "Actor id(s), comma-separated.",
    "threshold": "Threshold id(s), comma-separated: items that address them.",
}
_ERRORS = error_responses(400, 409, 422)


def _filter(name: str, **extra: Any) -> Any:
    return Query(description=FILTER_HELP[name], max_length=MAX_QUERY_CHARS, **extra)


@router.get(
    "/search",
    response_model=SearchResult,
    summary="Hybrid search for a Dutch question",
    responses=_ERRORS,
)
def search(
    kb: KnowledgeBaseDep,
    q: Annotated[str, Query(min_length=1, max_length=MAX_QUERY_CHARS,
                            description="The question, in Dutch.")],
    k: Annotated[int, Query(ge=1, le=MAX_K, description="Number of hits.")] = 10,
    type_: Annotated[str | None, _filter("type", alias="type")] = None,
    theme: Annotated[str | None, _filter("theme")] = None,
    municipality: Annotated[str | None, _filter("municipality")] = None,
    neighbourhood: Annotated[str | None, _filter("neighbourhood")] = None,
    actor: Annotated[str | None, _filter("actor")] = None,
    threshold: Annotated[str | None, _filter("threshold")] = None,
) -> SearchResult:
    """Semantic (multilingual-e5) + Dutch BM25 + graph ranking of lessons, thresholds, measures
    and breakthroughs. Filters select the candidates before ranking, so a filtered search
    returns `k` hits whenever `k` items match; an unknown filter value answers 400 listing the
    known ones. Each hit carries its graph context and a Dutch explanation of why it matched.
    The body equals `wijken search --json` for the same question."""
    filters = {name: value for name, value in (
        ("type", type_), ("theme", theme), ("municipality", municipality),
        ("neighbourhood", neighbourhood), ("actor", actor), ("threshold", threshold))
        if value}
    result: SearchResult = kb.search(q, k=k, filters=filters)
    return result


class BatchQuery(BaseModel):
    """One question of a batch: the `wijken search --batch` line format."""

    model_config = ConfigDict(extra="forbid")

    qid: str | None = Field(default=None, max_length=200, description="Your id for the question.")
    query: str = Field(min_length=1, max_length=MAX_QUERY_CHARS, description="The question.")
    k: int | None = Field(default=None, ge=1, le=MAX_K,
                          description="Hits for this question (default: the batch's `k`).")
    type: str | None = Field(default=None, description=FILTER_HELP["type"])
    theme: str | None = Field(default=None, description=FILTER_HELP["theme"])
    municipality: str | None = Field(default=None, description=FILTER_HELP["municipality"])
    neighbourhood: str | None = Field(default=None, description=FILTER_HELP["neighbourhood"])
    actor: str | None = Field(default=None, description=FILTER_HELP["actor"])
    threshold: str | None = Field(default=None, description=FILTER_HELP["threshold"])
    filters: dict[str, str] | None = Field(
        default=None, description="Filters as an object (as in the CLI's batch files); the "
        "top-level filter fields win.")


class BatchRequest(BaseModel):
    """Many questions answered in one request, in order."""

    model_config = ConfigDict(extra="forbid")

    queries: list[BatchQuery] = Field(min_length=1, max_length=MAX_BATCH)
    k: int = Field(default=10, ge=1, le=MAX_K, description="Hits per question.")


class BatchResponse(BaseModel):
    """One `SearchResult` per question, in the order asked, each with its `qid`."""

    results: list[SearchResult]


@router.post(
    "/search/batch",
    response_model=BatchResponse,
    summary="Hybrid search for many questions",
    responses=_ERRORS,
)
def search_batch(kb: KnowledgeBaseDep, body: BatchRequest) -> BatchResponse:
    """Answer up to 100 questions in one request (evaluation, bulk lookups). Each question may
    carry its own filters and `k`. A question with a bad filter value fails the whole request
    with 400, and the message names its position and `qid`."""
    engine = kb.search_engine
    results = []
    for n, question in enumerate(body.queries, start=1):
        unknown = sorted(set(question.filters or {}) - set(FILTERS))
        if unknown:
            raise UserError(f"question {n} (qid {question.qid!r}): unknown filter "
                            f"{', '.join(unknown)}; use {', '.join(FILTERS)}")
        spec = question.model_dump(exclude={"filters"}, exclude_none=True)
        spec = {**(question.filters or {}), **spec}
        try:
            results.extend(engine.search_many([spec], k=body.k))
        except WijkenError as exc:
            # Same error class (and status), with the question it belongs to.
            raise type(exc)(f"question {n} (qid {question.qid!r}): {exc}") from exc
    return BatchResponse(results=results)
