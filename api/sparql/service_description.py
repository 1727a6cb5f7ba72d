"""The SPARQL 1.1 Service Description of the endpoint (https://www.w3.org/TR/sparql11-service-description/).

Served on a GET of the endpoint without parameters: endpoint, languages, result formats, the
union default graph, every named graph (each ingested file and the reference data) and the
extension functions registered with the worker pool (`wk:similarity`).
"""

from __future__ import annotations

from collections.abc import Sequence

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, RDFS

from api.sparql.protocol import RDF_FORMATS, RESULTS_FORMATS
from kg.sparql.messages import FunctionSpec
from ontology.namespaces import PREFIXES

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")


def service_description(
    endpoint: str, *, named_graphs: Sequence[str], updates: bool, max_rows: int, timeout: float,
    functions: Sequence[FunctionSpec] = (),
) -> Graph:
    """The description as an rdflib graph; `updates` says whether SPARQL Update is enabled,
    `functions` are the extension functions registered with the worker pool."""
    g = Graph()
    g.bind("sd", SD)
    for prefix, iri in PREFIXES.items():
        g.bind(prefix, iri)
    service = URIRef(endpoint + "#service")
    _describe_service(g, service, endpoint, updates=updates, max_rows=max_rows, timeout=timeout)
    for function in functions:
        _describe_function(g, service, function)
    _describe_dataset(g, service, named_graphs)
    return g


def _describe_service(g: Graph, service: URIRef, endpoint: str, *, updates: bool, max_rows: int,
                      timeout: float) -> None:
    """Endpoint, languages, features, result formats and the limits."""
    g.add((service, RDF.type, SD.Service))
    g.add((service, SD.endpoint, URIRef(endpoint)))
    g.add((service, SD.supportedLanguage, SD.SPARQL11Query))
    if updates:
        g.add((service, SD.supportedLanguage, SD.SPARQL11Update))
    g.add((service, SD.feature, SD.UnionDefaultGraph))
    for fmt in (*RESULTS_FORMATS, *RDF_FORMATS):
        g.add((service, SD.resultFormat, URIRef(fmt.iri)))
    g.add((service, RDFS.comment, Literal(
        f"Read-only unless updates are enabled with a token. SERVICE and LOAD are "
        f"refused. Time limit {timeout:g} s per query; at most {max_rows} rows or "
        f"triples, more are cut off and flagged with the X-Wijken-Truncated header.",
        lang="en")))


def _describe_function(g: Graph, service: URIRef, function: FunctionSpec) -> None:
    """One registered extension function: its IRI, names and what it answers."""
    iri = URIRef(function.iri)
    g.add((service, SD.extensionFunction, iri))
    g.add((iri, RDF.type, SD.Function))
    for lang, label in function.label:
        g.add((iri, RDFS.label, Literal(label, lang=lang)))
    if function.description:
        g.add((iri, RDFS.comment, Literal(function.description, lang="en")))


def _describe_dataset(g: Graph, service: URIRef, named_graphs: Sequence[str]) -> None:
    """The union default graph and every named graph."""
    dataset = BNode()
    default_graph = BNode()
    g.add((service, SD.defaultDataset, dataset))
    g.add((dataset, RDF.type, SD.Dataset))
    g.add((dataset, SD.defaultGraph, default_graph))
    g.add((default_graph, RDF.type, SD.Graph))
    g.add((default_graph, RDFS.comment, Literal("The union of all named graphs.", lang="en")))
    available = BNode()
    g.add((service, SD.availableGraphs, available))
    g.add((available, RDF.type, SD.GraphCollection))
    for iri in named_graphs:
        node = BNode()
        g.add((node, RDF.type, SD.NamedGraph))
        g.add((node, SD.name, URIRef(iri)))
        g.add((dataset, SD.namedGraph, node))
        g.add((available, SD.namedGraph, node))
