"""Facet counts for the search page: how many items each filter value would leave.

Counts are taken over the **candidate set**, the items that pass the other active filters, not
over the hits shown: hybrid search ranks every candidate (the dense ranking has no cut-off), so
"the items that match the query" is the candidate set. The query text never changes the counts;
the filters do. Facets are disjunctive: values of one facet are OR-ed (as in
`SearchEngine.allowed`), so a facet's own selection does not shrink its counts and a second
value can still be added.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ontology.namespaces import KNOWLEDGE_TYPES
from search.documents import Document

# facet -> Dutch label, in display order
FACETS: dict[str, str] = {
    "type": "Soort",
    "theme": "Thema",
    "municipality": "Gemeente",
    "neighbourhood": "Wijk",
}
TYPE_LABELS = {"lesson": "les", "threshold": "drempel", "measure": "maatregel",
               "breakthrough": "doorbraak"}


@dataclass
class FacetValue:
    """One value of a facet: the filter value, its label, the count and whether it is on."""

    value: str
    label: str
    count: int
    selected: bool


@dataclass
class Facet:
    """A filter with its values, most frequent first."""

    name: str
    label: str
    values: list[FacetValue] = field(default_factory=list)

    @property
    def selected(self) -> list[FacetValue]:
        """The values that are switched on."""
        return [v for v in self.values if v.selected]


def parse_filters(params: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """Filter values from query parameters: repeated (`type=a&type=b`) or comma-separated."""
    out: dict[str, list[str]] = {}
    for name, raw in params:
        if name not in FACETS:
            continue
        for value in raw.split(","):
            value = value.strip()
            if value and value not in out.setdefault(name, []):
                out[name].append(value)
    return {k: v for k, v in out.items() if v}


def _values(doc: Document, facet: str) -> list[tuple[str, str]]:
    if facet == "type":
        return [(doc.type, TYPE_LABELS.get(doc.type, doc.type))]
    if facet == "theme":
        return [(t.id, t.title) for t in doc.themes]
    ref = doc.municipality if facet == "municipality" else doc.neighbourhood
    return [] if ref is None else [(ref.id, ref.title)]


def passes(doc: Document, selected: Mapping[str, list[str]], *, skip: str | None = None) -> bool:
    """Whether a document passes the filters (each facet OR-ed, facets AND-ed)."""
    return all(set(values) & doc.facet_values(name)
               for name, values in selected.items() if name != skip)


def facet_counts(docs: Iterable[Document], selected: Mapping[str, list[str]]) -> list[Facet]:
    """Every facet with its values' counts over the candidate set of the other filters."""
    docs = list(docs)
    facets = []
    for name, label in FACETS.items():
        counts: Counter[str] = Counter()
        labels: dict[str, str] = {}
        for doc in docs:
            if passes(doc, selected, skip=name):
                for value, value_label in _values(doc, name):
                    counts[value] += 1
                    labels[value] = value_label
        chosen = selected.get(name, [])
        for value in chosen:  # a selected value stays visible (to switch it off) at 0
            labels.setdefault(value, TYPE_LABELS.get(value, value))
        values = [FacetValue(v, labels[v], counts[v], v in chosen) for v in labels]
        if name == "type":
            order = {t: i for i, t in enumerate(KNOWLEDGE_TYPES)}
            values.sort(key=lambda v: order.get(v.value, 99))
        else:
            values.sort(key=lambda v: (not v.selected, -v.count, v.label.lower()))
        facets.append(Facet(name, label, values))
    return facets
