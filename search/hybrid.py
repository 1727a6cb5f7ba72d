"""Hybrid ranking: score-level fusion of the retrievers, soft boosts from what the question names
and asks for, and one propagation step over the graph's curated links.

Pure functions over scored candidate lists and documents, so the ranking can be tuned and
tested without a model (`scripts/tune_hybrid.py`, docs/search-quality.md):

1. Each retriever's scores are normalised per query to [0, 1] (min-max over its candidate pool)
   and summed with weights; dense evidence counts most. Rank fusion (RRF with k = 60) was too
   flat for a corpus of a few hundred items: it cannot tell a clear winner from a tie.
2. Soft boosts: items about a theme, place, actor or type the question names, and items of the
   type its intent asks for ("hoe hebben anderen …" → measures and breakthroughs). Never a
   filter: an item without the boost can still win.
3. Propagation: every item gains a share of the best score among its curated neighbours: the
   thresholds it addresses or overcomes and the items addressing a threshold, a breakthrough's
   measures and the breakthroughs using a measure, explicit `related` links, and (weaker) items
   sharing a threshold. An item no retriever found enters only through a specific link of a
   candidate, never as one of the many items that address a candidate threshold. So the
   financing breakthrough that overcomes the threshold a strong
   lesson names rises, even when the question's words are not in it.

Every part of an item's score is kept, so its explanation can show which component and which
edge lifted it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from search.documents import Document
from search.understanding import FACETS

# Edge kinds of the propagation step, with the Dutch phrase an explanation uses.
EDGE_PHRASES = {
    "threshold-of": "is de drempel van het sterke resultaat",
    "addresses": "pakt de drempel aan die sterk scoort:",
    "measure-of": "is een maatregel van de sterke doorbraak",
    "uses-measure": "gebruikt de sterk scorende maatregel",
    "related": "is verwant aan het sterke resultaat",
    "shared-threshold": "deelt een drempel met het sterke resultaat",
}


PROPAGATION_SOURCES = 30  # the candidates (by fused score) whose links lift others


@dataclass(frozen=True)
class Weights:
    """Weights of the ranking components; the defaults are the tuned ones
    (docs/search-quality.md)."""

    dense: float = 1.0
    bm25: float = 0.7
    dense2: float = 0.3  # a second embedding model, when one is configured
    propagation: float = 0.4  # share of the best neighbour's score an item gains
    shared: float = 0.5  # a shared threshold counts this much of a direct link
    facet: float = 0.05  # per kind of resource the question names and the item is about
    intent: float = 0.0  # items of the type the question asks for (tuned: no gain)
    expansion: float = 0.6  # thesaurus words in BM25, against 1.0 for the question's own
    prf: float = 0.0  # dense pseudo-relevance feedback (Rocchio towards the top items)

    @classmethod
    def single(cls, retriever: str) -> Weights:
        """One retriever alone, no boosts or propagation (for evaluation)."""
        return cls(dense=float(retriever == "dense"), bm25=float(retriever == "bm25"),
                   dense2=float(retriever == "dense2"), propagation=0.0, facet=0.0, intent=0.0,
                   expansion=0.0, prf=0.0)


@dataclass
class Component:
    """One retriever's view of a candidate: rank (1-based), raw and normalised score."""

    rank: int
    score: float
    normalised: float


@dataclass(frozen=True)
class Lift:
    """The graph edge that lifted an item: its kind, the neighbour (a strong candidate) and the
    threshold a shared-threshold edge goes through."""

    kind: str
    source: str
    via: str | None
    amount: float


@dataclass
class Fused:
    """A candidate after fusion, with every component's contribution."""

    id: str
    score: float = 0.0
    base: float = 0.0
    components: dict[str, Component] = field(default_factory=dict)
    boosts: list[tuple[str, str, float]] = field(default_factory=list)  # (kind, value, amount)
    lift: Lift | None = None

    @property
    def graph_score(self) -> float:
        return self.lift.amount if self.lift else 0.0


class LinkGraph:
    """The curated edges between searchable items, built once per set of documents."""

    def __init__(self, docs: Mapping[str, Document]) -> None:
        self.edges: dict[str, dict[str, str]] = {}  # id -> {neighbour: kind}
        self.thresholds: dict[str, list[str]] = {}  # id -> thresholds it links
        # id -> the neighbours it may bring in, i.e. all but the items addressing it
        self.specific: dict[str, list[str]] = {}
        for d in docs.values():
            for t in d.thresholds:
                if t.id in docs:
                    self._add(d.id, t.id, "addresses", "threshold-of")
            if d.type == "breakthrough":
                for m in d.measures:
                    if m.id in docs:
                        self._add(d.id, m.id, "uses-measure", "measure-of")
            for r in d.related:
                if r.id in docs:
                    self._add(d.id, r.id, "related", "related")
            links = [t.id for t in d.thresholds]
            if d.type == "threshold":
                links.append(d.id)
            self.thresholds[d.id] = links
        for key, neighbours in self.edges.items():
            self.specific[key] = [n for n, kind in neighbours.items() if kind != "threshold-of"]

    def _add(self, a: str, b: str, a_gets: str, b_gets: str) -> None:
        """An edge a - b: a gains from b as `a_gets` says, b from a as `b_gets` says."""
        if a == b:
            return
        self.edges.setdefault(a, {}).setdefault(b, a_gets)
        self.edges.setdefault(b, {}).setdefault(a, b_gets)


def normalise(scored: Sequence[tuple[str, float]]) -> dict[str, Component]:
    """Min-max normalise one retriever's scores over its pool (best 1.0, the pool's last 0.0)."""
    if not scored:
        return {}
    top, bottom = scored[0][1], scored[-1][1]
    span = top - bottom
    return {key: Component(rank, score, (score - bottom) / span if span > 0 else 1.0)
            for rank, (key, score) in enumerate(scored, start=1)}


def fuse(
    runs: Mapping[str, Sequence[tuple[str, float]]],
    docs: Mapping[str, Document],
    *,
    weights: Weights = Weights(),
    graph: LinkGraph | None = None,
    facets: Mapping[str, set[str]] | None = None,
    intent_types: Sequence[str] = (),
    allowed: set[str] | None = None,
) -> list[Fused]:
    """Fuse retriever runs (`dense`, `bm25`, `dense2`: best-first (id, score) lists), then
    boost and propagate; best first. `allowed` restricts what propagation may bring in."""
    fused: dict[str, Fused] = {}
    for name, scored in runs.items():
        w = getattr(weights, name)
        for key, comp in normalise(scored).items():
            f = fused.setdefault(key, Fused(key))
            f.components[name] = comp
            f.base += w * comp.normalised
    if graph is not None and weights.propagation > 0:
        _propagate(fused, graph, weights, docs, allowed)
    boosting = bool(weights.facet and facets) or bool(weights.intent and intent_types)
    for f in fused.values():
        f.score = f.base + f.graph_score
        doc = docs.get(f.id) if boosting else None
        if doc is not None:
            _boost(f, doc, weights, facets or {}, intent_types)
    return sorted(fused.values(), key=lambda f: (-f.score, f.id))


def _propagate(fused: dict[str, Fused], graph: LinkGraph, weights: Weights,
               docs: Mapping[str, Document], allowed: set[str] | None) -> None:
    """One step: each item gains `propagation` x the best base score among its neighbours."""
    # The strongest candidates lift; a weak one's share would be too small to matter, and
    # bounding the sources bounds the work per item (a linked item walks at most these).
    ranked = sorted(((f.base, k) for k, f in fused.items() if f.base > 0), reverse=True)
    base = {k: b for b, k in ranked[:PROPAGATION_SOURCES]}
    # Best and second-best candidate per threshold, so an item never lifts itself.
    best: dict[str, list[tuple[float, str]]] = {}
    for key, score in base.items():
        for t in graph.thresholds.get(key, ()):
            top = best.setdefault(t, [])
            top.append((score, key))
            top.sort(key=lambda x: (-x[0], x[1]))
            del top[2:]
    # An item no retriever found may enter through a specific link of a candidate (its
    # threshold, measure, breakthrough, related item), not as one of the many items that
    # address a candidate threshold: in a large graph a threshold has thousands.
    receivers = set(base)
    for key in base:
        receivers.update(graph.specific.get(key, ()))
    for key in receivers:
        if key not in docs or (allowed is not None and key not in allowed):
            continue
        lift: Lift | None = None
        edges = graph.edges.get(key, {})
        # Walk the shorter side: a hub's thousands of links, or the hundred candidates.
        pairs = ((n, edges[n]) for n in base if n in edges) if len(edges) > len(base) \
            else edges.items()
        for neighbour, kind in pairs:
            s = base.get(neighbour, 0.0)
            if s > 0 and (lift is None or s > lift.amount
                          or (s == lift.amount and neighbour < lift.source)):
                lift = Lift(kind, neighbour, None, s)
        for t in graph.thresholds.get(key, ()):
            for s, other in best.get(t, ()):
                if other != key and other != t:
                    s *= weights.shared
                    if s > 0 and (lift is None or s > lift.amount):
                        lift = Lift("shared-threshold", other, t, s)
                    break
        if lift is not None:
            f = fused.setdefault(key, Fused(key))
            f.lift = Lift(lift.kind, lift.source, lift.via, weights.propagation * lift.amount)


def _boost(f: Fused, doc: Document, weights: Weights, facets: Mapping[str, set[str]],
           intent_types: Sequence[str]) -> None:
    """Soft boosts: what the question names that the item is about, and the asked-for type."""
    if weights.facet:
        for kind, values in sorted(facets.items()):
            hit = sorted(values & doc.facet_values(FACETS[kind][0]))
            if hit:
                f.boosts.append((kind, hit[0], weights.facet))
                f.score += weights.facet
    if weights.intent and doc.type in intent_types:
        f.boosts.append(("intent", doc.type, weights.intent))
        f.score += weights.intent


_FACET_PHRASES = {
    "theme": "gaat over het thema ‘{}’ dat de vraag noemt",
    "municipality": "ligt in {}, dat de vraag noemt",
    "neighbourhood": "gaat over de wijk ‘{}’ die de vraag noemt",
    "actor": "betrekt ‘{}’, die de vraag noemt",
    "threshold-type": "is een {} zoals de vraag noemt",
    "measure-type": "is een maatregel van het type ‘{}’ dat de vraag noemt",
    "threshold": "pakt de drempel ‘{}’ aan die de vraag noemt",
}
_INTENT_PHRASES = {"measure": "is een maatregel: de vraag zoekt een aanpak",
                   "breakthrough": "is een doorbraak: de vraag zoekt een aanpak",
                   "threshold": "is een drempel, waar de vraag naar vraagt"}


def explain(f: Fused, docs: Mapping[str, Document], matched: Sequence[str],
            synonyms: Sequence[tuple[str, str]] = (),
            labels: Mapping[tuple[str, str], str] | None = None) -> str:
    """A short Dutch explanation of why an item matched: the retrievers, the thesaurus words
    (`synonyms`: (word found, the question's word)), the boosts and the graph edge."""
    parts = []
    dense = f.components.get("dense")
    if dense is not None and dense.rank <= 20:
        parts.append(f"inhoudelijk verwant aan de vraag (semantische rang {dense.rank})")
    dense2 = f.components.get("dense2")
    if dense2 is not None and dense2.rank <= 20:
        parts.append(f"verwant volgens het tweede taalmodel (rang {dense2.rank})")
    if matched:
        words = ", ".join(f"‘{w}’" for w in matched[:5])
        parts.append(f"bevat de zoekterm{'en' if len(matched) > 1 else ''} {words}")
    if synonyms:
        found = ", ".join(f"‘{w}’ (≈ ‘{q}’)" for w, q in synonyms[:3])
        parts.append(f"bevat {found} uit de praktijkthesaurus")
    for kind, value, _ in f.boosts:
        if kind == "intent":
            parts.append(_INTENT_PHRASES.get(value, "is van het gevraagde soort"))
        elif kind in _FACET_PHRASES:
            label = (labels or {}).get((kind, value), value)
            parts.append(_FACET_PHRASES[kind].format(label))
    if f.lift is not None and f.lift.source in docs:
        source = docs[f.lift.source].title
        if f.lift.kind == "shared-threshold" and f.lift.via is not None and f.lift.via in docs:
            parts.append(f"deelt de drempel ‘{docs[f.lift.via].title}’ met het sterke "
                         f"resultaat ‘{source}’")
        else:
            parts.append(f"{EDGE_PHRASES[f.lift.kind]} ‘{source}’")
    if not parts:
        parts.append("verwant via de rangschikking")
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."
