"""What a search returns besides its hits: the answer card (the graph answering "hoe hebben
anderen …"), filter suggestions, and what search understood of the question."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping, Sequence

from search.documents import Document, Ref
from search.hybrid import Fused, LinkGraph
from search.result_models import (
    AnswerBreakthrough,
    AnswerCard,
    AnswerThreshold,
    Expansion,
    FilterSuggestion,
    Named,
    Understanding,
    item_ref,
    item_refs,
)
from search.understanding import FACETS
from search.understanding import Understanding as Understood

CARD_THRESHOLDS = 3  # thresholds on the card
CARD_BREAKTHROUGHS = 4  # breakthroughs per threshold
CARD_FROM_HITS = 10  # the strongest hits that vote for thresholds
# A threshold's share of the votes of the hits that link it, against its own score as a hit.
LINK_VOTE = 0.5


def answer_card(ranked: Sequence[Fused], docs: Mapping[str, Document], graph: LinkGraph,
                understood: Understood, *, within: Collection[str] | None = None
                ) -> AnswerCard | None:
    """The thresholds the question touches (as strong hits, or linked by strong hits) and, for
    each, the breakthroughs that overcame it: where, with which measures and actors. None when
    the strongest hits touch no threshold.

    ``within``: the items the user's filters (other than type) allow; the card then lists only
    those breakthroughs and measures. A threshold's status still counts every place that
    overcame it: "open" must not mean "not in the filtered municipality"."""
    votes: dict[str, float] = {}
    for f in ranked[:CARD_FROM_HITS]:
        d = docs.get(f.id)
        if d is None or f.score <= 0:
            continue
        if d.type == "threshold":
            votes[d.id] = votes.get(d.id, 0.0) + f.score
        for t in d.thresholds:
            if t.id in docs:
                votes[t.id] = votes.get(t.id, 0.0) + LINK_VOTE * f.score
    for n in understood.named:  # a threshold the question names by its label
        if n.kind == "threshold" and n.id in docs:
            votes[n.id] = votes.get(n.id, 0.0) + 1.0
    if not votes:
        return None
    score = {f.id: f.score for f in ranked}
    thresholds = []
    for tid, _ in sorted(votes.items(), key=lambda kv: (-kv[1], kv[0]))[:CARD_THRESHOLDS]:
        threshold = docs[tid]
        linked = [docs[n] for n, kind in graph.edges.get(tid, {}).items()
                  if kind == "threshold-of"]

        def by_score(d: Document) -> tuple[float, str]:
            return (-score.get(d.id, 0.0), d.title)

        overcoming = sorted((d for d in linked if d.type == "breakthrough"), key=by_score)
        direct = sorted((d for d in linked if d.type == "measure"), key=by_score)
        places = sorted({b.municipality.id: b.municipality for b in overcoming
                         if b.municipality is not None}.values(), key=lambda m: m.title)
        status = "overwonnen" if len(places) >= 2 else "deels" if places else "open"
        if within is not None:
            overcoming = [b for b in overcoming if b.id in within]
            direct = [m for m in direct if m.id in within]
            places = sorted({b.municipality.id: b.municipality for b in overcoming
                             if b.municipality is not None}.values(), key=lambda m: m.title)
        thresholds.append(AnswerThreshold(
            id=threshold.id, title=threshold.title, iri=threshold.iri, status=status,
            breakthroughs=[AnswerBreakthrough(
                id=b.id, title=b.title, iri=b.iri, municipality=item_ref(b.municipality),
                neighbourhood=item_ref(b.neighbourhood), measures=item_refs(b.measures),
                actors=item_refs(b.actors))
                for b in overcoming[:CARD_BREAKTHROUGHS]],
            measures=item_refs(direct[:5]), places=item_refs(places)))
    actors: Counter[Ref] = Counter()
    for f in ranked[:CARD_FROM_HITS]:
        if f.id in docs:
            actors.update(docs[f.id].actors)
    return AnswerCard(thresholds=thresholds, actors=item_refs(
        a for a, _ in sorted(actors.items(), key=lambda kv: (-kv[1], kv[0].title))[:8]))


# What a question names that the search filters can narrow by (types are not a filter).
_SUGGESTED = ("theme", "municipality", "neighbourhood", "actor", "threshold")
_INTENT_FILTERS = {"which-threshold": ("threshold", "alleen drempels"),
                   "how": ("measure,breakthrough", "alleen maatregelen en doorbraken")}


def suggestions(understood: Understood, filters: Mapping[str, str]) -> list[FilterSuggestion]:
    """Filters the question seems to ask for and the user has not chosen."""
    out = []
    for n in understood.named:
        if n.kind not in _SUGGESTED:
            continue
        facet, word = FACETS[n.kind]
        if not filters.get(facet):
            out.append(FilterSuggestion(filter=facet, value=n.id, label=f"{word} {n.label}",
                                        text=n.text))
    intent = understood.intent
    if intent is not None and intent.name in _INTENT_FILTERS and not filters.get("type"):
        value, label = _INTENT_FILTERS[intent.name]
        out.append(FilterSuggestion(filter="type", value=value, label=label, text=""))
    return out


def understanding_model(understood: Understood) -> Understanding:
    """The payload form of what search understood."""
    intent = understood.intent
    return Understanding(
        intent=intent.name if intent else None, intent_label=intent.label if intent else None,
        named=[Named(kind=n.kind, id=n.id, label=n.label, text=n.text) for n in understood.named],
        expansions=[Expansion(concept=e.concept, label=e.label, text=e.text, terms=list(e.terms))
                    for e in understood.expansions])
