"""Hybrid ranking: reciprocal rank fusion of dense and BM25 rankings plus graph signals.

Pure functions over rankings and documents, so the fusion can be tuned and tested without the
model. The default weights were tuned on the tuning half of the evaluation set with
`scripts/tune_hybrid.py` (docs/search-quality.md): dense evidence counts 1.5x BM25, and a small
graph bonus lifts items that share a threshold with the strongest hits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from search.documents import Document

RRF_K = 60  # the usual constant of Cormack et al. (2009)


@dataclass(frozen=True)
class Weights:
    """Weights of the ranking components; the defaults are the tuned ones."""

    dense: float = 1.5
    bm25: float = 1.0
    graph: float = 0.1
    graph_top: int = 5


@dataclass
class Component:
    """One component's view of a candidate: its rank (1-based) and raw score."""

    rank: int
    score: float


@dataclass
class Fused:
    """A candidate after fusion, with every component's contribution."""

    id: str
    score: float = 0.0
    dense: Component | None = None
    bm25: Component | None = None
    graph_score: float = 0.0
    graph_via: list[tuple[str, str]] = field(default_factory=list)  # (threshold id, hit id)


def rrf(rank: int) -> float:
    """Reciprocal-rank contribution of a 1-based rank."""
    return 1.0 / (RRF_K + rank)


def _links(doc: Document) -> set[str]:
    """Thresholds an item is about; a threshold counts as about itself."""
    own = {t.id for t in doc.thresholds}
    if doc.type == "threshold":
        own.add(doc.id)
    return own


def fuse(
    dense: Sequence[tuple[str, float]],
    bm25: Sequence[tuple[str, float]],
    docs: Mapping[str, Document],
    *,
    weights: Weights = Weights(),
) -> list[Fused]:
    """Fuse two rankings, then add the graph signal; best first."""
    fused: dict[str, Fused] = {}
    for rank, (key, score) in enumerate(dense, start=1):
        f = fused.setdefault(key, Fused(key))
        f.dense = Component(rank, score)
        f.score += weights.dense * rrf(rank)
    for rank, (key, score) in enumerate(bm25, start=1):
        f = fused.setdefault(key, Fused(key))
        f.bm25 = Component(rank, score)
        f.score += weights.bm25 * rrf(rank)
    base = sorted(fused.values(), key=lambda f: (-f.score, f.id))
    # Graph signal: items that share a threshold with the strongest hits rise towards them.
    top = [f for f in base[: weights.graph_top] if f.id in docs]
    if weights.graph:
        top_links = [(hit, _links(docs[hit.id])) for hit in top]
        for f in base:
            doc = docs.get(f.id)
            if doc is None:
                continue
            mine = _links(doc)
            for rank, (hit, theirs) in enumerate(top_links, start=1):
                if hit.id == f.id:
                    continue
                shared = sorted(mine & theirs)
                if shared:
                    f.graph_score += weights.graph * rrf(rank)
                    f.graph_via.append((shared[0], hit.id))
    for f in base:
        f.score += f.graph_score
    ranked = sorted(base, key=lambda f: (-f.score, f.id))
    # What both retrievers put first stays first: the graph bonus may not overtake consensus.
    agreed = [f for f in ranked if f.dense and f.bm25 and f.dense.rank == f.bm25.rank == 1]
    if agreed and ranked[0] is not agreed[0]:
        ranked.remove(agreed[0])
        ranked.insert(0, agreed[0])
    return ranked


def explain(f: Fused, doc: Document, docs: Mapping[str, Document], matched: Sequence[str]
            ) -> str:
    """A short Dutch explanation of why an item matched."""
    parts = []
    if f.dense is not None and f.dense.rank <= 20:
        parts.append(f"inhoudelijk verwant aan de vraag (semantische rang {f.dense.rank})")
    if matched:
        words = ", ".join(f"‘{w}’" for w in matched[:5])
        parts.append(f"bevat de zoekterm{'en' if len(matched) > 1 else ''} {words}")
    if f.graph_via:
        threshold, hit = f.graph_via[0]
        t = docs.get(threshold)
        t_title = t.title if t else threshold
        if threshold == f.id:
            parts.append(f"is de drempel van het sterke resultaat ‘{docs[hit].title}’")
        else:
            parts.append(f"deelt de drempel ‘{t_title}’ met een sterk resultaat")
    if not parts:
        parts.append("verwant via de ranking")
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."
