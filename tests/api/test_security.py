"""Security and crash safety of the HTTP side, on real servers: the link policy of every page
that shows an IRI, security headers on every kind of response, absolute URLs from the public
URL and never from `Host`, bounded error bodies, the HTML 404 for browsers and the JSON depth
limit."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from rdflib import Graph, URIRef

from api.error_handlers import MAX_INPUT_ECHO, install_error_handlers
from api.middleware import MAX_JSON_DEPTH, JsonDepthScanner
from api.security import SECURITY_HEADERS, safe_href
from api.sparql.service_description import SD
from kg.settings import Settings
from tests.api.conftest import FIXTURE_GRAPH, UPDATE_TOKEN, LiveServer, assert_error

ID = "https://w3id.org/100wijken/id/"
ITEM_PATH = "/id/breakthrough/renovatiebegeleiding"
HOSTILE_GRAPH = ID + "graph/kwaadaardig"
# IRIs a harvest or an update may carry; none may become a link.
HOSTILE_IRIS = (
    "javascript:alert(1)",
    "JaVaScRiPt:alert(document.domain)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
)
MARKDOWN = ("Zie [hier](javascript:alert(1)), <javascript:alert(2)> en ![x](javascript:alert(3));"
            " wel [de gemeente](https://www.example.org/) en [een les](/id/lesson/vertrouwen).")
HOSTILE_TTL = f"""
@prefix wk: <https://w3id.org/100wijken/ns#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix dct: <http://purl.org/dc/terms/> .

<{ID}lesson/kwaadaardig> a wk:Lesson ;
    dct:identifier "kwaadaardig" ;
    rdfs:label "Les met kwaadaardige links"@nl ;
    dct:description "{MARKDOWN}"@nl ;
    rdfs:seeAlso {", ".join(f"<{iri}>" for iri in HOSTILE_IRIS)},
        <https://w3id.org/100wijken//evil.example/x>, <https://www.example.org/ok> ;
    <https://schema.org/url> <javascript:alert(4)> ;
    wk:related <javascript:alert(5)>, <{ID}breakthrough/renovatiebegeleiding> ;
    dct:subject <{ID}concept/thema/renovatie> .
"""
PLANTED = f"""PREFIX wk: <https://w3id.org/100wijken/ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX dct: <http://purl.org/dc/terms/>
INSERT DATA {{ GRAPH <{FIXTURE_GRAPH}> {{
  <{ID}breakthrough/renovatiebegeleiding> rdfs:seeAlso <javascript:alert(6)> ;
      wk:related <javascript:alert(7)> .
  <javascript:alert(8)> wk:related <{ID}breakthrough/renovatiebegeleiding> ;
      dct:subject <{ID}concept/thema/renovatie> .
}} }}"""
HOSTILE_PAGES = ("/id/lesson/kwaadaardig", ITEM_PATH, "/id/concept/thema/renovatie")
PAGES = (*HOSTILE_PAGES, "/id/graph/fixture-wijken")


class Urls(HTMLParser):
    """Every URL-valued attribute of a page, and the JSON data blocks."""

    URL_ATTRIBUTES = frozenset({"href", "src", "action", "formaction", "xlink:href"})

    def __init__(self, html: str) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.data_blocks: list[str] = []
        self._in_data = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [v or "" for k, v in attrs if k in self.URL_ATTRIBUTES]
        self._in_data = tag == "script" and ("type", "application/json") in attrs

    def handle_data(self, data: str) -> None:
        if self._in_data:
            self.data_blocks.append(data)

    def handle_endtag(self, tag: str) -> None:
        self._in_data = False


def assert_linkable(url: str, where: str) -> None:
    """What a browser may follow from our pages: http(s), or a path of this site."""
    assert safe_href(url) == url, (url, where)
    assert re.match(r"https?://|/(?![/\\])|[?#]|$", url), (url, where)


@pytest.fixture(scope="module")
def hostile(serve: Callable[..., LiveServer], tmp_path_factory: pytest.TempPathFactory
            ) -> LiveServer:
    """A server whose graph holds hostile IRIs: from a harvested Turtle file, and planted by a
    SPARQL update over HTTP."""
    server: LiveServer = serve(tmp_path_factory.mktemp("hostile"), update_token=UPDATE_TOKEN)
    records = Graph().parse(data=HOSTILE_TTL, format="turtle")
    server.kb.store.replace_graphs({HOSTILE_GRAPH: records})
    response = httpx.post(server.sparql, data={"update": PLANTED}, timeout=30,
                          headers={"Authorization": f"Bearer {UPDATE_TOKEN}"})
    assert response.status_code == 200, response.text
    return server


@pytest.mark.parametrize("path", PAGES)
def test_pages_link_only_http_and_own_paths(hostile: LiveServer, path: str) -> None:
    response = httpx.get(hostile.url + path, headers={"Accept": "text/html"}, timeout=60)
    assert response.status_code == 200, response.text
    page = Urls(response.text)
    assert page.urls
    for url in page.urls:
        assert_linkable(url, path)
    for block in page.data_blocks:  # the graph view navigates to its nodes' `href`
        for element in json.loads(block).get("elements", []):
            href = element["data"].get("href")
            assert href is None or safe_href(href) == href, (href, path)
    if path in HOSTILE_PAGES:  # the refused IRIs are still shown, as text
        assert 'class="unlinked" title="javascript:alert(' in response.text


def test_hostile_iris_are_shown_as_text(hostile: LiveServer) -> None:
    html = httpx.get(hostile.url + "/id/lesson/kwaadaardig", params={"format": "html"},
                     timeout=60).text
    for iri in HOSTILE_IRIS:
        assert f">{iri}</span>" in html or f'title="{iri}"' in html, iri
    assert 'href="https://www.example.org/ok"' in html  # http(s) stays a link
    # The network-path form of a minted IRI is not used; its https IRI is.
    assert 'href="//' not in html
    assert 'href="https://w3id.org/100wijken//evil.example/x"' in html
    # Markdown links follow the same policy; http(s) and site paths stay links.
    assert "[hier](javascript:alert(1))" in html
    assert '<a href="https://www.example.org/">de gemeente</a>' in html
    assert '<a href="/id/lesson/vertrouwen">een les</a>' in html
    assert "<img" not in html


@pytest.mark.parametrize("iri", [
    "javascript:alert(1)", "JAVASCRIPT:alert(1)", " javascript:alert(1)", "java\tscript:x",
    "java\nscript:x", "javascript\x00:x", "\x01javascript:x", "data:text/html,x",
    "vbscript:x", "file:///etc/passwd", "mailto:a@b.c", "//evil.example/", "/\\evil.example/",
    "\\\\evil.example", "https:evil.example", "https:///evil", "http://[::1", "", None, 42,
    "https://a.example/ b",
])
def test_safe_href_refuses(iri: Any) -> None:
    assert safe_href(iri) is None


@pytest.mark.parametrize("url", [
    "https://w3id.org/100wijken/id/lesson/x", "HTTP://EXAMPLE.ORG", "http://a.example:8080/p?q#f",
    "/id/lesson/x", "/?q=warmtenet&type=lesson", "?format=ttl", "#inhoud", "lesson/x",
    "/id/lesson/javascript:x",
])
def test_safe_href_keeps(url: str) -> None:
    assert safe_href(url) == url


@pytest.mark.parametrize(("path", "headers", "kind"), [
    ("/", {"Accept": "text/html"}, "page"),
    (ITEM_PATH, {"Accept": "text/html"}, "page"),
    (ITEM_PATH, {}, "linked data"),
    ("/docs", {}, "page"),
    ("/openapi.json", {}, "api"),
    ("/api/health", {}, "api"),
    ("/api/items/bestaat-niet", {}, "error"),
    ("/bestaat-niet", {"Accept": "text/html"}, "error page"),
    ("/static/wijken.css", {}, "static"),
    ("/static/vendor/swagger-ui-bundle.js", {}, "static"),
    ("/sparql?query=ASK%20%7B%7D", {}, "sparql"),
    ("/sparql", {"Accept": "text/turtle"}, "sparql"),
])
def test_security_headers_on_every_response(client: httpx.Client, path: str,
                                            headers: dict[str, str], kind: str) -> None:
    response = client.get(path, headers=headers)
    # 409: the fixture store has no search index, which the search page reports
    assert response.status_code in (200, 404, 409), (kind, response.status_code)
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (kind, name)


def test_security_headers_on_refusals(client: httpx.Client, live: LiveServer) -> None:
    too_large = client.post("/api/search/batch", content=b"x" * (live.settings.max_request_bytes
                                                               + 1),
                            headers={"content-type": "application/json"})
    responses = [
        too_large,
        client.delete("/api/search"),
        client.get("/api/graph", params={"id": "x", "depth": 9}),
        client.post("/sparql", data={"update": "CLEAR ALL"}),
        client.head(ITEM_PATH),
    ]
    assert [r.status_code for r in responses] == [413, 405, 422, 403, 200]
    for response in responses:
        for name, value in SECURITY_HEADERS.items():
            assert response.headers.get(name) == value, (response.status_code, name)


def test_content_security_policy_has_no_inline_script() -> None:
    directives = dict(d.strip().split(" ", 1)
                      for d in SECURITY_HEADERS["Content-Security-Policy"].split(";"))
    assert directives["script-src"] == "'self'"
    assert "unsafe" not in SECURITY_HEADERS["Content-Security-Policy"]
    assert directives["object-src"] == "'none'"
    assert directives["base-uri"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["form-action"] == "'self'"
    assert directives["style-src"].startswith("'self'")
    assert directives["default-src"] == "'self'"


def test_a_500_carries_the_security_headers() -> None:
    # A 500 is sent by the outermost error middleware, outside the headers middleware.
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internal detail")

    with TestClient(app, raise_server_exceptions=False) as test_client:
        response = test_client.get("/boom")
    assert response.status_code == 500
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value


HOSTILE_HOSTS = ("evil.example", "evil.example:666", "127.0.0.1:1@evil.example", "[::1]:9")


@pytest.mark.parametrize("host", HOSTILE_HOSTS)
def test_absolute_urls_come_from_the_public_url_not_host(live: LiveServer, host: str) -> None:
    headers = {"Host": host, "X-Forwarded-Host": "evil.example",
               "X-Forwarded-Proto": "javascript"}
    with httpx.Client(base_url=live.url, timeout=30, headers=headers) as hostile_client:
        description = hostile_client.get("/sparql", headers={"Accept": "text/turtle"})
        jsonld = hostile_client.get(ITEM_PATH, headers={"Accept": "application/ld+json"})
        redirect = hostile_client.get("/overzicht/", follow_redirects=False)
    graph = Graph().parse(data=description.text, format="turtle")
    endpoints = set(graph.objects(None, SD.endpoint))
    assert endpoints == {URIRef(live.sparql)}
    assert jsonld.json()["@context"] == live.url + "/context.jsonld"
    assert redirect.status_code == 307
    assert redirect.headers["location"] == live.url + "/overzicht"
    for response in (description, jsonld, redirect):
        assert "evil" not in response.text and "evil" not in str(response.headers)


def test_public_url_setting(tmp_path: Path) -> None:
    assert Settings(data_dir=tmp_path).public_origin == "http://127.0.0.1:8000"
    assert Settings(data_dir=tmp_path, host="::1", port=9).public_origin == "http://[::1]:9"
    assert Settings(data_dir=tmp_path, public_url="https://kennis.example.org/").public_origin \
        == "https://kennis.example.org"
    for bad in ("javascript:alert(1)", "https://a.example/pad", "https://u@a.example",
                "ftp://a.example", "https://a.example:99999"):
        with pytest.raises(ValueError):
            Settings(data_dir=tmp_path, public_url=bad)


def test_validation_errors_echo_only_a_prefix(client: httpx.Client) -> None:
    long_value = "x" * 100_000
    response = client.post("/api/search/batch", json={"queries": [{"query": long_value}]})
    error = assert_error(response, 422, "invalid-request")
    assert len(response.content) < 2_000
    assert error["detail"][0]["loc"] == ["body", "queries", 0, "query"]
    assert error["detail"][0]["input"] == long_value[: MAX_INPUT_ECHO - 1] + "…"
    # A hostile field name is user input too; so is a huge number of bad fields.
    response = client.post("/api/search/batch", json={"queries": [
        {"query": "a", long_value: 1, **{f"veld{n}": n for n in range(5_000)}}]})
    error = assert_error(response, 422, "invalid-request")
    assert len(response.content) < 20_000
    assert "5001 problems" in error["message"]
    # A 100 kB query parameter (longer than uvicorn accepts on the wire), in the app itself.
    response = client.get("/api/graph", params={"id": "renovatiebegeleiding",
                                                "depth": "9" * 15_000})
    assert_error(response, 422, "invalid-request")
    assert len(response.content) < 2_000


def test_validation_errors_in_process_with_a_60k_parameter() -> None:
    # In process, where no HTTP server limits the request line (httpx allows 64 kB URLs).
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/number")
    def number(n: int) -> int:
        return n

    with TestClient(app) as test_client:
        response = test_client.get("/number", params={"n": "7" * 60_000 + "x"})
    assert response.status_code == 422
    assert len(response.content) < 2_000
    assert response.json()["error"]["detail"][0]["input"].startswith("777")


def test_messages_are_bounded(client: httpx.Client) -> None:
    response = client.get("/api/items/renovatiebegeleiding/related",
                          params={"type": "y" * 12_000})
    error = assert_error(response, 400, "bad-request")
    assert len(error["message"]) <= 1_000


BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.mark.parametrize("path", ["/bestaat-niet", "/api/bestaat-niet", "/static/geen.css"])
def test_browsers_get_a_dutch_404_page(client: httpx.Client, path: str) -> None:
    for accept in ("text/html", BROWSER_ACCEPT):
        response = client.get(path, headers={"Accept": accept})
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("text/html")
        assert '<html lang="nl">' in response.text
        assert "Pagina niet gevonden" in response.text
        assert path not in response.text  # nothing of the request is echoed
    for accept in (None, "*/*", "application/json", "text/html;q=0.5, application/json"):
        headers = {"Accept": accept} if accept else {}
        assert_error(client.get(path, headers=headers), 404, "not-found")


def test_unknown_iris_keep_the_json_404(client: httpx.Client) -> None:
    assert_error(client.get("/id/lesson/bestaat-niet", headers={"Accept": BROWSER_ACCEPT}),
                 404, "not-found")


def _deep(depth: int, open_: str = "[", close: str = "]") -> bytes:
    return (open_ * depth + close * depth).encode()


@pytest.mark.parametrize("body", [
    _deep(10_000),
    ('{"a":' * 10_000 + "1" + "}" * 10_000).encode(),
    ('{"queries": [' + "[" * 10_000 + "]" * 10_000 + "]}").encode(),
    _deep(MAX_JSON_DEPTH + 1),
    _deep(10_000).decode().encode("utf-16"),
    _deep(10_000).decode().encode("utf-32-le"),
    b'["\\"", "\\\\"' + b"[" * 10_000,
])
def test_deep_json_bodies_are_400(client: httpx.Client, body: bytes) -> None:
    for content_type in ("application/json", "application/merge-patch+json",
                         "application/json; charset=utf-8"):
        response = client.post("/api/search/batch", content=body,
                               headers={"content-type": content_type})
        error = assert_error(response, 400, "bad-request")
        assert "nested deeper" in error["message"]


def test_deep_json_in_a_stream_is_400(client: httpx.Client) -> None:
    def chunks() -> Any:
        for _ in range(100):
            yield b"[" * 100

    response = client.post("/api/search/batch", content=chunks(),
                           headers={"content-type": "application/json"})
    assert_error(response, 400, "bad-request")


def test_brackets_in_strings_do_not_count(client: httpx.Client) -> None:
    text = '[{' * 5_000 + '\\"' + "]" * 300
    response = client.post("/api/search/batch", json={"queries": [{"query": text}]})
    assert_error(response, 422, "invalid-request")  # too long a question, not too deep
    nested = {"queries": [{"query": "renovatie", "filters": {"theme": "renovatie"}}]}
    assert_error(client.post("/api/search/batch", json=nested), 409, "index-mismatch")


def test_scanner_across_chunk_boundaries() -> None:
    text = ('{"a": "[[[\\"[[[", "b": [[["x\\\\"]]], "c": "' + "{" * 100 + '"}').encode()
    for size in (1, 2, 3, 7, len(text)):
        scanner = JsonDepthScanner(4)
        chunks = [text[i:i + size] for i in range(0, len(text), size)]
        assert all(scanner.feed(c, final=n == len(chunks) - 1) for n, c in enumerate(chunks))
        assert scanner.depth == 0 and not scanner.in_string
    too_deep = ("[" * 5).encode("utf-16-le")
    scanner = JsonDepthScanner(4)
    assert not all(scanner.feed(too_deep[i:i + 1]) for i in range(len(too_deep)))


def test_body_limit_is_413_also_for_streamed_json(client: httpx.Client,
                                                   live: LiveServer) -> None:
    # FastAPI turns an error raised while it reads a JSON body into a 400; the domain error
    # must come through as itself.
    def chunks() -> Any:
        for _ in range(live.settings.max_request_bytes // 10_000 + 2):
            yield b" " * 10_000

    response = client.post("/api/search/batch", content=chunks(),
                           headers={"content-type": "application/json"})
    assert_error(response, 413, "payload-too-large")
