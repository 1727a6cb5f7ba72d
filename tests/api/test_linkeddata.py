"""Linked-data dereferencing on a real server: every minted IRI answers, in every format."""

from __future__ import annotations

import re

import httpx
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCTERMS, RDF, RDFS, SKOS, XSD

import ontology
from api.iri_paths import IriPaths
from api.routes.linkeddata import CONTEXT
from ontology.namespaces import ONTOLOGY_IRI, ROOT, WK, reference_graph
from tests.api.conftest import FIXTURE_GRAPH, LiveServer, assert_error

ID = "https://w3id.org/100wijken/id/"
ITEM = ID + "breakthrough/renovatiebegeleiding"
ITEM_PATH = "/id/breakthrough/renovatiebegeleiding"
# rdflib's JSON-LD parser still builds a deprecated ConjunctiveGraph.
RDFLIB_CONJUNCTIVE_GRAPH = pytest.mark.filterwarnings(
    "ignore:ConjunctiveGraph is deprecated:DeprecationWarning"
)


def turtle(client: httpx.Client, path: str) -> Graph:
    response = client.get(path, headers={"Accept": "text/turtle"})
    assert response.status_code == 200, response.text
    return Graph().parse(data=response.text, format="turtle")


@pytest.mark.parametrize("accept", [None, "*/*", "text/turtle", "text/*;q=0.5, image/png"])
def test_turtle_is_the_default(client: httpx.Client, accept: str | None) -> None:
    headers = {"Accept": accept} if accept else {}
    response = client.get(ITEM_PATH, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/turtle")
    assert response.headers["vary"] == "Accept"


def test_description_has_own_triples_labels_and_incoming_links(
    client: httpx.Client, live: LiveServer
) -> None:
    graph = turtle(client, ITEM_PATH)
    item = URIRef(ITEM)
    own = Graph()
    for row in live.kb.store.select(f"SELECT ?p ?o WHERE {{ <{ITEM}> ?p ?o }}"):
        value = row["o"]
        if isinstance(value, Literal) and value.datatype == XSD.string:
            value = Literal(str(value))  # RDF 1.1: the same term; rdflib tells them apart
        own.add((item, row["p"], value))
    assert len(own) == 11
    described = Graph()
    for p, o in graph.predicate_objects(item):
        described.add((item, p, o))
    assert isomorphic(described, own)
    threshold = URIRef(ID + "threshold/voorfinanciering")
    assert (
        threshold,
        RDFS.label,
        Literal("Voorfinanciering van renovaties ontbreekt", lang="nl"),
    ) in graph
    kortrijk = URIRef("https://data.vlaanderen.be/id/gemeente/34022")
    assert (kortrijk, RDFS.label, Literal("Kortrijk", lang="nl")) in graph
    lesson = URIRef(ID + "lesson/vertrouwen")
    assert (lesson, WK.related, item) in graph
    assert (lesson, RDFS.label, Literal("Vertrouwen opbouwen kost tijd", lang="nl")) in graph
    # Linked resources are labelled, not described in full.
    assert (threshold, DCTERMS.description, None) not in graph


@RDFLIB_CONJUNCTIVE_GRAPH
def test_all_rdf_formats_carry_the_same_graph(client: httpx.Client, live: LiveServer) -> None:
    expected = turtle(client, ITEM_PATH)
    nt = client.get(ITEM_PATH, headers={"Accept": "application/n-triples"})
    assert nt.headers["content-type"].startswith("application/n-triples")
    assert isomorphic(Graph().parse(data=nt.text, format="nt"), expected)
    xml = client.get(ITEM_PATH, params={"format": "rdf"})
    assert isomorphic(Graph().parse(data=xml.text, format="xml"), expected)
    jsonld = client.get(ITEM_PATH, headers={"Accept": "application/ld+json"})
    assert jsonld.headers["content-type"].startswith("application/ld+json")
    doc = jsonld.json()
    assert doc["@context"] == live.url + "/context.jsonld"
    # rdflib fetches the published context from the server to read the document.
    parsed = Graph().parse(data=jsonld.text, format="json-ld", base=live.url)
    assert isomorphic(parsed, expected)
    main = next(node for node in doc["@graph"] if node["@id"] == ITEM)
    assert main["label"] == "Ontzorgende renovatiebegeleiding met voorfinanciering"
    assert main["overcomes"] == ID + "threshold/voorfinanciering"


def test_published_context(client: httpx.Client) -> None:
    response = client.get("/context.jsonld")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/ld+json")
    context = response.json()["@context"]
    assert context == CONTEXT["@context"]
    assert context["wk"] == str(WK)
    assert context["overcomes"] == {"@id": "wk:overcomes", "@type": "@id"}


def test_html_page_is_dutch_with_labels_and_local_links(client: httpx.Client) -> None:
    response = client.get(
        ITEM_PATH, headers={"Accept": "text/html,application/xml;q=0.9,*/*;q=0.8"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    page = response.text
    assert '<html lang="nl">' in page
    assert "<h1>Ontzorgende renovatiebegeleiding met voorfinanciering</h1>" in page
    assert "overwint drempel" in page  # the Dutch label of wk:overcomes
    assert '<a href="/id/threshold/voorfinanciering">Voorfinanciering van renovaties' in page
    assert '<a href="https://data.vlaanderen.be/id/gemeente/34022">Kortrijk</a>' in page
    assert "Verwijzingen naar dit item" in page
    assert '<a href="/id/lesson/vertrouwen">Vertrouwen opbouwen kost tijd</a>' in page
    # the graph view's scripts ship with the package: nothing from another host (no CDN)
    sources = re.findall(r'<script[^>]*\ssrc="([^"]+)"', page)
    assert all(src.startswith("/static/") for src in sources), sources


def test_html_escapes_text(client: httpx.Client) -> None:
    page = client.get("/id/measure/renteloze-lening", params={"format": "html"}).text
    assert "<h1>Renteloze renovatielening</h1>" in page
    assert page.count("<h1>") == 1


def test_unknown_resources_and_formats(client: httpx.Client) -> None:
    for path in ("/id/lesson/bestaat-niet", "/id/concept/thema/bestaat-niet", "/graph/onbekend"):
        response = client.get(path, headers={"Accept": "text/html"})
        assert_error(response, 404, "not-found")
        assert response.headers["vary"] == "Accept"
    assert_error(client.get(ITEM_PATH, headers={"Accept": "image/png"}), 406, "not-acceptable")
    assert_error(client.get(ITEM_PATH, params={"format": "pdf"}), 400, "bad-request")


@RDFLIB_CONJUNCTIVE_GRAPH
def test_ontology_document(client: httpx.Client) -> None:
    expected = ontology.load_ontology()
    assert isomorphic(turtle(client, "/ns"), expected)
    jsonld = client.get("/ns", headers={"Accept": "application/ld+json"})
    context = {"@context": CONTEXT["@context"]}
    doc = jsonld.json()
    doc["@context"] = context["@context"]
    import json

    assert isomorphic(Graph().parse(data=json.dumps(doc), format="json-ld"), expected)
    page = client.get("/ns", headers={"Accept": "text/html"}).text
    assert "<h1>Ontologie van het 100 WIJKEN PLATFORM</h1>" in page
    assert '<h2 id="Breakthrough">doorbraak <code>wk:Breakthrough</code></h2>' in page
    assert '<h2 id="overcomes">' in page


def test_concepts_schemes_provinces_and_graphs(client: httpx.Client) -> None:
    concept = URIRef(ID + "concept/thema/renovatie")
    graph = turtle(client, "/id/concept/thema/renovatie")
    assert (concept, RDF.type, SKOS.Concept) in graph
    assert (concept, SKOS.prefLabel, Literal("renovatie", lang="nl")) in graph
    assert (URIRef(ITEM), DCTERMS.subject, concept) in graph  # incoming links
    scheme = URIRef(ID + "conceptscheme/thema")
    assert (scheme, RDF.type, SKOS.ConceptScheme) in turtle(client, "/id/conceptscheme/thema")
    province = turtle(client, "/id/provincie/30000")
    assert (
        URIRef(ID + "provincie/30000"),
        RDFS.label,
        Literal("Provincie West-Vlaanderen", lang="nl"),
    ) in province
    source = turtle(client, "/id/graph/fixture-wijken")
    assert (URIRef(FIXTURE_GRAPH), RDF.type, WK.SourceGraph) in source
    reference = turtle(client, "/graph/ontology")
    assert (URIRef(reference_graph("ontology")), WK.contentHash, None) in reference


def test_every_minted_iri_dereferences(client: httpx.Client, live: LiveServer) -> None:
    rows = live.kb.store.select(
        f"""SELECT DISTINCT ?s WHERE {{ ?s ?p ?o
            FILTER (isIRI(?s) && STRSTARTS(STR(?s), "{ROOT}") && !CONTAINS(STR(?s), "#")) }}"""
    )
    iris = sorted(str(r["s"]) for r in rows)
    assert len(iris) > 60
    paths = IriPaths(live.settings.base_iri)
    for iri in iris:
        path = paths.path_for(iri)
        assert path is not None
        response = client.get(path)
        assert response.status_code == 200, (iri, response.text)
        assert URIRef(iri) in {
            s for s in Graph().parse(data=response.text, format="turtle").subjects()
        }
    assert ONTOLOGY_IRI in iris


def test_iri_paths() -> None:
    default = IriPaths("https://w3id.org/100wijken/id/")
    assert default.path_for(ITEM) == ITEM_PATH
    assert default.path_for(ONTOLOGY_IRI + "#Lesson") == "/ns#Lesson"
    assert default.path_for("https://data.vlaanderen.be/id/gemeente/34022") is None
    assert default.iri_for(ITEM_PATH) == ITEM
    custom = IriPaths("https://example.org/data/")
    assert custom.path_for("https://example.org/data/lesson/x") == "/data/lesson/x"
    assert custom.iri_for("/data/lesson/x") == "https://example.org/data/lesson/x"
    assert custom.path_for(ID + "concept/thema/water") == "/id/concept/thema/water"


@pytest.mark.parametrize(
    "path",
    [
        "/id/lesson/x%3E%20%3Fp%20%3Fo%20%7D%20%23",
        "/id/lesson/a%20b",
        "/id/lesson/%22quoted%22",
        "/id/lesson/%7Bbrace",
    ],
)
def test_paths_that_are_no_iri_are_404_not_injected(client: httpx.Client, path: str) -> None:
    assert_error(client.get(path), 404, "not-found")


def test_head_answers_like_get_without_a_body(client: httpx.Client) -> None:
    for path in (ITEM_PATH, "/ns"):
        head = client.head(path, headers={"Accept": "application/n-triples"})
        assert head.status_code == 200
        assert head.headers["content-type"].startswith("application/n-triples")
        assert head.content == b""
    assert client.head("/id/lesson/bestaat-niet").status_code == 404
