"""The tokenizer that finds SERVICE/LOAD and the query form outside strings, IRIs and comments."""

from __future__ import annotations

import pytest

from kg.errors import ForbiddenQueryError
from kg.sparql_lexer import check_safe, shape


@pytest.mark.parametrize(
    ("text", "form"),
    [
        ("SELECT * WHERE { ?s ?p ?o }", "SELECT"),
        ("prefix ex: <http://ex/> construct { ?s ?p ?o } where { ?s ?p ?o }", "CONSTRUCT"),
        ("CONSTRUCT WHERE { { SELECT ?s ?p ?o WHERE { ?s ?p ?o } } }", "CONSTRUCT"),
        ("BASE <http://ex/> DESCRIBE <x>", "DESCRIBE"),
        ("# SELECT in a comment\nASK { ?s ?p ?o }", "ASK"),
        ("INSERT DATA { <a> <b> <c> }", None),
        ("", None),
    ],
)
def test_query_form(text: str, form: str | None) -> None:
    assert shape(text).form == form


@pytest.mark.parametrize(
    "text",
    [
        "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }",
        "select * where { service silent <http://example.org/sparql> { ?s ?p ?o } }",
        "SELECT * WHERE { ?s ?p ?o . SeRvIcE ?endpoint { ?s ?p ?o } }",
        "LOAD <http://example.org/data.ttl>",
        "load silent <http://example.org/x> into graph <http://example.org/g>",
        "INSERT { ?s ?p ?o } WHERE { SERVICE <http://x/> { ?s ?p ?o } }",
        "SELECT * WHERE { \\u0053ERVICE <http://example.org/sparql> { ?s ?p ?o } }",
        'SELECT * WHERE { ?s ?p "unterminated\nSERVICE <http://x/> {} }',
        "SELECT * WHERE {?s ?p ?o}SERVICE<http://x/>{}",
    ],
)
def test_fetching_operations_are_refused(text: str) -> None:
    with pytest.raises(ForbiddenQueryError, match="not allowed"):
        check_safe(text)


@pytest.mark.parametrize(
    "text",
    [
        'SELECT * WHERE { ?s ?p "SERVICE and LOAD" }',
        "SELECT * WHERE { ?s ?p 'LOAD' }",
        'SELECT * WHERE { ?s ?p """multi\nline SERVICE "quoted" LOAD""" }',
        "SELECT * WHERE { ?s ?p '''it''s SERVICE''' }",
        'SELECT * WHERE { ?s ?p "escaped \\" SERVICE" }',
        "SELECT * WHERE { ?s <http://example.org/SERVICE#LOAD> ?o }",
        "PREFIX service: <http://ex/> SELECT * WHERE { ?s service:load ex:SERVICE }",
        "SELECT ?service ?load WHERE { ?service ?p $load }",
        "SELECT * WHERE { ?s ?p ?o } # SERVICE <http://example.org/>",
        'SELECT * WHERE { ?s ?p "x"@load }',
        "SELECT * WHERE { ?s ?p ?o FILTER (?o < 3 && ?o > 1) }",
        "SELECT * WHERE { _:service ?p ?o }",
    ],
)
def test_words_in_strings_iris_names_and_comments_are_allowed(text: str) -> None:
    result = check_safe(text)
    assert result.form == "SELECT"
    assert not result.keywords & {"SERVICE", "LOAD"}


def test_keywords_are_collected_in_upper_case() -> None:
    found = shape("select ?s from <http://ex/g> where { ?s ?p ?o } limit 1").keywords
    assert {"SELECT", "FROM", "WHERE", "LIMIT"} <= found
