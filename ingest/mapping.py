"""Map validated, resolved records to RDF (the table in docs/architecture.md).

Triples are built as pyoxigraph terms: the store, the SHACL engine and the bulk writer all take
them as they are, so an ingest of 10,000 records never round-trips through rdflib.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pyoxigraph as ox
from rdflib import Graph
from rdflib.namespace import DCTERMS, PROV, RDF, RDFS, SKOS, XSD

from ingest.records import Record
from kg.terms import from_ox
from ontology.namespaces import (
    ADMS,
    POLICY_LEVEL_SCHEME,
    RECORD_TYPES,
    SCHEMA,
    STATUS_SCHEME,
    SUBTYPE_SCHEMES,
    THEME_SCHEME,
    WK,
    concept_iri,
    item_iri,
    municipality_iri,
)


def _n(iri: object) -> ox.NamedNode:
    return ox.NamedNode(str(iri))


TYPE, IDENTIFIER, LABEL, DESCRIPTION = _n(RDF.type), _n(DCTERMS.identifier), _n(RDFS.label), \
    _n(DCTERMS.description)
SUBJECT, MUNICIPALITY, OVERCOMES, ADDRESSES = _n(DCTERMS.subject), _n(WK.municipality), \
    _n(WK.overcomes), _n(WK.addresses)
GENERATED_BY, SOURCE, DATE, ALT_LABEL = _n(PROV.wasGeneratedBy), _n(DCTERMS.source), \
    _n(DCTERMS.date), _n(SKOS.altLabel)
SUBTYPE, URL, PIONEER, MENTIONS = _n(DCTERMS.type), _n(SCHEMA.url), _n(WK.pioneer), \
    _n(WK.mentions)
POLICY_LEVEL, PRIORITY, STATUS = _n(WK.policyLevel), _n(WK.priority), _n(ADMS.status)
XSD_DATE, XSD_BOOLEAN = _n(XSD.date), _n(XSD.boolean)
CLASSES = {t: _n(WK[cls]) for t, (cls, _, _) in RECORD_TYPES.items()}
# field -> predicate, for the id-valued fields whose predicate does not depend on the type
_REF_PREDICATES = {
    "neighbourhood": _n(WK.neighbourhood),
    "actors": _n(WK.involves),
    "measures": _n(WK.usesMeasure),
    "related": _n(WK.related),
}


class RecordMapper:
    """Turns records into triples; knows the base IRI and the type of every id it may meet."""

    def __init__(self, base_iri: str, types: Mapping[str, str]) -> None:
        self.base_iri = base_iri
        self.types = types

    def iri(self, record_id: str) -> ox.NamedNode:
        """The IRI of a record id (its type comes from the resolution)."""
        return ox.NamedNode(item_iri(self.base_iri, self.types[record_id], record_id))

    def triples(
        self,
        rec: Record,
        *,
        municipality_nis: str | None,
        mentions: Iterable[str] = (),
    ) -> list[ox.Triple]:
        """Every triple of one record, including its text mentions (`wk:mentions`)."""
        s = ox.NamedNode(item_iri(self.base_iri, rec.type, rec.id))
        out = [
            ox.Triple(s, TYPE, CLASSES[rec.type]),
            ox.Triple(s, IDENTIFIER, ox.Literal(rec.id)),
            ox.Triple(s, LABEL, ox.Literal(rec.title, language="nl")),
        ]
        if rec.text:
            out.append(ox.Triple(s, DESCRIPTION, ox.Literal(rec.text, language="nl")))
        for theme in rec.themes:
            out.append(ox.Triple(s, SUBJECT, ox.NamedNode(concept_iri(THEME_SCHEME, theme))))
        if municipality_nis:
            out.append(ox.Triple(s, MUNICIPALITY,
                                 ox.NamedNode(municipality_iri(municipality_nis))))
        threshold_predicate = OVERCOMES if rec.type == "breakthrough" else ADDRESSES
        out.extend(ox.Triple(s, threshold_predicate, self.iri(t)) for t in rec.thresholds)
        for name, predicate in _REF_PREDICATES.items():
            value = getattr(rec, name)
            if value is None:
                continue
            for ref in [value] if isinstance(value, str) else value:
                out.append(ox.Triple(s, predicate, self.iri(ref)))
        if rec.source:
            predicate = GENERATED_BY if self.types[rec.source] == "activity" else SOURCE
            out.append(ox.Triple(s, predicate, self.iri(rec.source)))
        if rec.date:
            out.append(ox.Triple(s, DATE, ox.Literal(rec.date.isoformat(), datatype=XSD_DATE)))
        out.extend(ox.Triple(s, ALT_LABEL, ox.Literal(label, language="nl"))
                   for label in rec.alt_labels)
        if rec.subtype:
            out.append(ox.Triple(s, SUBTYPE, ox.NamedNode(
                concept_iri(SUBTYPE_SCHEMES[rec.type], rec.subtype))))
        if rec.url:
            out.append(ox.Triple(s, URL, ox.NamedNode(rec.url)))
        if rec.pioneer is not None:
            out.append(ox.Triple(s, PIONEER, ox.Literal(str(rec.pioneer).lower(),
                                                        datatype=XSD_BOOLEAN)))
        if rec.policy_level:
            out.append(ox.Triple(s, POLICY_LEVEL, ox.NamedNode(
                concept_iri(POLICY_LEVEL_SCHEME, rec.policy_level))))
        if rec.priority is not None:
            out.append(ox.Triple(s, PRIORITY, ox.Literal(str(rec.priority).lower(),
                                                         datatype=XSD_BOOLEAN)))
        if rec.status:
            out.append(ox.Triple(s, STATUS, ox.NamedNode(concept_iri(STATUS_SCHEME, rec.status))))
        out.extend(ox.Triple(s, MENTIONS, ox.NamedNode(m)) for m in sorted(set(mentions)))
        return out


def add_all(graph: Graph, triples: Iterable[ox.Triple]) -> None:
    """Add pyoxigraph triples to an rdflib graph."""
    for t in triples:
        graph.add((from_ox(t.subject), from_ox(t.predicate), from_ox(t.object)))
