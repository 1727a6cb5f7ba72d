"""What the store says about one resource, for linked data: its own triples, labels of what it
links to, incoming links, and labels of the predicates and classes used."""

from __future__ import annotations

import pyoxigraph as ox
from rdflib import Graph, URIRef
from rdflib.namespace import RDF, RDFS, SKOS

from kg.errors import NotFoundError
from kg.store import OxQueryResults, Store
from kg.terms import from_ox
from ontology.namespaces import PREFIXES

# Incoming links beyond this are left out of a description (a theme has many items).
MAX_INCOMING = 500
_LABELS = "VALUES ?lp { rdfs:label skos:prefLabel }"


def describe(store: Store, iri: str) -> Graph:
    """The item's triples, labels of what it links to, and incoming links (with labels)."""
    node = f"<{iri}>"
    prologue = "".join(f"PREFIX {p}: <{PREFIXES[p]}>\n" for p in ("rdfs", "skos"))
    # Consumed at once: pyoxigraph results must be dropped on the thread that made them.
    out = _triples(
        store.query(f"""{prologue}CONSTRUCT {{ {node} ?p ?o . ?o ?lp ?ol }} WHERE {{
        {node} ?p ?o OPTIONAL {{ ?o ?lp ?ol {_LABELS} }} }}""")
    )
    incoming = _triples(
        store.query(f"""{prologue}CONSTRUCT {{ ?s ?p {node} . ?s ?lp ?sl }} WHERE {{
        {{ SELECT DISTINCT ?s ?p WHERE {{ ?s ?p {node} }} LIMIT {MAX_INCOMING} }}
        OPTIONAL {{ ?s ?lp ?sl {_LABELS} }} }}""")
    )
    graph = _graph([*out, *incoming])
    if (URIRef(iri), None, None) not in graph:
        raise NotFoundError(f"no resource {iri}")
    return graph


def _triples(result: OxQueryResults) -> list[ox.Triple]:
    assert isinstance(result, ox.QueryTriples)  # a CONSTRUCT query
    return list(result)


def _graph(triples: list[ox.Triple]) -> Graph:
    graph = Graph()
    for prefix, ns in PREFIXES.items():
        graph.bind(prefix, ns)
    for t in triples:
        graph.add((from_ox(t.subject), from_ox(t.predicate), from_ox(t.object)))
    return graph


def predicate_labels(store: Store, graph: Graph) -> dict[str, str]:
    """Dutch labels (else any) of the predicates and classes used in `graph`, from the store."""
    terms = {str(p) for p in graph.predicates()} | {str(o) for o in graph.objects(None, RDF.type)}
    if not terms:
        return {}
    values = " ".join(f"<{t}>" for t in sorted(terms))
    rows = store.select(f"""SELECT ?t ?l WHERE {{ VALUES ?t {{ {values} }}
        ?t <{RDFS.label}>|<{SKOS.prefLabel}> ?l }} ORDER BY DESC(lang(?l) = "nl")""")
    labels: dict[str, str] = {}
    for row in rows:
        labels.setdefault(str(row["t"]), str(row["l"]))
    return labels
