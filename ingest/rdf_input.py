"""Read records delivered as RDF (Turtle, JSON-LD, N-Triples) that follow the ontology.

The triples are mapped back to record fields so an RDF delivery goes through the same
validation, reference resolution and SHACL checks as a spreadsheet. Triples about a record with
predicates the mapping does not know are kept as they are; triples about anything else are
refused, so a file cannot rewrite records it does not deliver.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, RDFS, SKOS

from ingest.records import RawRecord
from kg.errors import Problem
from kg.namespaces import (
    CLASS_TO_TYPE,
    CONCEPT_ROOT,
    MUNICIPALITY_ROOT,
    RECORD_TYPES,
    SCHEMA,
    WK,
)

_LIST = {
    DCTERMS.subject: "themes", WK.involves: "actors", WK.addresses: "thresholds",
    WK.overcomes: "thresholds", WK.usesMeasure: "measures", WK.related: "related",
    SKOS.altLabel: "alt_labels",
}
_SINGLE = {
    RDFS.label: "title", DCTERMS.description: "text", DCTERMS.identifier: "id",
    WK.municipality: "municipality", WK.neighbourhood: "neighbourhood",
    PROV.wasGeneratedBy: "source", DCTERMS.source: "source", DCTERMS.date: "date",
    DCTERMS.type: "subtype", SCHEMA.url: "url", WK.pioneer: "pioneer",
}
_DERIVED = {WK.mentions}  # recomputed by the pipeline


def _value(term: Any, field: str, base_iri: str) -> tuple[Any, str | None]:
    """A field value from an RDF object, or an error message."""
    if field in ("themes", "subtype"):
        if isinstance(term, URIRef) and str(term).startswith(CONCEPT_ROOT):
            return str(term).rsplit("/", 1)[1], None
        return None, f"{term} is not a wijken concept IRI"
    if field == "municipality":
        if isinstance(term, URIRef) and str(term).startswith(MUNICIPALITY_ROOT):
            return str(term).removeprefix(MUNICIPALITY_ROOT), None
        return None, f"{term} is not a municipality IRI ({MUNICIPALITY_ROOT}{{NIS}})"
    if field in ("actors", "thresholds", "measures", "related", "neighbourhood", "source"):
        if isinstance(term, URIRef) and str(term).startswith(base_iri):
            parts = str(term).removeprefix(base_iri).split("/")
            if len(parts) == 2 and parts[0] in RECORD_TYPES:
                return parts[1], None
        return None, f"{term} is not a record IRI under the base IRI {base_iri}"
    if field == "url":
        return str(term), None
    if isinstance(term, Literal):
        return term.toPython() if field in ("pioneer", "date") else str(term), None
    return None, f"{term} must be a literal"


def read_rdf(path: Path, label: str, fmt: str, base_iri: str
             ) -> tuple[list[RawRecord], Graph, list[Problem]]:
    """Records, the extra triples to keep, and problems of one RDF file."""
    graph = Graph()
    try:
        graph.parse(path, format=fmt)
    except Exception as exc:  # rdflib raises parser-specific types
        return [], Graph(), [Problem(label, None, None, f"malformed {fmt}: {exc}")]
    problems: list[Problem] = []
    extra = Graph()
    records: list[RawRecord] = []
    items = {s: CLASS_TO_TYPE[o] for s, o in graph.subject_objects(RDF.type)
             if o in CLASS_TO_TYPE}
    for other in sorted({s for s in graph.subjects() if s not in items}):
        problems.append(Problem(label, None, None, f"triples about {other}, which is not a "
                                "record of this file (records need a wijken class)"))
    for subject, rtype in sorted(items.items()):
        data: dict[str, Any] = {"type": rtype}
        where = f"record {subject}"
        for p, o in graph.predicate_objects(subject):
            if p == RDF.type:
                if o not in CLASS_TO_TYPE:
                    extra.add((subject, p, o))
                continue
            if p in _DERIVED:
                continue
            field = _LIST.get(p) or _SINGLE.get(p)
            if field is None:
                extra.add((subject, p, o))
                continue
            value, error = _value(o, field, base_iri)
            if error:
                problems.append(Problem(label, None, field, f"{where}: {error}"))
                continue
            if p in _LIST:
                data.setdefault(field, []).append(value)
            elif field in data:
                problems.append(Problem(label, None, field, f"{where}: more than one value"))
            else:
                data[field] = value
        expected = f"{base_iri}{rtype}/{data.get('id')}"
        if "id" in data and str(subject) != expected:
            problems.append(Problem(label, None, "id", f"{where}: IRI must be {expected}"))
        records.append(RawRecord(f"{label} <{subject}>", None, data))
    return records, extra, problems
