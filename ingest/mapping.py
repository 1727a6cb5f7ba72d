"""Map validated, resolved records to RDF triples (the table in docs/architecture.md)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, RDFS, SKOS, XSD

from ingest.records import Record
from kg.namespaces import (
    RECORD_TYPES,
    SCHEMA,
    SUBTYPE_SCHEMES,
    THEME_SCHEME,
    WK,
    concept_iri,
    item_iri,
    municipality_iri,
)

# field -> predicate, for the id-valued fields whose predicate does not depend on the type
_REF_PREDICATES = {
    "neighbourhood": WK.neighbourhood,
    "actors": WK.involves,
    "measures": WK.usesMeasure,
    "related": WK.related,
}


class RecordMapper:
    """Turns records into triples; knows the base IRI and the type of every id it may meet."""

    def __init__(self, base_iri: str, types: Mapping[str, str]) -> None:
        self.base_iri = base_iri
        self.types = types

    def iri(self, record_id: str) -> URIRef:
        """The IRI of a record id (its type comes from the resolution)."""
        return URIRef(item_iri(self.base_iri, self.types[record_id], record_id))

    def triples(
        self,
        rec: Record,
        *,
        municipality_nis: str | None,
        mentions: Iterable[str] = (),
    ) -> list[tuple[URIRef, URIRef, URIRef | Literal]]:
        """Every triple of one record, including its text mentions (`wk:mentions`)."""
        s = URIRef(item_iri(self.base_iri, rec.type, rec.id))
        out: list[tuple[URIRef, URIRef, URIRef | Literal]] = [
            (s, RDF.type, WK[RECORD_TYPES[rec.type][0]]),
            (s, DCTERMS.identifier, Literal(rec.id)),
            (s, RDFS.label, Literal(rec.title, lang="nl")),
        ]
        if rec.text:
            out.append((s, DCTERMS.description, Literal(rec.text, lang="nl")))
        for theme in rec.themes:
            out.append((s, DCTERMS.subject, URIRef(concept_iri(THEME_SCHEME, theme))))
        if municipality_nis:
            out.append((s, WK.municipality, URIRef(municipality_iri(municipality_nis))))
        threshold_predicate = WK.overcomes if rec.type == "breakthrough" else WK.addresses
        out.extend((s, threshold_predicate, self.iri(t)) for t in rec.thresholds)
        for name, predicate in _REF_PREDICATES.items():
            value = getattr(rec, name)
            if value is None:
                continue
            for ref in [value] if isinstance(value, str) else value:
                out.append((s, predicate, self.iri(ref)))
        if rec.source:
            predicate = PROV.wasGeneratedBy if self.types[rec.source] == "activity" else (
                DCTERMS.source)
            out.append((s, predicate, self.iri(rec.source)))
        if rec.date:
            out.append((s, DCTERMS.date, Literal(rec.date.isoformat(), datatype=XSD.date)))
        out.extend((s, SKOS.altLabel, Literal(label, lang="nl")) for label in rec.alt_labels)
        if rec.subtype:
            out.append((s, DCTERMS.type, URIRef(concept_iri(SUBTYPE_SCHEMES[rec.type],
                                                            rec.subtype))))
        if rec.url:
            out.append((s, SCHEMA.url, URIRef(rec.url)))
        if rec.pioneer is not None:
            out.append((s, WK.pioneer, Literal(rec.pioneer)))
        out.extend((s, WK.mentions, URIRef(m)) for m in sorted(set(mentions)))
        return out


def add_all(graph: Graph, triples: Iterable[tuple[URIRef, URIRef, URIRef | Literal]]) -> None:
    """Add triples to a graph (rdflib's `addN` without the context juggling)."""
    for t in triples:
        graph.add(t)
