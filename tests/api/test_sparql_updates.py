"""SPARQL Update on a real server: off without a token, Bearer token, no LOAD, fresh reads."""

from __future__ import annotations

import httpx
import pytest
from rdflib import Graph

from api.sparql.service_description import SD
from ontology.namespaces import WK
from tests.api.conftest import FIXTURE_GRAPH, UPDATE_TOKEN, LiveServer, assert_error

ID = "https://w3id.org/100wijken/id/"


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
    # One generation for the update, and one more when it also records a werkboek edition
    # (here the first: the fixture's records were written without one).
    assert response.json()["generation"] in (before + 1, before + 2)
    assert response.json()["generation"] == writable.kb.store.generation
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
