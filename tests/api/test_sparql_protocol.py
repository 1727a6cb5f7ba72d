"""The SPARQL 1.1 Protocol on a real server: real clients, real store, real worker processes."""

from __future__ import annotations

import statistics
import time
from urllib.parse import quote

import httpx
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import RDF, RDFS
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import JSON, POST, RDFXML, TURTLE, XML, SPARQLWrapper

from api.service_description import SD
from kg.namespaces import WK, reference_graph, sparql_prefixes
from tests.api.conftest import FAST_TIMEOUT, FIXTURE_GRAPH, ROW_CAP, UPDATE_TOKEN, LiveServer

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


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> dict:  # type: ignore[type-arg]
    """The one JSON error shape, with the HTTP status repeated in the body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"status", "code", "message", "detail"}
    assert error["status"] == status
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    if code is not None:
        assert error["code"] == code
    return error  # type: ignore[no-any-return]


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
    formats = {str(f) for f in sd.objects(service, SD.resultFormat)}
    assert "http://www.w3.org/ns/formats/SPARQL_Results_JSON" in formats
    assert "http://www.w3.org/ns/formats/Turtle" in formats
    names = {str(n) for n in sd.objects(None, SD.name)}
    assert names == {
        FIXTURE_GRAPH,
        *(reference_graph(n) for n in ("ontology", "schemes", "municipalities")),
    }
    jsonld = client.get("/sparql", headers={"Accept": "application/ld+json"})
    assert isomorphic(Graph().parse(data=jsonld.text, format="json-ld"), sd)


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


def test_time_limit_stops_the_query(client: httpx.Client) -> None:
    started = time.monotonic()
    response = client.get("/sparql", params={"query": EXPLOSIVE})
    elapsed = time.monotonic() - started
    error = assert_error(response, 503, "query-timeout")
    assert f"{FAST_TIMEOUT:g} s" in error["message"]
    assert FAST_TIMEOUT <= elapsed < FAST_TIMEOUT + 1.5
    # The killed worker is replaced: the endpoint keeps answering.
    for _ in range(3):
        assert client.get("/sparql", params={"query": "ASK { ?s ?p ?o }"}).json()["boolean"]


def test_row_cap_truncates_and_says_so(client: httpx.Client) -> None:
    query = "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"
    response = client.get("/sparql", params={"query": query})
    assert response.headers["x-wijken-truncated"] == "true"
    assert len(response.json()["results"]["bindings"]) == ROW_CAP
    csv = client.get("/sparql", params={"query": query}, headers={"Accept": "text/csv"})
    assert csv.headers["x-wijken-truncated"] == "true"
    assert len(csv.text.strip().split("\r\n")) == ROW_CAP + 1
    triples = client.get(
        "/sparql",
        params={"query": "CONSTRUCT WHERE { ?s ?p ?o }"},
        headers={"Accept": "application/n-triples"},
    )
    assert triples.headers["x-wijken-truncated"] == "true"
    assert len(Graph().parse(data=triples.text, format="nt")) == ROW_CAP
    small = client.get("/sparql", params={"query": query + " LIMIT 5"})
    assert small.headers["x-wijken-truncated"] == "false"


def test_request_body_limit_is_413(client: httpx.Client, live: LiveServer) -> None:
    padding = "#" * (live.settings.max_request_bytes + 10)
    response = client.post(
        "/sparql",
        content=f"ASK {{}} {padding}".encode(),
        headers={"Content-Type": "application/sparql-query"},
    )
    assert_error(response, 413, "payload-too-large")


def test_error_shape_everywhere(client: httpx.Client) -> None:
    assert_error(client.get("/geen-pagina"), 404, "not-found")
    assert_error(client.put("/sparql", content=b"x"), 405, "method-not-allowed")
    assert_error(client.get("/id/lesson/bestaat-niet"), 404, "not-found")
    assert_error(client.post("/sparql", data={"update": "CLEAR ALL"}), 403, "updates-disabled")


def test_trivial_query_round_trip_is_fast(client: httpx.Client) -> None:
    timings = []
    for _ in range(30):
        started = time.perf_counter()
        response = client.get("/sparql", params={"query": "ASK { ?s ?p ?o }"})
        timings.append(time.perf_counter() - started)
        assert response.status_code == 200
    median = statistics.median(timings)
    print(
        f"\ntrivial ASK over HTTP: median {median * 1000:.1f} ms, max {max(timings) * 1000:.1f} ms"
    )
    assert median < 0.1


# -- updates -------------------------------------------------------------------------------


def _update(server: LiveServer, text: str, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return httpx.post(server.sparql, data={"update": text}, headers=headers, timeout=30)


def test_updates_are_refused_without_a_configured_token(live: LiveServer) -> None:
    assert_error(_update(live, "CLEAR ALL", UPDATE_TOKEN), 403, "updates-disabled")
    assert len(live.kb.store) > 3000


def test_update_needs_the_right_bearer_token(writable: LiveServer) -> None:
    insert = (
        f'INSERT DATA {{ GRAPH <{FIXTURE_GRAPH}> {{ <{ID}lesson/nieuw> <{WK.pioneer}> "ja" }} }}'
    )
    for token in (None, "fout"):
        response = _update(writable, insert, token)
        assert_error(response, 401, "unauthorized")
        assert response.headers["www-authenticate"].startswith("Bearer")
    ask = {"query": f"ASK {{ <{ID}lesson/nieuw> ?p ?o }}"}
    assert httpx.get(writable.sparql, params=ask).json()["boolean"] is False
    before = writable.kb.store.generation
    response = _update(writable, insert, UPDATE_TOKEN)
    assert response.status_code == 200, response.text
    assert response.json()["generation"] == before + 1
    # The workers reopen their snapshot when the generation changes.
    for _ in range(3):
        assert httpx.get(writable.sparql, params=ask).json()["boolean"] is True
    direct = httpx.post(
        writable.sparql,
        content=f"DELETE WHERE {{ GRAPH ?g {{ <{ID}lesson/nieuw> ?p ?o }} }}".encode(),
        headers={
            "Content-Type": "application/sparql-update",
            "Authorization": f"Bearer {UPDATE_TOKEN}",
        },
    )
    assert direct.status_code == 200
    assert httpx.get(writable.sparql, params=ask).json()["boolean"] is False


@pytest.mark.parametrize(
    "update",
    [
        "LOAD <http://example.org/data.ttl>",
        "load silent <http://example.org/data.ttl> INTO GRAPH <http://example.org/g>",
        "INSERT { ?s ?p ?o } WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }",
    ],
)
def test_fetching_updates_are_refused_even_with_the_token(
    writable: LiveServer, update: str
) -> None:
    assert_error(_update(writable, update, UPDATE_TOKEN), 400, "query-forbidden")


def test_update_syntax_error_is_400(writable: LiveServer) -> None:
    assert_error(_update(writable, "INSERT DATA { <a> }", UPDATE_TOKEN), 400, "query-syntax")


def test_service_description_lists_update_when_enabled(writable: LiveServer) -> None:
    sd = Graph().parse(data=httpx.get(writable.sparql).text, format="turtle")
    assert (None, SD.supportedLanguage, SD.SPARQL11Update) in sd


def test_percent_encoded_get(live: LiveServer) -> None:
    url = live.sparql + "?query=" + quote("ASK { ?s a <https://w3id.org/100wijken/ns#Lesson> }")
    assert httpx.get(url).json()["boolean"] is True
