"""SHACL validation of an ingest run's graphs, reported as file:line: field problems."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pyoxigraph as ox
from rdflib import URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, RDFS, SH, SKOS

from ingest.records import SourceRecord
from ingest.shacl_engine import package_shapes
from kg.errors import Problem
from kg.store import Store
from ontology.namespaces import ADMS, SCHEMA, WK, item_iri

# predicate -> record field, to name the field a SHACL result is about
FIELD_OF = {
    DCTERMS.identifier: "id",
    RDFS.label: "title",
    DCTERMS.description: "text",
    DCTERMS.subject: "themes",
    WK.municipality: "municipality",
    WK.neighbourhood: "neighbourhood",
    WK.involves: "actors",
    WK.addresses: "thresholds",
    WK.overcomes: "thresholds",
    WK.usesMeasure: "measures",
    WK.related: "related",
    PROV.wasGeneratedBy: "source",
    DCTERMS.source: "source",
    DCTERMS.date: "date",
    SKOS.altLabel: "alt_labels",
    DCTERMS.type: "subtype",
    SCHEMA.url: "url",
    WK.pioneer: "pioneer",
    WK.policyLevel: "policy_level",
    WK.priority: "priority",
    ADMS.status: "status",
    WK.mentions: "text",
}


def _load(store: Store, graphs: Mapping[str, Sequence[ox.Quad]]) -> tuple[ox.Store, set[str]]:
    """An in-memory store with the new graphs plus the types and schemes of the resources they
    point at but do not describe (records in other files, concepts, municipalities)."""
    mem = ox.Store()
    subjects: set[str] = set()
    objects: set[str] = set()
    for quads in graphs.values():
        mem.extend(quads)
        for q in quads:
            if not isinstance(q.subject, ox.Triple):  # the pipeline writes no RDF-star
                subjects.add(q.subject.value)
            if isinstance(q.object, ox.NamedNode):
                objects.add(q.object.value)
    outside = sorted(objects - subjects)
    context: list[ox.Quad] = []
    for start in range(0, len(outside), 2000):
        values = " ".join(f"<{o}>" for o in outside[start:start + 2000])
        result = store.query(f"""SELECT ?s ?p ?o WHERE {{
            VALUES ?s {{ {values} }} VALUES ?p {{ <{RDF.type}> <{SKOS.inScheme}> }} ?s ?p ?o }}""")
        assert isinstance(result, ox.QuerySolutions)
        context.extend(ox.Quad(row["s"], row["p"], row["o"]) for row in result)
    mem.extend(context)
    return mem, subjects


def validate_graphs(
    store: Store,
    graphs: Mapping[str, Sequence[ox.Quad]],
    pending: Mapping[str, tuple[Any, Any, list[SourceRecord], Any]],
    base_iri: str,
) -> list[Problem]:
    """Validate the new graphs against the shapes; every violation becomes a located problem.

    The engine is `ingest.shacl_engine` (SHACL Core compiled to set-at-a-time SPARQL over an
    in-memory Oxigraph store): it gives pyshacl's results (the tests check them against pyshacl)
    at ~200x its speed, which an ingest of 10,000 records needs.
    """
    data, own = _load(store, graphs)
    report = package_shapes().validate(data)
    if report.conforms:
        return []
    where = {
        item_iri(base_iri, s.record.type, s.record.id): s
        for _, _, recs, _ in pending.values() for s in recs
    }
    files = {giri: str(p[0]) for giri, p in pending.items()}
    problems = []
    for result in report.results:
        if result.severity != SH.Violation:
            continue
        focus = str(result.focus)
        if focus not in own:
            continue  # a resource from the store, only present for its type
        path = result.path
        message = result.message or "violates a SHACL shape"
        if result.value is not None:
            message += f" (value: {result.value})"
        field = FIELD_OF.get(path) if isinstance(path, URIRef) else None
        source = where.get(focus)
        if source is not None:
            problems.append(source.raw.problem(field, f"SHACL: {message}"))
        else:
            problems.append(Problem(files.get(focus, focus), None, field, f"SHACL: {message}"))
    return sorted(set(problems))
