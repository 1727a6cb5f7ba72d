"""Searchable documents built from the graph: one per lesson, threshold, measure, breakthrough.

A document carries what search needs to filter and to present a hit (type, themes,
municipality, neighbourhood, actors, linked thresholds, measures and breakthroughs) and the
passage that is embedded: the title, the text and the labels of its linked thresholds, themes,
municipality and neighbourhood.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from kg.store import Store
from ontology.namespaces import KNOWLEDGE_TYPES, RECORD_TYPES, WK, sparql_prefixes


@dataclass(frozen=True)
class Ref:
    """A linked record or concept: its id (or notation) and Dutch title."""

    id: str
    title: str


@dataclass
class Document:
    """One searchable item."""

    id: str
    type: str
    iri: str
    title: str
    text: str
    themes: list[Ref] = field(default_factory=list)
    municipality: Ref | None = None  # id = NIS code
    neighbourhood: Ref | None = None
    actors: list[Ref] = field(default_factory=list)
    thresholds: list[Ref] = field(default_factory=list)
    measures: list[Ref] = field(default_factory=list)
    breakthroughs: list[Ref] = field(default_factory=list)
    related: list[Ref] = field(default_factory=list)
    subtype: Ref | None = None  # notation and label in the type's scheme (drempeltype, ...)
    status: Ref | None = None  # the record's status (adms:status): voorbeeld, gevalideerd, ...

    @property
    def passage(self) -> str:
        """The text that is embedded and indexed for this item."""
        parts = [self.title]
        if self.text:
            parts.append(self.text)
        if self.thresholds:
            parts.append("Drempels: " + "; ".join(t.title for t in self.thresholds))
        if self.themes:
            parts.append("Thema's: " + ", ".join(t.title for t in self.themes))
        place = [r.title for r in (self.neighbourhood, self.municipality) if r is not None]
        if place:
            parts.append("Plaats: " + ", ".join(place))
        return "\n".join(parts)

    @property
    def passage_hash(self) -> str:
        """Hash of the passage: an item is re-embedded only when this changes."""
        return hashlib.sha256(self.passage.encode()).hexdigest()[:20]

    def facet_values(self, facet: str) -> set[str]:
        """Values a filter on `facet` matches (ids, notations, NIS codes and names)."""
        if facet == "type":
            return {self.type, RECORD_TYPES[self.type][1]}
        if facet == "theme":
            return {t.id for t in self.themes}
        if facet == "municipality":
            m = self.municipality
            return set() if m is None else {m.id, m.title, m.title.lower()}
        if facet == "neighbourhood":
            return set() if self.neighbourhood is None else {self.neighbourhood.id}
        if facet == "actor":
            return {a.id for a in self.actors}
        if facet == "threshold":
            return {t.id for t in self.thresholds}
        if facet == "subtype":
            return set() if self.subtype is None else {self.subtype.id}
        if facet == "status":
            return set() if self.status is None else {self.status.id}
        raise KeyError(facet)


# facet -> graph pattern binding ?s (the item), ?rid and ?rl (the linked resource's id and label)
_LINKS = {
    "themes": "?s dct:subject ?r . ?r skos:notation ?rid ; skos:prefLabel ?rl "
              'FILTER (lang(?rl) = "nl")',
    "actors": "?s wk:involves ?r . ?r dct:identifier ?rid ; rdfs:label ?rl",
    "thresholds": "?s wk:addresses|wk:overcomes ?r . ?r dct:identifier ?rid ; rdfs:label ?rl",
    "measures": "{ ?s wk:usesMeasure ?r } UNION { ?r wk:usesMeasure ?s } "
                "?r a wk:Measure ; dct:identifier ?rid ; rdfs:label ?rl",
    "breakthroughs": "{ ?r wk:usesMeasure|wk:overcomes|wk:related ?s } UNION "
                     "{ ?s wk:related ?r } ?r a wk:Breakthrough ; dct:identifier ?rid ; "
                     "rdfs:label ?rl",
    "related": "{ ?s wk:related ?r } UNION { ?r wk:related ?s } "
               "?r dct:identifier ?rid ; rdfs:label ?rl",
}


def load_documents(store: Store) -> dict[str, Document]:
    """Every searchable item in the store, by id (one query per kind of link, no joins)."""
    p = sparql_prefixes()
    types = " ".join(f"wk:{RECORD_TYPES[t][0]}" for t in KNOWLEDGE_TYPES)
    head = f"VALUES ?class {{ {types} }} ?s a ?class ; dct:identifier ?id ."
    class_to_type = {str(WK[RECORD_TYPES[t][0]]): t for t in KNOWLEDGE_TYPES}
    docs: dict[str, Document] = {}
    for r in store.select(p + f"""
        SELECT ?s ?class ?id ?title ?text ?munid ?munl ?nid ?nl ?stid ?stl ?sid ?sl WHERE {{
          {head}
          ?s rdfs:label ?title .
          OPTIONAL {{ ?s dct:description ?text }}
          OPTIONAL {{ ?s dct:type ?st . ?st skos:notation ?stid ; skos:prefLabel ?stl
                      FILTER (lang(?stl) = "nl") }}
          OPTIONAL {{ ?s wk:municipality ?mun . ?mun wk:nisCode ?munid ; rdfs:label ?munl }}
          OPTIONAL {{ ?s wk:neighbourhood ?n . ?n dct:identifier ?nid ; rdfs:label ?nl }}
          OPTIONAL {{ ?s adms:status ?sc . ?sc skos:notation ?sid ; skos:prefLabel ?sl
                      FILTER (lang(?sl) = "nl") }}
        }}"""):
        rid = str(r["id"])
        docs[rid] = Document(
            id=rid, type=class_to_type[str(r["class"])], iri=str(r["s"]),
            title=str(r["title"]), text=str(r.get("text", "")),
            municipality=Ref(str(r["munid"]), str(r["munl"])) if "munid" in r else None,
            neighbourhood=Ref(str(r["nid"]), str(r["nl"])) if "nid" in r else None,
            subtype=Ref(str(r["stid"]), str(r["stl"])) if "stid" in r else None,
            status=Ref(str(r["sid"]), str(r["sl"])) if "sid" in r else None,
        )
    for name, pattern in _LINKS.items():
        found: dict[str, set[Ref]] = {}
        for r in store.select(p + f"SELECT DISTINCT ?id ?rid ?rl WHERE {{ {head} {pattern} }}"):
            if str(r["rid"]) != str(r["id"]):
                found.setdefault(str(r["id"]), set()).add(Ref(str(r["rid"]), str(r["rl"])))
        for rid, refs in found.items():
            if rid in docs:
                setattr(docs[rid], name, sorted(refs, key=lambda x: (x.title.lower(), x.id)))
    return docs
