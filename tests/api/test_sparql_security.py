"""The SPARQL endpoint under attack, on real servers: no outbound connection in any form, bounded
nesting, XML-safe answers, empty tokens, and a per-client share of the workers."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import pytest

from kg.settings import Settings
from tests.api.conftest import UPDATE_TOKEN, LiveServer, assert_error
from tests.conftest import Listener
from tests.kg.test_sparql_guard import _candidates


@contextmanager
def listening() -> Iterator[Listener]:
    listener = Listener()
    try:
        yield listener
    finally:
        listener.close()


def _forms(port: int) -> list[tuple[str, str]]:
    """Every way we know to ask Oxigraph for a URL, pointed at the listener."""
    url = f"http://127.0.0.1:{port}/sparql"
    known = [
        ("query", f"SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}"),
        ("query", f"SELECT * WHERE {{ ?s ?p ?o . 1SERVICE <{url}> {{ ?s ?p ?o }} }}"),
        ("query", f"SELECT * WHERE {{ ?s ?p ?o . 1.SERVICE <{url}> {{ ?s ?p ?o }} }}"),
        ("query", f"SELECT * WHERE {{ ?s ?p ?o OPTIONAL {{ ?s ?p ?o }}SERVICE<{url}>{{}} }}"),
        ("query", f"PREFIX : <{url}> PREFIX service: <http://x/> "
                  "SELECT * WHERE { service:x { ?s ?p ?o } }"),
        ("query", "SELECT * WHERE { \\u0053ERVICE <" + url + "> { ?s ?p ?o } }"),
        ("query", f"SELECT * WHERE {{ ?s ?p ?o.SERVICE SILENT <{url}> {{ ?s ?p ?o }} }}"),
        ("update", f"LOAD <{url}>"),
        ("update", f"CLEAR SILENT GRAPH <http://x/> ;LOAD<{url}>"),
        ("update", f"PREFIX : <{url}> PREFIX load: <http://x/> load:x"),
        ("update", f"INSERT {{ ?s ?p ?o }} WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}"),
    ]
    generated = [(kind, text.replace("http://127.0.0.1:8080/", f"http://127.0.0.1:{port}/"))
                 for kind, text in _candidates(seed=8, n=300)]
    return known + generated


def test_no_form_of_service_or_load_connects_out(writable: LiveServer) -> None:
    """Queries by GET, form POST and direct POST, and updates with the right token: each is
    refused or fails, and the listener sees no connection at all."""
    with listening() as listener, httpx.Client(base_url=writable.url, timeout=30) as http:
        forms = _forms(listener.port)
        for kind, text in forms:
            if kind == "query":
                responses = [
                    http.get("/sparql", params={"query": text}),
                    http.post("/sparql", data={"query": text}),
                    http.post("/sparql", content=text.encode(),
                              headers={"Content-Type": "application/sparql-query"}),
                ]
            else:
                responses = [http.post("/sparql", data={"update": text},
                                       headers={"Authorization": f"Bearer {UPDATE_TOKEN}"})]
            for response in responses:
                assert response.status_code in (400, 403), (text, response.text)
        time.sleep(0.3)
        assert listener.connections == []
    assert len(forms) > 300


@pytest.mark.parametrize("kind", ["query", "update"])
def test_deep_nesting_is_a_400_and_the_server_lives_on(writable: LiveServer, kind: str) -> None:
    deep = {"query": "SELECT * WHERE " + "{" * 5000 + " ?s ?p ?o " + "}" * 5000,
            "update": "INSERT DATA { " + "[ <http://x/p> " * 5000 + "] " * 5000 + "}"}[kind]
    headers = {"Authorization": f"Bearer {UPDATE_TOKEN}"}
    response = httpx.post(writable.sparql, data={kind: deep}, headers=headers, timeout=30)
    error = assert_error(response, 400, "bad-request")
    assert "levels deep" in error["message"]
    assert len(error["message"]) < 300  # the text is not echoed back
    ask = httpx.get(writable.sparql, params={"query": "ASK { ?s ?p ?o }"}, timeout=30)
    assert ask.json()["boolean"] is True


def test_updates_cannot_plant_control_characters(writable: LiveServer) -> None:
    before = writable.kb.store.generation
    for literal in ('"nul\\u0000"', '"bell \x07"', '"backspace \\b"'):
        update = f"INSERT DATA {{ GRAPH <http://x/g> {{ <http://x/a> <http://x/b> {literal} }} }}"
        response = httpx.post(writable.sparql, data={"update": update},
                              headers={"Authorization": f"Bearer {UPDATE_TOKEN}"}, timeout=30)
        assert "control character" in assert_error(response, 400)["message"]
    assert writable.kb.store.generation == before


def test_xml_answers_are_never_ill_formed(client: httpx.Client) -> None:
    """A query can still compute a string XML cannot carry: XML formats refuse it (406), the
    others carry it."""
    query = 'SELECT ?x WHERE { BIND("a\\u0000b" AS ?x) }'
    xml = client.get("/sparql", params={"query": query},
                     headers={"Accept": "application/sparql-results+xml"})
    assert "U+0000" in assert_error(xml, 406, "not-acceptable")["message"]
    as_json = client.get("/sparql", params={"query": query})
    assert as_json.json()["results"]["bindings"][0]["x"]["value"] == "a\x00b"
    construct = 'CONSTRUCT { <http://x/a> <http://x/b> "\\u0001" } WHERE {}'
    rdfxml = client.get("/sparql", params={"query": construct},
                        headers={"Accept": "application/rdf+xml"})
    assert_error(rdfxml, 406, "not-acceptable")
    ok = client.get("/sparql", params={"query": 'SELECT ?x WHERE { BIND("tab\\tok" AS ?x) }'},
                    headers={"Accept": "application/sparql-results+xml"})
    assert ok.status_code == 200 and "tab\tok" in ok.text


@pytest.mark.parametrize("value", ["", "   "])
def test_an_empty_update_token_means_updates_are_off(value: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WIJKEN_UPDATE_TOKEN", value)
    assert Settings().update_token is None
    assert Settings(update_token=value).update_token is None


def test_a_server_with_an_empty_token_takes_no_update(
        serve: Callable[..., LiveServer], tmp_path_factory: pytest.TempPathFactory) -> None:
    server = serve(tmp_path_factory.mktemp("empty-token"), update_token="")
    assert server.settings.update_token is None
    for header in ("Bearer", "bearer", "Bearer \t"):
        response = httpx.post(server.sparql, data={"update": "CLEAR ALL"},
                              headers={"Authorization": header.strip() or header}, timeout=30)
        assert_error(response, 403, "updates-disabled")
    assert len(server.kb.store) > 3000


def test_one_client_cannot_hold_every_worker(live: LiveServer) -> None:
    """While one client's query runs, its next one is refused at once (429) and another
    client address is still served."""
    from tests.api.test_sparql_limits import EXPLOSIVE

    started = threading.Event()
    outcome: list[int] = []

    def slow() -> None:
        started.set()
        outcome.append(httpx.get(live.sparql, params={"query": EXPLOSIVE}, timeout=30)
                       .status_code)

    thread = threading.Thread(target=slow)
    thread.start()
    started.wait()
    # The slow request holds its slot until its worker is killed at the time limit; poll until
    # the server has registered it (deterministic: no sleep decides the outcome).
    other = httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2"), timeout=30)
    try:
        deadline = time.monotonic() + 30
        second = None
        while time.monotonic() < deadline and thread.is_alive():
            second = httpx.get(live.sparql, params={"query": "ASK {}"}, timeout=30)
            if second.status_code == 429:
                break
        assert second is not None and second.status_code == 429, second and second.text
        assert second.headers["retry-after"] == "1"
        assert_error(second, 429, "too-many-requests")
        served = other.get(live.sparql, params={"query": "ASK { ?s ?p ?o }"})
        assert served.status_code == 200 and served.json()["boolean"] is True
    finally:
        other.close()
        thread.join(60)
    assert outcome == [503]  # the slow one still ends at its time limit
    # Its slot is free again.
    assert httpx.get(live.sparql, params={"query": "ASK {}"}, timeout=30).status_code == 200


def test_linked_data_never_serves_ill_formed_rdf_xml(writable: LiveServer) -> None:
    """Data written before the character rule (here: straight into the store) cannot break the
    RDF/XML of a dereferenced IRI: 406, while Turtle still carries it."""
    iri = "https://w3id.org/100wijken/id/lesson/oud-met-controleteken"
    graph = "https://w3id.org/100wijken/id/graph/oud"
    writable.kb.store.update(
        f'INSERT DATA {{ GRAPH <{graph}> {{ <{iri}> <http://www.w3.org/2000/01/rdf-schema#label>'
        f' "oud\\u0001" }} }}')
    try:
        path = "/id/lesson/oud-met-controleteken"
        rdfxml = httpx.get(writable.url + path, headers={"Accept": "application/rdf+xml"},
                           timeout=30)
        assert "U+0001" in assert_error(rdfxml, 406, "not-acceptable")["message"]
        turtle = httpx.get(writable.url + path, headers={"Accept": "text/turtle"}, timeout=30)
        assert turtle.status_code == 200 and "oud" in turtle.text
    finally:
        writable.kb.store.update(f"DROP GRAPH <{graph}>")
