"""Query execution inside a SPARQL worker (kg/sparql/executor.py), run in this process on a real
on-disk store: result forms and formats, the row cap, XML-unsafe text, the dataset, checkpoints
and extension functions. The pool around it is tested in test_sparql_pool.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDFS, XSD

from kg.errors import NotAcceptableError, SearchIndexError, WijkenError
from kg.sparql.executor import Executor, term_json
from kg.sparql.messages import (
    FunctionSpec,
    QueryFailure,
    QueryRequest,
    QueryResult,
    WorkerConfig,
)
from kg.store import Store
from ontology.namespaces import WK

EX = "http://example.org/"
G1, G2 = EX + "g1", EX + "g2"
CAP = 3
SHOUT = EX + "fn#shout"
XML_RESULTS = "application/sparql-results+xml"
ROWS = f"SELECT ?s ?label WHERE {{ ?s <{RDFS.label}> ?label }} ORDER BY ?s"


def labelled(n: int) -> Graph:
    g = Graph()
    for i in range(n):
        g.add((URIRef(f"{EX}s{i}"), RDFS.label, Literal(f"waarde {i}", lang="nl")))
    return g


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with 5 labelled subjects in G1 and one typed triple in G2, and a checkpoint
    (`checkpoint/`) taken when G1 held only 2 subjects."""
    root = tmp_path_factory.mktemp("execution")
    writer = Store(root)
    writer.replace_graphs({G1: labelled(2)})
    writer.backup(root / "checkpoint")
    two = Graph()
    two.add((URIRef(EX + "t"), URIRef(EX + "n"), Literal(42)))
    writer.replace_graphs({G1: labelled(5), G2: two})
    writer.close()
    return root


@pytest.fixture
def executor(data_dir: Path) -> Iterator[Executor]:
    yield Executor(WorkerConfig(data_dir=data_dir, max_rows=CAP))


def run(executor: Executor, query: str, **kwargs: object) -> QueryResult:
    return executor.execute(QueryRequest(query, **kwargs))  # type: ignore[arg-type]


def bindings(result: QueryResult) -> list[dict[str, dict[str, str]]]:
    assert result.media_type == "application/sparql-results+json"
    return json.loads(result.body)["results"]["bindings"]  # type: ignore[no-any-return]


def parsed_rows(result: QueryResult, fmt: ox.QueryResultsFormat) -> list[tuple[str, ...]]:
    solutions = ox.parse_query_results(result.body, format=fmt)
    assert isinstance(solutions, ox.QuerySolutions)
    return [tuple(str(term) for term in row) for row in solutions]


# -- result forms and formats -----------------------------------------------------------------


def test_select_as_json_with_term_types(executor: Executor) -> None:
    result = run(executor, "SELECT ?s ?n WHERE { ?s <http://example.org/n> ?n }")
    assert (result.count, result.truncated) == (1, False)
    assert bindings(result) == [{
        "s": {"type": "uri", "value": EX + "t"},
        "n": {"type": "literal", "value": "42", "datatype": str(XSD.integer)},
    }]


def test_unbound_variables_are_left_out_of_a_binding(executor: Executor) -> None:
    result = run(executor, "SELECT ?s ?missing WHERE { ?s ?p 42 }")
    assert json.loads(result.body)["head"]["vars"] == ["s", "missing"]
    assert bindings(result) == [{"s": {"type": "uri", "value": EX + "t"}}]


@pytest.mark.parametrize(("media_type", "fmt"), [
    ("application/sparql-results+json", ox.QueryResultsFormat.JSON),
    (XML_RESULTS, ox.QueryResultsFormat.XML),
    ("text/tab-separated-values", ox.QueryResultsFormat.TSV),
])
def test_ask_in_each_results_format(executor: Executor, media_type: str,
                                    fmt: ox.QueryResultsFormat) -> None:
    for query, expected in [("ASK { ?s ?p 42 }", True), ("ASK { ?s ?p 43 }", False)]:
        result = run(executor, query, results_format=media_type)
        assert (result.count, result.truncated) == (1, False)
        assert result.media_type == fmt.media_type
        answer = ox.parse_query_results(result.body, format=fmt)
        assert isinstance(answer, ox.QueryBoolean) and bool(answer) is expected


def test_construct_in_each_rdf_format(executor: Executor) -> None:
    query = f"CONSTRUCT WHERE {{ ?s <{EX}n> ?o }}"
    expected = [ox.Triple(ox.NamedNode(EX + "t"), ox.NamedNode(EX + "n"),
                          ox.Literal("42", datatype=ox.NamedNode(str(XSD.integer))))]
    for media_type in ("text/turtle", "application/n-triples", "application/rdf+xml",
                       "application/ld+json"):
        result = run(executor, query, rdf_format=media_type)
        fmt = ox.RdfFormat.from_media_type(media_type)
        assert fmt is not None and result.media_type == fmt.media_type
        assert (result.count, result.truncated) == (1, False)
        assert [q.triple for q in ox.parse(result.body, format=fmt)] == expected, media_type


def test_turtle_declares_the_project_prefixes_and_n_triples_none(executor: Executor) -> None:
    query = f"CONSTRUCT {{ ?s <{WK}related> ?s }} WHERE {{ ?s <{EX}n> ?o }}"
    turtle = run(executor, query, rdf_format="text/turtle").body.decode()
    assert f"@prefix wk: <{WK}>" in turtle and "wk:related" in turtle
    ntriples = run(executor, query, rdf_format="application/n-triples").body.decode()
    assert "@prefix" not in ntriples and f"<{WK}related>" in ntriples


@pytest.mark.parametrize("results_format", ["text/html", None])
def test_select_without_an_acceptable_format_is_refused(executor: Executor,
                                                        results_format: str | None) -> None:
    with pytest.raises(NotAcceptableError, match="result of a SELECT query"):
        run(executor, ROWS, results_format=results_format)


def test_construct_in_an_unknown_rdf_format_is_refused(executor: Executor) -> None:
    with pytest.raises(NotAcceptableError, match="unknown RDF format 'text/html'"):
        run(executor, "CONSTRUCT WHERE { ?s ?p ?o }", rdf_format="text/html")


def test_term_json_of_each_kind_of_term() -> None:
    s, p = ox.NamedNode(EX + "s"), ox.NamedNode(EX + "p")
    assert term_json(s) == {"type": "uri", "value": EX + "s"}
    assert term_json(ox.BlankNode("b1")) == {"type": "bnode", "value": "b1"}
    assert term_json(ox.Literal("huis", language="nl")) == {
        "type": "literal", "value": "huis", "xml:lang": "nl"}
    assert term_json(ox.Literal("2024-01-02", datatype=ox.NamedNode(str(XSD.date)))) == {
        "type": "literal", "value": "2024-01-02", "datatype": str(XSD.date)}
    # xsd:string is the default: no datatype, as for a plain literal
    assert term_json(ox.Literal("tekst", datatype=ox.NamedNode(str(XSD.string)))) == {
        "type": "literal", "value": "tekst"}
    assert term_json(ox.Triple(s, p, ox.Literal("o"))) == {"type": "triple", "value": {
        "subject": {"type": "uri", "value": EX + "s"},
        "predicate": {"type": "uri", "value": EX + "p"},
        "object": {"type": "literal", "value": "o"}}}
    with pytest.raises(TypeError):
        term_json(ox.DefaultGraph())


# -- the row cap ------------------------------------------------------------------------------


def test_row_cap_truncates_select_alike_in_every_format(executor: Executor) -> None:
    json_result = run(executor, ROWS)
    assert (json_result.count, json_result.truncated) == (CAP, True)
    expected = [(EX + f"s{i}", f"waarde {i}") for i in range(CAP)]  # the first rows, in order
    assert [(b["s"]["value"], b["label"]["value"]) for b in bindings(json_result)] == expected
    assert all(b["label"]["xml:lang"] == "nl" for b in bindings(json_result))
    json_rows = parsed_rows(json_result, ox.QueryResultsFormat.JSON)
    for media_type, fmt in [(XML_RESULTS, ox.QueryResultsFormat.XML),
                            ("text/tab-separated-values", ox.QueryResultsFormat.TSV)]:
        result = run(executor, ROWS, results_format=media_type)
        assert (result.count, result.truncated) == (CAP, True)
        assert parsed_rows(result, fmt) == json_rows, media_type
    csv = run(executor, ROWS, results_format="text/csv")
    assert (csv.count, csv.truncated) == (CAP, True)
    assert csv.body.decode().splitlines() == ["s,label"] + [f"{s},{v}" for s, v in expected]


def test_a_result_of_exactly_the_cap_is_not_truncated(executor: Executor) -> None:
    result = run(executor, ROWS + f" LIMIT {CAP}")
    assert (result.count, result.truncated) == (CAP, False)
    fewer = run(executor, ROWS + " LIMIT 1")
    assert (fewer.count, fewer.truncated) == (1, False)


def test_row_cap_truncates_construct(executor: Executor) -> None:
    for media_type, fmt in [("text/turtle", ox.RdfFormat.TURTLE),
                            ("application/n-triples", ox.RdfFormat.N_TRIPLES)]:
        result = run(executor, "CONSTRUCT WHERE { ?s ?p ?o }", rdf_format=media_type)
        assert (result.count, result.truncated) == (CAP, True)
        assert len(list(ox.parse(result.body, format=fmt))) == CAP


# -- XML-unsafe text --------------------------------------------------------------------------

UNSAFE_SELECT = 'SELECT ("a\\u0001b" AS ?x) WHERE {}'
UNSAFE_CONSTRUCT = f'CONSTRUCT {{ <{EX}s> <{EX}p> "a\\u0001b" }} WHERE {{}}'


def test_xml_unsafe_text_is_refused_in_xml_results(executor: Executor) -> None:
    with pytest.raises(NotAcceptableError, match=r"U\+0001, which XML cannot carry"):
        run(executor, UNSAFE_SELECT, results_format=XML_RESULTS)
    with pytest.raises(NotAcceptableError, match=r"U\+0001"):
        run(executor, UNSAFE_CONSTRUCT, rdf_format="application/rdf+xml")


def test_xml_unsafe_text_is_served_in_other_formats(executor: Executor) -> None:
    assert bindings(run(executor, UNSAFE_SELECT)) == [
        {"x": {"type": "literal", "value": "a\x01b"}}]
    ntriples = run(executor, UNSAFE_CONSTRUCT, rdf_format="application/n-triples").body
    (quad,) = ox.parse(ntriples, format=ox.RdfFormat.N_TRIPLES)
    assert quad.object.value == "a\x01b"


# -- the dataset ------------------------------------------------------------------------------

COUNT = "SELECT (COUNT(*) AS ?n) {from} WHERE {{ ?s ?p ?o }}"


def count(executor: Executor, query: str, **kwargs: object) -> int:
    return int(bindings(run(executor, query, **kwargs))[0]["n"]["value"])


def test_the_default_graph_is_the_union_of_all_graphs(executor: Executor) -> None:
    assert count(executor, COUNT.format(**{"from": ""})) == 6


def test_from_in_the_query_chooses_the_default_graph(executor: Executor) -> None:
    assert count(executor, COUNT.format(**{"from": f"FROM <{G2}>"})) == 1


def test_the_protocol_graphs_choose_the_dataset(executor: Executor) -> None:
    assert count(executor, COUNT.format(**{"from": ""}), default_graphs=(G2,)) == 1
    assert count(executor, COUNT.format(**{"from": ""}), named_graphs=(G2,)) == 0


def test_the_protocol_graphs_win_over_from(executor: Executor) -> None:
    query = COUNT.format(**{"from": f"FROM <{G2}>"})
    assert count(executor, query, default_graphs=(G1,)) == 5
    named = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
    assert count(executor, named, named_graphs=(G2,)) == 1


# -- the store and its checkpoints ------------------------------------------------------------


@pytest.mark.parametrize("in_memory_quads", [0, 1_000_000], ids=["on-disk", "in-memory"])
def test_a_request_reads_the_checkpoint_it_names(data_dir: Path, in_memory_quads: int) -> None:
    executor = Executor(WorkerConfig(data_dir=data_dir, max_rows=CAP,
                                     in_memory_quads=in_memory_quads))
    checkpoint = str(data_dir / "checkpoint")
    assert count(executor, COUNT.format(**{"from": ""}), snapshot=checkpoint) == 2
    store = executor.ensure_store(checkpoint)
    assert executor.ensure_store(checkpoint) is store  # reused while the request names it
    assert count(executor, COUNT.format(**{"from": ""})) == 6  # the data directory's store
    assert executor.ensure_store(None) is not store


# -- extension functions ----------------------------------------------------------------------


class Shout:
    """An extension function for these tests: upper-cases a literal and logs its calls in the
    list it is built with; "fout" fails the way `wk:similarity` does (kept for take_error)."""

    def __init__(self, calls: list[str]) -> None:
        self.calls = calls
        self.error: WijkenError | None = None

    def __call__(self, term: ox.Literal) -> ox.Literal | None:
        self.calls.append(term.value)
        if term.value == "fout":
            self.error = SearchIndexError("the index is missing")
            return None
        return ox.Literal(term.value.upper())

    def prepare(self) -> None:
        self.calls.append("prepare")

    def take_error(self) -> WijkenError | None:
        error, self.error = self.error, None
        return error


@pytest.fixture
def calls() -> list[str]:
    return []


@pytest.fixture
def with_shout(data_dir: Path, calls: list[str]) -> Executor:
    spec = FunctionSpec(SHOUT, f"{__name__}:Shout", config=calls)
    return Executor(WorkerConfig(data_dir=data_dir, max_rows=CAP, functions=(spec,)))


def test_a_registered_function_is_prepared_and_called(with_shout: Executor,
                                                      calls: list[str]) -> None:
    query = f'PREFIX fn: <{EX}fn#> SELECT (fn:shout("hallo") AS ?x) WHERE {{}}'
    assert bindings(run(with_shout, query)) == [{"x": {"type": "literal", "value": "HALLO"}}]
    assert calls == ["prepare", "hallo"]


def test_a_function_the_query_does_not_name_is_not_prepared(with_shout: Executor,
                                                            calls: list[str]) -> None:
    assert count(with_shout, COUNT.format(**{"from": ""})) == 6
    assert calls == []


def test_an_error_kept_by_a_function_fails_the_query(with_shout: Executor) -> None:
    query = f'SELECT (<{SHOUT}>("fout") AS ?x) WHERE {{}}'
    with pytest.raises(SearchIndexError, match="the index is missing"):
        run(with_shout, query)
    # answered as a value, so the worker keeps serving; the error does not linger
    assert with_shout.answer(QueryRequest(query)) == QueryFailure(
        "index-mismatch", "the index is missing")
    ok = with_shout.answer(QueryRequest(f'SELECT (<{SHOUT}>("ja") AS ?x) WHERE {{}}'))
    assert isinstance(ok, QueryResult) and bindings(ok)[0]["x"]["value"] == "JA"


# -- failures as values -----------------------------------------------------------------------


def test_answer_returns_failures_as_values(executor: Executor) -> None:
    syntax = executor.answer(QueryRequest("SELECT WHERE"))
    assert isinstance(syntax, QueryFailure) and syntax.code == "query-syntax"
    refused = executor.answer(QueryRequest("ASK {}", results_format=None))
    assert isinstance(refused, QueryFailure) and refused.code == "not-acceptable"
    assert isinstance(executor.answer(QueryRequest("ASK {}")), QueryResult)
