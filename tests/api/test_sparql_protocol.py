"""The SPARQL 1.1 Protocol on a real server: real clients, real store, real worker processes."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import RDF, RDFS
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import JSON, POST, RDFXML, TURTLE, XML, SPARQLWrapper

from api.app import create_app
from api.sparql.protocol import (
    SPARQL_QUERY,
    SPARQL_UPDATE,
    SparqlRequest,
    negotiate,
    parse_request,
    rdf_format,
    results_format,
)
from api.sparql.service_description import SD, service_description
from kg.errors import UnsupportedMediaTypeError, UserError
from kg.settings import Settings
from kg.sparql.messages import FunctionSpec
from kg.store import Store
from ontology.namespaces import WK, reference_graph, sparql_prefixes
from tests.api.conftest import FIXTURE_GRAPH, LiveServer, assert_error, running

P = sparql_prefixes()
ID = "https://w3id.org/100wijken/id/"
BREAKTHROUGHS_OVERCOMING = (
    P
    + """SELECT ?b ?t WHERE { ?b a wk:Breakthrough ; wk:overcomes ?t .
    ?t dct:subject <https://w3id.org/100wijken/id/concept/thema/renovatie> } ORDER BY ?b"""
)
EXPECTED_PAIRS = [
    (ID + "breakthrough/collectief-renoveren", ID + "threshold/versnipperd-eigendom"),
    (ID + "breakthrough/renovatiebegeleiding", ID + "threshold/voorfinanciering"),
]
# SPARQLWrapper 2.0 and rdflib's own JSON-LD parser still build a deprecated ConjunctiveGraph.
RDFLIB_CONJUNCTIVE_GRAPH = pytest.mark.filterwarnings(
    "ignore:ConjunctiveGraph is deprecated:DeprecationWarning"
)
EXPLOSIVE = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"


def pairs(doc: dict) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    return [(r["b"]["value"], r["t"]["value"]) for r in doc["results"]["bindings"]]


# -- real clients ----------------------------------------------------------------------------


def test_sparqlwrapper_select_json_and_xml(live: LiveServer) -> None:
    client = SPARQLWrapper(live.sparql)
    client.setQuery(BREAKTHROUGHS_OVERCOMING)
    client.setReturnFormat(JSON)
    assert pairs(client.query().convert()) == EXPECTED_PAIRS  # type: ignore[arg-type]
    client.setReturnFormat(XML)
    dom = client.query().convert()
    uris = [n.firstChild.data for n in dom.getElementsByTagName("uri")]  # type: ignore[union-attr]
    assert uris == [u for pair in EXPECTED_PAIRS for u in pair]


def test_sparqlwrapper_post_and_ask(live: LiveServer) -> None:
    client = SPARQLWrapper(live.sparql)
    client.setMethod(POST)
    client.setReturnFormat(JSON)
    client.setQuery(P + f"ASK {{ ?b wk:overcomes <{ID}threshold/hitte> }}")
    assert client.query().convert()["boolean"] is True  # type: ignore[index]
    client.setQuery(P + f"ASK {{ ?b wk:overcomes <{ID}threshold/onbekend> }}")
    assert client.query().convert()["boolean"] is False  # type: ignore[index]


@RDFLIB_CONJUNCTIVE_GRAPH
def test_sparqlwrapper_construct_is_isomorphic_to_the_store(live: LiveServer) -> None:
    query = P + "CONSTRUCT { ?b wk:overcomes ?t } WHERE { ?b wk:overcomes ?t }"
    expected = Graph()
    for row in live.kb.store.select(P + "SELECT ?b ?t WHERE { ?b wk:overcomes ?t }"):
        expected.add((row["b"], WK.overcomes, row["t"]))
    assert len(expected) == 3
    client = SPARQLWrapper(live.sparql)
    client.setQuery(query)
    client.setReturnFormat(RDFXML)
    assert isomorphic(client.query().convert(), expected)  # type: ignore[arg-type]
    client.setReturnFormat(TURTLE)
    turtle = client.query().convert()
    assert isomorphic(Graph().parse(data=turtle, format="turtle"), expected)  # type: ignore[arg-type]


@pytest.mark.parametrize("method", ["GET", "POST_FORM"])
def test_rdflib_sparqlstore(live: LiveServer, method: str) -> None:
    graph = Graph(SPARQLStore(live.sparql, method=method))
    rows = list(graph.query(BREAKTHROUGHS_OVERCOMING))
    assert [(str(r[0]), str(r[1])) for r in rows] == EXPECTED_PAIRS  # type: ignore[index]
    label = graph.value(URIRef(ID + "threshold/hitte"), RDFS.label)
    assert label == Literal("Te weinig groen en schaduw in dichte wijken", lang="nl")


# -- the three operations and their parameters ------------------------------------------------


def test_get_post_form_and_post_direct_agree(client: httpx.Client) -> None:
    get = client.get("/sparql", params={"query": BREAKTHROUGHS_OVERCOMING})
    form = client.post("/sparql", data={"query": BREAKTHROUGHS_OVERCOMING})
    direct = client.post(
        "/sparql",
        content=BREAKTHROUGHS_OVERCOMING.encode(),
        headers={"Content-Type": "application/sparql-query"},
    )
    for response in (get, form, direct):
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/sparql-results+json"
        assert response.headers["x-wijken-truncated"] == "false"
        assert "accept" in response.headers["vary"].lower()
        assert pairs(response.json()) == EXPECTED_PAIRS


@pytest.mark.parametrize(
    ("accept", "media_type", "marker"),
    [
        (None, "application/sparql-results+json", '"bindings"'),
        ("application/sparql-results+xml", "application/sparql-results+xml", "<sparql"),
        ("text/csv", "text/csv", "b,t\r\n"),
        ("text/tab-separated-values", "text/tab-separated-values", "?b\t?t\n"),
        ("text/html;q=0.9, text/csv;q=0.5", "text/csv", "b,t"),
        ("*/*", "application/sparql-results+json", '"bindings"'),
    ],
)
def test_select_result_formats(
    client: httpx.Client, accept: str | None, media_type: str, marker: str
) -> None:
    headers = {"Accept": accept} if accept else {}
    response = client.get("/sparql", params={"query": BREAKTHROUGHS_OVERCOMING}, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == media_type
    assert marker in response.text
    assert "renovatiebegeleiding" in response.text


@RDFLIB_CONJUNCTIVE_GRAPH
@pytest.mark.parametrize(
    ("accept", "rdflib_format"),
    [
        (None, "turtle"),
        ("application/n-triples", "nt"),
        ("application/ld+json", "json-ld"),
        ("application/rdf+xml", "xml"),
    ],
)
def test_construct_formats(client: httpx.Client, accept: str | None, rdflib_format: str) -> None:
    query = P + "CONSTRUCT { ?t rdfs:label ?l } WHERE { ?t a wk:Threshold ; rdfs:label ?l }"
    headers = {"Accept": accept} if accept else {}
    response = client.get("/sparql", params={"query": query}, headers=headers)
    assert response.status_code == 200
    graph = Graph().parse(data=response.content, format=rdflib_format)
    assert (
        URIRef(ID + "threshold/hitte"),
        URIRef("http://www.w3.org/2000/01/rdf-schema#label"),
        Literal("Te weinig groen en schaduw in dichte wijken", lang="nl"),
    ) in graph
    assert len(graph) == 3


def test_named_graphs_and_dataset_parameters(client: httpx.Client) -> None:
    query = P + "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s a wk:Breakthrough } }"
    graphs = client.get("/sparql", params={"query": query}).json()["results"]["bindings"]
    assert [g["g"]["value"] for g in graphs] == [FIXTURE_GRAPH]
    count = P + "SELECT (COUNT(?s) AS ?n) WHERE { ?s a wk:Breakthrough }"

    def n(params: list[tuple[str, str]]) -> int:
        doc = client.get("/sparql", params=[("query", count), *params]).json()
        return int(doc["results"]["bindings"][0]["n"]["value"])

    assert n([]) == 3  # the default graph is the union of all graphs
    assert n([("default-graph-uri", reference_graph("schemes"))]) == 0
    assert (
        n([("default-graph-uri", reference_graph("schemes")), ("default-graph-uri", FIXTURE_GRAPH)])
        == 3
    )
    named = P + "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } } ORDER BY ?g"
    response = client.get(
        "/sparql", params=[("query", named), ("named-graph-uri", reference_graph("ontology"))]
    )
    assert [b["g"]["value"] for b in response.json()["results"]["bindings"]] == [
        reference_graph("ontology")
    ]


@RDFLIB_CONJUNCTIVE_GRAPH
def test_a_browser_without_a_query_is_sent_to_the_editor(client: httpx.Client) -> None:
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    response = client.get("/sparql", headers={"Accept": browser}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].endswith("/editor")
    # with a query, or from a SPARQL client, the protocol answers as usual
    query = client.get("/sparql", params={"query": "ASK {}"}, headers={"Accept": browser})
    assert query.status_code != 303


def test_service_description(client: httpx.Client, live: LiveServer) -> None:
    response = client.get("/sparql")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/turtle")
    sd = Graph().parse(data=response.text, format="turtle")
    service = next(sd.subjects(RDF.type, SD.Service))
    assert (service, SD.endpoint, URIRef(live.sparql)) in sd
    assert (service, SD.supportedLanguage, SD.SPARQL11Query) in sd
    assert (service, SD.supportedLanguage, SD.SPARQL11Update) not in sd
    assert (service, SD.extensionFunction, URIRef(str(WK.similarity))) in sd
    assert (URIRef(str(WK.similarity)), RDFS.label,
            Literal("semantische gelijkenis", lang="nl")) in sd
    formats = {str(f) for f in sd.objects(service, SD.resultFormat)}
    assert "http://www.w3.org/ns/formats/SPARQL_Results_JSON" in formats
    assert "http://www.w3.org/ns/formats/Turtle" in formats
    names = {str(n) for n in sd.objects(None, SD.name)}
    assert names == {
        FIXTURE_GRAPH,
        *(reference_graph(n) for n in ("ontology", "schemes", "thesaurus", "municipalities")),
    }
    jsonld = client.get("/sparql", headers={"Accept": "application/ld+json"})
    assert isomorphic(Graph().parse(data=jsonld.text, format="json-ld"), sd)


def test_the_service_description_lists_the_registered_functions() -> None:
    spec = FunctionSpec("https://example.org/fn#lengte", "example:Fn",
                        label=(("nl", "lengte"),), description="The length of a text.")
    sd = service_description("http://127.0.0.1/sparql", named_graphs=[], updates=True,
                             max_rows=10, timeout=1.0, functions=[spec])
    service = URIRef("http://127.0.0.1/sparql#service")
    fn = URIRef(spec.iri)
    assert set(sd.objects(service, SD.extensionFunction)) == {fn}
    assert (fn, RDF.type, SD.Function) in sd
    assert (fn, RDFS.label, Literal("lengte", lang="nl")) in sd
    assert (fn, RDFS.comment, Literal("The length of a text.", lang="en")) in sd
    assert (service, SD.supportedLanguage, SD.SPARQL11Update) in sd
    without = service_description("http://127.0.0.1/sparql", named_graphs=[], updates=False,
                                  max_rows=10, timeout=1.0)
    assert not set(without.objects(service, SD.extensionFunction))


# -- errors --------------------------------------------------------------------------------


def test_syntax_error_is_400_with_the_parser_message(client: httpx.Client) -> None:
    error = assert_error(
        client.get("/sparql", params={"query": "SELECT ?s WHERE { ?s ?p }"}), 400, "query-syntax"
    )
    assert "error at 1:" in error["message"]


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }",
        "select * where { ?s ?p ?o . service silent <http://example.org/sparql> { ?s ?p ?o } }",
        "SELECT * WHERE { \\u0053ERVICE <http://example.org/sparql> { ?s ?p ?o } }",
    ],
)
def test_service_is_refused(client: httpx.Client, query: str) -> None:
    error = assert_error(client.get("/sparql", params={"query": query}), 400, "query-forbidden")
    assert "SERVICE" in error["message"]


def test_keywords_in_strings_iris_and_comments_are_fine(client: httpx.Client) -> None:
    query = (
        "PREFIX ex: <http://example.org/SERVICE/> # SERVICE and LOAD in a comment\n"
        'SELECT ?service WHERE { BIND("LOAD <http://x> SERVICE" AS ?service) '
        "OPTIONAL { ?s ex:LOAD ?o } } LIMIT 1"
    )
    response = client.get("/sparql", params={"query": query})
    assert response.status_code == 200, response.text
    assert response.json()["results"]["bindings"][0]["service"]["value"].startswith("LOAD")


def test_from_does_not_fetch(client: httpx.Client) -> None:
    query = "SELECT * FROM <http://example.org/remote.ttl> WHERE { ?s ?p ?o }"
    response = client.get("/sparql", params={"query": query})
    assert response.status_code == 200
    assert response.json()["results"]["bindings"] == []


@pytest.mark.parametrize(
    ("query", "accept"),
    [
        ("SELECT * WHERE { ?s ?p ?o } LIMIT 1", "image/png"),
        ("SELECT * WHERE { ?s ?p ?o } LIMIT 1", "text/turtle"),
        ("CONSTRUCT WHERE { ?s ?p ?o } LIMIT 1", "text/csv"),
        ("ASK { ?s ?p ?o }", "application/sparql-results+json;q=0"),
    ],
)
def test_unacceptable_accept_is_406(client: httpx.Client, query: str, accept: str) -> None:
    response = client.get("/sparql", params={"query": query}, headers={"Accept": accept})
    assert_error(response, 406, "not-acceptable")


def test_unsupported_content_type_is_415(client: httpx.Client) -> None:
    response = client.post(
        "/sparql", content=b"SELECT * WHERE { ?s ?p ?o }", headers={"Content-Type": "text/plain"}
    )
    assert_error(response, 415, "unsupported-media-type")


@pytest.mark.parametrize(
    "request_kwargs",
    [
        {"method": "GET", "url": "/sparql?update=CLEAR%20ALL"},
        {"method": "GET", "url": "/sparql?query=ASK%7B%7D&query=ASK%7B%7D"},
        {"method": "POST", "url": "/sparql", "data": {"query": "ASK {}", "update": "CLEAR ALL"}},
        {"method": "POST", "url": "/sparql", "data": {"other": "x"}},
        {"method": "GET", "url": "/sparql?query=ASK%7B%7D&default-graph-uri=not%20an%20iri"},
    ],
)
def test_malformed_protocol_requests_are_400(client: httpx.Client, request_kwargs: dict) -> None:  # type: ignore[type-arg]
    assert_error(client.request(**request_kwargs), 400, "bad-request")


def test_percent_encoded_get(live: LiveServer) -> None:
    url = live.sparql + "?query=" + quote("ASK { ?s a <https://w3id.org/100wijken/ns#Lesson> }")
    assert httpx.get(url).json()["boolean"] is True


def test_similarity_without_an_index_is_409(client: httpx.Client) -> None:
    query = P + 'SELECT ?s (wk:similarity(?s, "water") AS ?x) WHERE { ?s a wk:Lesson }'
    error = assert_error(client.get("/sparql", params={"query": query}), 409, "index-mismatch")
    assert "wijken reindex" in error["message"]


# -- protocol functions ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "offers", "chosen"),
    [
        (None, ("a/x", "b/y"), "a/x"),
        ("", ("a/x", "b/y"), "a/x"),
        ("b/y", ("a/x", "b/y"), "b/y"),
        ("b/*", ("a/x", "b/y"), "b/y"),
        ("*/*;q=0.1, b/y;q=0.5", ("a/x", "b/y"), "b/y"),
        ("a/x;q=0, */*", ("a/x", "b/y"), "b/y"),
        ("a/*;q=0.9, a/x;q=0.2", ("a/x", "a/z"), "a/z"),
        ("c/z", ("a/x", "b/y"), None),
        ("a/x;q=abc", ("a/x",), None),
        ("A/X", ("a/x",), "a/x"),
    ],
)
def test_negotiate(accept: str | None, offers: tuple[str, ...], chosen: str | None) -> None:
    assert negotiate(accept, offers) == chosen


def test_formats_are_canonical_media_types() -> None:
    assert results_format("application/json") == "application/sparql-results+json"
    assert results_format("text/xml") == "application/sparql-results+xml"
    assert rdf_format("application/x-turtle") == "text/turtle"
    assert rdf_format("text/csv") is None
    assert results_format("text/turtle") is None


def test_parse_request() -> None:
    get = parse_request("GET", [("query", "ASK {}"), ("default-graph-uri", "http://ex/a")])
    assert get == SparqlRequest("query", "ASK {}", default_graphs=("http://ex/a",))
    assert parse_request("GET", []).operation == "description"
    form = parse_request(
        "POST",
        [("named-graph-uri", "http://ex/n")],
        content_type="application/x-www-form-urlencoded; charset=UTF-8",
        body=b"update=CLEAR%20ALL",
    )
    assert form == SparqlRequest("update", "CLEAR ALL")
    direct = parse_request(
        "POST",
        [("named-graph-uri", "http://ex/n")],
        content_type=SPARQL_QUERY,
        body='ASK { ?s ?p "é" }'.encode(),
    )
    assert direct == SparqlRequest("query", 'ASK { ?s ?p "é" }', named_graphs=("http://ex/n",))
    with pytest.raises(UnsupportedMediaTypeError):
        parse_request("POST", [], content_type=None, body=b"ASK {}")
    with pytest.raises(UserError, match="not valid"):
        parse_request("POST", [], content_type=SPARQL_QUERY, body=b"\xff")
    with pytest.raises(UserError, match="using-graph-uri"):
        parse_request(
            "POST",
            [("using-graph-uri", "http://ex/g")],
            content_type=SPARQL_UPDATE,
            body=b"CLEAR ALL",
        )


def test_openapi_documents_the_endpoints(client: httpx.Client) -> None:
    spec = client.get("/openapi.json").json()
    assert {"/sparql", "/ns", "/context.jsonld", "/id/{rest}"} <= set(spec["paths"])
    post = spec["paths"]["/sparql"]["post"]["requestBody"]["content"]
    assert {"application/sparql-query", "application/sparql-update"} <= set(post)
    assert client.get("/docs").status_code == 200


def test_app_builds_its_own_knowledge_base_at_startup(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    app = create_app(settings)
    assert not (tmp_path / "data").exists()  # nothing happens before the server starts
    with running(app) as url:
        ask = P + "ASK { wk:Breakthrough a owl:Class }"
        assert httpx.get(url + "/sparql", params={"query": ask}).json()["boolean"] is True
    # The lifespan closed the store: another process (here: this one) may open it again.
    Store(tmp_path / "data").close()
