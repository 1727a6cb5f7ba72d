"""The guard every SPARQL text passes first: SERVICE/LOAD in any form, nesting, control characters,
and the query form, outside strings, IRIs and comments."""

from __future__ import annotations

import pytest

from kg.errors import ForbiddenQueryError, UserError
from kg.sparql.guard import check_query as check_safe
from kg.sparql.guard import check_update, shape


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
        # Found from outside: Oxigraph reads a keyword glued to a number as two tokens.
        "SELECT * WHERE { ?a ?b 1SERVICE <http://x/> { ?s ?p ?o } }",
        "SELECT * WHERE { ?a ?b 1.SERVICE <http://x/> { ?s ?p ?o } }",
        # Oxigraph reads `service:x {` as `SERVICE :x {` and `load:x` as `LOAD :x` (both seen
        # connecting out), so a prefix containing the word is refused.
        "PREFIX service: <http://ex/> SELECT * WHERE { ?s service:load ex:SERVICE }",
        "PREFIX : <http://x/> PREFIX service: <http://ex/> SELECT * { service:x { ?s ?p ?o } }",
        "PREFIX : <http://x/> PREFIX load: <http://ex/> load:x",
        "SELECT * WHERE { ?s ?p ?o OPTIONAL{?s ?p ?o}SERVICE<http://x/>{?s ?p ?o} }",
        'SELECT * WHERE { ?s ?p "1"@en.SERVICE <http://x/> { ?s ?p ?o } }',
        "SELECT * WHERE { ?s ?p ?o.SERVICE <http://x/> { ?s ?p ?o } }",
        "SELECT * WHERE { ?s ?p ?o OPTIONALSERVICE <http://x/> { ?s ?p ?o } }",
        "CLEAR SILENT GRAPH <http://x/> ;LOAD<http://x/>",
        "SELECT * WHERE { ?s ?p ?o ſERVICE <http://x/> {} }",  # long s folds to s
        "SELECT ?x·service WHERE { ?x·service ?p ?o }",  # not split after an ASCII name char
        "PREFIX ex: <http://x/> SELECT * WHERE { ?s ?p ex:a.SERVICE }",
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
        "PREFIX ex: <http://ex/> SELECT * WHERE { ?s ex:service ex:load }",
        "PREFIX dcat: <http://www.w3.org/ns/dcat#> SELECT ?u WHERE { ?d dcat:downloadURL ?u }",
        "SELECT ?service ?load WHERE { ?service ?p $load . ?my_service ?p ?download }",
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


def test_nesting_is_bounded_before_any_parser_sees_it() -> None:
    assert check_safe("SELECT * WHERE " + "{" * 100 + "}" * 100).depth == 100
    for deep in ("SELECT * WHERE " + "{" * 5000 + "}" * 5000,
                 "SELECT * WHERE { FILTER(" + "(" * 5000 + "1" + ")" * 5000 + ") }",
                 "INSERT DATA { " + "[ <p:p> " * 5000 + "] " * 5000 + "}"):
        with pytest.raises(UserError, match=r"50\d\d levels deep; at most 128"):
            check_safe(deep)


def test_brackets_in_strings_and_comments_do_not_count_and_cannot_hide_nesting() -> None:
    quoted = 'SELECT * WHERE { ?s ?p "' + "{" * 500 + '" } # ' + "(" * 500
    assert check_safe(quoted).depth == 1
    # closing brackets in strings cannot pay for real opening ones
    hidden = "SELECT * WHERE " + '{ ?s ?p "}}}" . ' * 300 + "}" * 300
    with pytest.raises(UserError, match="levels deep"):
        check_safe(hidden)
    # an IRI-shaped token that Oxigraph may read as `<` plus code still counts its openers
    with pytest.raises(UserError, match="levels deep"):
        check_safe("SELECT * WHERE { FILTER(?a <" + "(" * 300 + "?b" + ")" * 300 + ">1) }")


@pytest.mark.parametrize(
    "update",
    [
        'INSERT DATA { <http://x/a> <http://x/b> "nul\x00byte" }',
        'INSERT DATA { <http://x/a> <http://x/b> "escaped \\u0000 nul" }',
        'INSERT DATA { <http://x/a> <http://x/b> "backspace \\b" }',
        'INSERT DATA { <http://x/a> <http://x/b> """form feed \\f""" }',
        'INSERT DATA { <http://x/a> <http://x/b> "bell \x07" }',
        'INSERT DATA { <http://x/a> <http://x/b> "not a character \\uFFFE" }',
    ],
)
def test_updates_cannot_write_characters_xml_cannot_carry(update: str) -> None:
    with pytest.raises(UserError, match="control character"):
        check_update(update)


def test_updates_with_ordinary_text_and_escaped_backslashes_pass() -> None:
    check_update('INSERT DATA { <http://x/a> <http://x/b> "tab\\t, newline\\n, C:\\\\bin" }')


# -- differential: the guard against the engine itself -------------------------------------

_PROBE = r"""
import json, sys
import pyoxigraph as ox
from kg.sandbox import deny_network
assert deny_network()
out = []
for kind, text in json.load(sys.stdin):
    store = ox.Store()
    store.add(ox.Quad(ox.NamedNode("http://a/s"), ox.NamedNode("http://a/p"),
                      ox.Literal("1", language="en")))
    try:
        if kind == "update":
            store.update(text)
        else:
            list(store.query(text, use_default_graph_as_union=True))
        out.append("ran")
    except PermissionError:
        out.append("fetch")  # the engine tried to open a socket: the sandbox refused it
    except SyntaxError:
        out.append("syntax")
    except OSError:
        out.append("fetch")
    except RuntimeError:
        out.append("error")  # e.g. SERVICE ?e with ?e unbound: evaluated, nothing to fetch
print(json.dumps(out))
"""

_GLUE = ["", " ", "1", "1.", "1e5", "?x", "?x.", "$x", "ex:a", "ex:a.", "ex:", ":", '"s"',
         '"s"@en', '"s"@en.', "_:b", "_:b.", "<http://a/o>", ")", "}", ".", ";", "a", "true",
         "OPTIONAL{?s ?p ?o}", "MINUS{?s ?p ?o}", "FILTER(1)", "\\u0053", "#\n", "'x'", "^^ex:t"]
_KEYWORDS = ["SERVICE", "service", "SeRvIcE", "SERVICE SILENT", "service:", "LOAD", "load:",
             "ſervice"]


def _candidates(seed: int, n: int) -> list[tuple[str, str]]:
    import random

    rng = random.Random(seed)
    out = []
    for _ in range(n):
        before, after = rng.choice(_GLUE), rng.choice(["", " ", ":x", "x", "."])
        keyword = rng.choice(_KEYWORDS)
        target = rng.choice(["<http://127.0.0.1:8080/>", ":x", "?e", "ex:x"])
        if "load" in keyword.lower() or keyword == "load:":
            text = (f"PREFIX : <http://127.0.0.1:8080/> PREFIX ex: <http://a/> PREFIX load: "
                    f"<http://a/> INSERT DATA {{ <http://a/x> <http://a/y> 1 }} ;"
                    f"{before}{keyword}{after} {target}")
            out.append(("update", text))
        else:
            text = (f"PREFIX : <http://127.0.0.1:8080/> PREFIX ex: <http://a/> PREFIX service: "
                    f"<http://a/> SELECT * WHERE {{ ?s ?p ?o {before}{keyword}{after} "
                    f"{target} {{ ?s ?p ?o }} }}")
            out.append(("query", text))
    return out


def test_no_text_the_guard_accepts_makes_oxigraph_connect() -> None:
    """Thousands of glued, cased and prefixed forms of SERVICE and LOAD, run by Oxigraph in a
    process whose sockets the kernel refuses: every one that tried to connect was refused by
    the guard first, and the probe does see connection attempts (so it can fail)."""
    import json
    import subprocess
    import sys

    candidates = _candidates(seed=20261203, n=8000)
    run = subprocess.run([sys.executable, "-c", _PROBE], input=json.dumps(candidates),
                         capture_output=True, text=True, timeout=300, check=True)
    outcomes = json.loads(run.stdout)
    fetched = [text for (kind, text), outcome in zip(candidates, outcomes, strict=True)
               if outcome == "fetch"]
    assert len(fetched) > 200, "the probe saw no connection attempts: it tests nothing"
    missed = []
    for text in fetched:
        try:
            (check_update if "INSERT DATA" in text else check_safe)(text)
        except ForbiddenQueryError:
            continue
        missed.append(text)
    assert not missed, missed[:5]
