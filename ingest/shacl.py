"""SHACL validation of an ingest run's graphs, reported as file:line: field problems."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, RDFS, SH, SKOS

from ingest.records import SourceRecord
from kg.errors import Problem
from kg.namespaces import SCHEMA, WK, item_iri
from kg.store import Store, from_ox

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
    WK.mentions: "text",
}


def _context(store: Store, graphs: Mapping[str, Graph]) -> Graph:
    """Types and schemes of the resources the new graphs point at but do not describe."""
    subjects = {s for g in graphs.values() for s in g.subjects()}
    objects = {o for g in graphs.values() for o in g.objects() if isinstance(o, URIRef)}
    outside = sorted(objects - subjects)
    ctx = Graph()
    for start in range(0, len(outside), 2000):
        values = " ".join(f"<{o}>" for o in outside[start:start + 2000])
        result = store.query(f"""SELECT ?s ?p ?o WHERE {{
            VALUES ?s {{ {values} }} VALUES ?p {{ <{RDF.type}> <{SKOS.inScheme}> }} ?s ?p ?o }}""")
        for row in result:
            ctx.add((from_ox(row["s"]), from_ox(row["p"]), from_ox(row["o"])))
    return ctx


def validate_graphs(
    store: Store,
    graphs: Mapping[str, Graph],
    pending: Mapping[str, tuple[Any, Any, list[SourceRecord], Any]],
    base_iri: str,
) -> list[Problem]:
    """Validate the new graphs against the shapes; every violation becomes a located problem.

    The engine is `ingest.shacl_sparql` (SHACL Core compiled to set-at-a-time SPARQL over an
    in-memory Oxigraph store): it gives pyshacl's results (the tests check them against pyshacl)
    at ~200x its speed, which an ingest of 10,000 records needs.
    """
    from ingest.shacl_sparql import package_shapes

    data = Graph()
    for g in graphs.values():
        data += g
    data += _context(store, graphs)
    report = package_shapes().validate(data)
    if report.conforms:
        return []
    where = {
        URIRef(item_iri(base_iri, s.record.type, s.record.id)): s
        for _, _, recs, _ in pending.values() for s in recs
    }
    files = {URIRef(giri): str(p[0]) for giri, p in pending.items()}
    own = {s for g in graphs.values() for s in g.subjects()}
    problems = []
    for result in report.results:
        if result.severity != SH.Violation:
            continue
        focus = result.focus
        if focus not in own:
            continue  # a resource from the store, only present for its type
        path = result.path
        message = result.message or "violates a SHACL shape"
        value = result.value
        if value is not None:
            message += f" (value: {value})"
        field = FIELD_OF.get(path) if isinstance(path, URIRef) else None
        source = where.get(focus) if isinstance(focus, URIRef) else None
        if source is not None:
            problems.append(source.raw.problem(field, f"SHACL: {message}"))
        else:
            problems.append(Problem(files.get(focus, str(focus)), None, field, f"SHACL: {message}"))
    return sorted(set(problems))
