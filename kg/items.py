"""Read one record with its links in both directions, labels resolved, as a typed object."""

from __future__ import annotations

from pydantic import BaseModel, Field
from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDFS, SKOS
from rdflib.term import Node

from kg.store import Store
from ontology.namespaces import CLASS_TO_TYPE, WK, sparql_prefixes

# predicate -> (relation name, Dutch label out, Dutch label in); keyed by any term, like
# CLASS_TO_TYPE, so that a predicate read from the store looks up as it is
RELATIONS: dict[Node, tuple[str, str, str]] = {
    WK.overcomes: ("overcomes", "overwint drempel", "overwonnen door"),
    WK.addresses: ("addresses", "gaat over drempel", "aangepakt in"),
    WK.usesMeasure: ("uses-measure", "gebruikt maatregel", "gebruikt in"),
    WK.involves: ("involves", "betrokken actor", "betrokken bij"),
    WK.neighbourhood: ("neighbourhood", "wijk", "in deze wijk"),
    WK.municipality: ("municipality", "gemeente", "in deze gemeente"),
    WK.related: ("related", "verwant", "verwant"),
    PROV.wasGeneratedBy: ("harvested-in", "geoogst tijdens", "oogst"),
    DCTERMS.source: ("source", "bron", "gebruikt als bron door"),
    DCTERMS.subject: ("theme", "thema", "over dit thema"),
    WK.mentions: ("mentions", "vermeldt", "vermeld in"),
    DCTERMS.type: ("subtype", "soort", "van deze soort"),
}


class Resource(BaseModel):
    """A linked resource: a record, a concept or a municipality, with its Dutch label."""

    iri: str
    id: str | None = None
    type: str | None = Field(default=None, description="Record type, or concept/municipality.")
    title: str | None = None
    note: str | None = Field(default=None, description="A concept's Dutch altLabel, e.g. what "
                             "a status means in a few words.")


class Link(BaseModel):
    """One edge of an item: the relation, its direction and the resource at the other end."""

    relation: str
    label: str = Field(description="Dutch label of the relation in this direction.")
    direction: str = Field(description="`out` (this item → target) or `in` (target → item).")
    target: Resource


class Item(BaseModel):
    """A record with its literal fields and every link, both directions."""

    id: str
    type: str
    iri: str
    title: str
    text: str | None = None
    date: str | None = None
    alt_labels: list[str] = []
    notes: list[str] = Field(default_factory=list, description="Editorial notes: what merged "
                             "contributions added (skos:editorialNote).")
    status: Resource | None = Field(default=None, description="The record's status "
                                    "(adms:status): its notation as `id`, the Dutch label as "
                                    "`title` and the concept's Dutch note as `note`.")
    graph: str | None = None
    links: list[Link] = []

    def linked(self, relation: str, direction: str = "out") -> list[Resource]:
        """The resources at the other end of one relation."""
        return [
            ln.target for ln in self.links if ln.relation == relation and ln.direction == direction
        ]


def _kind(type_iri: str | None) -> str | None:
    if type_iri is None:
        return None
    if URIRef(type_iri) in CLASS_TO_TYPE:
        return CLASS_TO_TYPE[URIRef(type_iri)]
    if type_iri == str(SKOS.Concept):
        return "concept"
    if type_iri == str(WK.Municipality):
        return "municipality"
    return None


class ItemReader:
    """Reads items from a store."""

    def __init__(self, store: Store, base_iri: str) -> None:
        self.store = store
        self.base_iri = base_iri
        self._p = sparql_prefixes()

    def iri_of(self, record_id: str) -> tuple[str, str, str] | None:
        """(IRI, type, graph) of a record id, or None."""
        rows = self.store.select(
            self._p
            + f"""
            SELECT ?s ?c ?g WHERE {{ GRAPH ?g {{ ?s dct:identifier {Literal(record_id).n3()} ;
              a ?c }} }}"""
        )
        for r in rows:
            if r["c"] in CLASS_TO_TYPE:
                return str(r["s"]), CLASS_TO_TYPE[r["c"]], str(r["g"])
        return None

    def get(self, record_id: str) -> Item | None:
        """The item with this id, or None."""
        found = self.iri_of(record_id)
        if found is None:
            return None
        iri, rtype, graph = found
        s = f"<{iri}>"
        fields = self.store.select(
            self._p
            + f"""
            SELECT ?p ?o WHERE {{ {s} ?p ?o FILTER isLiteral(?o) }}"""
        )
        title = text = date = None
        alt: list[str] = []
        notes: list[str] = []
        for r in fields:
            p, o = r["p"], r["o"]
            if p == RDFS.label:
                title = str(o)
            elif p == DCTERMS.description:
                text = str(o)
            elif p == DCTERMS.date:
                date = str(o)
            elif p == SKOS.altLabel:
                alt.append(str(o))
            elif p == SKOS.editorialNote:
                notes.append(str(o))
        links = self._links(s, "out") + self._links(s, "in")
        return Item(
            id=record_id,
            type=rtype,
            iri=iri,
            title=title or record_id,
            text=text,
            date=date,
            alt_labels=sorted(alt),
            notes=sorted(notes),
            status=self._status(s),
            graph=graph,
            links=links,
        )

    def _status(self, s: str) -> Resource | None:
        """The item's adms:status concept with its Dutch labels, or None."""
        rows = self.store.select(
            self._p
            + f"""
            SELECT ?c ?n (SAMPLE(?pl) AS ?l) (SAMPLE(?al) AS ?a) WHERE {{
              {s} adms:status ?c . ?c skos:notation ?n .
              OPTIONAL {{ ?c skos:prefLabel ?pl FILTER (lang(?pl) = "nl") }}
              OPTIONAL {{ ?c skos:altLabel ?al FILTER (lang(?al) = "nl") }}
            }} GROUP BY ?c ?n"""
        )
        if not rows:
            return None
        r = rows[0]
        return Resource(iri=str(r["c"]), id=str(r["n"]), type="concept",
                        title=str(r["l"]) if "l" in r else str(r["n"]),
                        note=str(r["a"]) if "a" in r else None)

    def _links(self, s: str, direction: str) -> list[Link]:
        preds = " ".join(f"<{p}>" for p in RELATIONS)
        pattern = f"{s} ?p ?o" if direction == "out" else f"?o ?p {s}"
        rows = self.store.select(
            self._p
            + f"""
            SELECT ?p ?o (SAMPLE(?oid) AS ?id) (SAMPLE(?ot) AS ?t) (SAMPLE(?ol) AS ?l) WHERE {{
              {pattern} . VALUES ?p {{ {preds} }}
              OPTIONAL {{ ?o dct:identifier ?oid }}
              OPTIONAL {{ ?o a ?ot FILTER (?ot IN ({", ".join(f"<{c}>" for c in CLASS_TO_TYPE)},
                         skos:Concept, wk:Municipality)) }}
              OPTIONAL {{ ?o rdfs:label|skos:prefLabel ?ol FILTER (lang(?ol) = "nl") }}
            }} GROUP BY ?p ?o ORDER BY ?p ?l"""
        )
        out = []
        for r in rows:
            p = r["p"]
            name, label_out, label_in = RELATIONS[p]
            kind = _kind(str(r["t"])) if "t" in r else None
            rid = str(r["id"]) if "id" in r and kind not in ("municipality",) else None
            out.append(
                Link(
                    relation=name,
                    label=label_out if direction == "out" else label_in,
                    direction=direction,
                    target=Resource(
                        iri=str(r["o"]), id=rid, type=kind, title=str(r["l"]) if "l" in r else None
                    ),
                )
            )
        return out
