"""RDF input never opens a URL or a file besides itself: remote JSON-LD contexts are refused.

Every test points the references at a local listening socket and asserts that it saw no
connection, that the error names the file and the context, and that the store is unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rdflib import Graph

from api.knowledgebase import KnowledgeBase
from ingest import rdf_input
from ingest.rdf_input import RemoteContextRefused, parse_json_ld, read_rdf, remote_contexts
from kg import catalogue
from kg.errors import IngestError
from ontology.namespaces import DEFAULT_BASE_IRI, WK

pytestmark = pytest.mark.filterwarnings(
    "ignore:ConjunctiveGraph is deprecated:DeprecationWarning")

BASE = DEFAULT_BASE_IRI
WK_CONTEXT = {"wk": str(WK), "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
              "dct": "http://purl.org/dc/terms/"}


def node(**more: Any) -> dict[str, Any]:
    return {"@id": BASE + "actor/remote-actor", "@type": "wk:Actor",
            "dct:identifier": "remote-actor", "rdfs:label": "Een actor", **more}


# name -> a document whose context (somewhere) comes from `ref`
DOCUMENTS: dict[str, Callable[[str], Any]] = {
    "string": lambda ref: {"@context": ref, **node()},
    "list": lambda ref: {"@context": [WK_CONTEXT, ref], **node()},
    "list-first": lambda ref: {"@context": [ref, WK_CONTEXT], **node()},
    "nested-list": lambda ref: {"@context": [WK_CONTEXT, [ref]], **node()},
    "scoped-property": lambda ref: {
        "@context": {**WK_CONTEXT, "wk:related": {"@context": ref}},
        **node(**{"wk:related": {"@id": "https://example.org/x"}})},
    "scoped-type": lambda ref: {
        "@context": {**WK_CONTEXT, "wk:Actor": {"@context": ref}}, **node()},
    "import": lambda ref: {"@context": {"@import": ref, **WK_CONTEXT}, **node()},
    "import-in-scoped": lambda ref: {
        "@context": {**WK_CONTEXT, "wk:Actor": {"@context": {"@import": ref}}}, **node()},
    "node-context": lambda ref: {"@context": WK_CONTEXT, "@graph": [{"@context": ref, **node()}]},
    "deep-node": lambda ref: {"@context": WK_CONTEXT, **node(
        **{"wk:related": {"@id": "https://example.org/x",
                          "rdfs:seeAlso": {"@context": ref, "@id": "https://example.org/y"}}})},
    "top-level-array": lambda ref: [{"@context": ref, **node()}],
}


def references(listener: Any, outside: Path) -> dict[str, str]:
    """Every kind of reference: HTTP, a file:// IRI and a relative path (both outside the
    inputs)."""
    outside.write_text(json.dumps({"@context": WK_CONTEXT}), encoding="utf-8")
    return {"http": listener.url(), "https-port": listener.url().replace("http:", "https:"),
            "file": outside.as_uri(), "relative": f"../{outside.parent.name}/{outside.name}"}


def snapshot(kb: KnowledgeBase) -> tuple[bytes, int, list[str]]:
    """Everything a write would change: the N-Quads dump, the generation, the source graphs."""
    return (kb.export("nq"), kb.store.generation,
            sorted(g.iri for g in catalogue.source_graphs(kb.store)))


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    folder = tmp_path / "inputs"
    folder.mkdir()
    return folder


@pytest.mark.parametrize("dry_run", [False, True], ids=["ingest", "dry-run"])
@pytest.mark.parametrize("kind", sorted(DOCUMENTS))
def test_remote_contexts_are_refused_without_a_connection(
        kb: KnowledgeBase, listener: Any, inputs: Path, tmp_path: Path, kind: str,
        dry_run: bool) -> None:
    (tmp_path / "elsewhere").mkdir()
    refs = references(listener, tmp_path / "elsewhere" / "context.jsonld")
    before = snapshot(kb)
    files = {}
    for ref_kind, ref in refs.items():
        f = inputs / f"{kind}-{ref_kind}.jsonld"
        f.write_text(json.dumps(DOCUMENTS[kind](ref), indent=1), encoding="utf-8")
        files[f] = ref
    with pytest.raises(IngestError) as exc:
        kb.ingest(list(files), dry_run=dry_run, sync_index=False)
    text = str(exc.value)
    for f, ref in files.items():
        assert any(p.file == str(f.resolve()) and p.field in ("@context", "@import")
                   and repr(ref) in p.message and "embed the context in the file" in p.message
                   for p in exc.value.problems), (f, text)
    assert "Traceback" not in text
    assert listener.connections == []
    assert snapshot(kb) == before


def test_the_message_names_file_line_and_context(listener: Any, inputs: Path) -> None:
    f = inputs / "x.jsonld"
    f.write_text(json.dumps({"@context": [WK_CONTEXT, listener.url()], **node()}, indent=2))
    _, _, problems = read_rdf(f, "x.jsonld", "json-ld", BASE)
    assert [str(p) for p in problems] == [
        f"x.jsonld:8: @context: remote context '{listener.url()}' is not allowed; embed the "
        "context in the file"]
    f.write_text(json.dumps({"@context": {"@import": listener.url()}, **node()}))
    _, _, problems = read_rdf(f, "x.jsonld", "json-ld", BASE)
    assert [str(p) for p in problems] == [
        f"x.jsonld:1: @import: importing the context '{listener.url()}' is not allowed; embed "
        "the context in the file"]
    assert listener.connections == []


def test_a_context_that_is_no_object_is_refused(inputs: Path) -> None:
    f = inputs / "x.jsonld"
    f.write_text(json.dumps({"@context": [WK_CONTEXT, 42], **node()}))
    _, _, problems = read_rdf(f, "x.jsonld", "json-ld", BASE)
    assert [(p.field, p.message) for p in problems] == [
        ("@context", "a context must be an object, not '42'; embed the context in the file")]


def test_embedded_and_null_contexts_are_fine(inputs: Path) -> None:
    f = inputs / "x.jsonld"
    f.write_text(json.dumps({"@context": [None, WK_CONTEXT, {"wk:related": {"@context": {
        "x": "https://example.org/"}}}], **node()}))
    records, _, problems = read_rdf(f, "x.jsonld", "json-ld", BASE)
    assert problems == []
    assert [r.data["id"] for r in records] == ["remote-actor"]


def test_the_scan_finds_every_reference() -> None:
    doc = DOCUMENTS["deep-node"]("A") | {"@graph": [{"@context": ["B", {"@import": "C"}]}]}
    assert sorted(v for _, v in remote_contexts(doc)) == ["A", "B", "C"]


# -- defence in depth: the parser itself cannot fetch ---------------------------------------

@pytest.mark.parametrize("kind", sorted(k for k in DOCUMENTS if k != "top-level-array"))
def test_rdflib_cannot_fetch_even_without_the_scan(
        kb: KnowledgeBase, listener: Any, inputs: Path, tmp_path: Path, kind: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """With the scan switched off, rdflib's own context loading still opens nothing."""
    monkeypatch.setattr(rdf_input, "remote_contexts", lambda document: [])
    (tmp_path / "elsewhere").mkdir()
    secret = tmp_path / "elsewhere" / "context.jsonld"
    before = snapshot(kb)
    for ref in references(listener, secret).values():
        f = inputs / "x.jsonld"
        f.write_text(json.dumps(DOCUMENTS[kind](ref)), encoding="utf-8")
        with pytest.raises(IngestError) as exc:
            kb.ingest([f], dry_run=True, sync_index=False)
        (problem,) = exc.value.problems
        assert problem.field == "@context"
        assert problem.message.startswith("loading the context '")
        assert problem.message.endswith("is not allowed; embed the context in the file")
    assert listener.connections == []
    assert snapshot(kb) == before


def test_parse_json_ld_refuses_directly(listener: Any) -> None:
    with pytest.raises(RemoteContextRefused):
        parse_json_ld(Graph(), {"@context": listener.url(), "@id": "https://example.org/a"},
                      "file:///tmp/x.jsonld")
    assert listener.connections == []


def test_the_guard_is_scoped_to_our_parse() -> None:
    """Outside our parse the wrapped rdflib functions are untouched (they only delegate)."""
    import rdflib.plugins.shared.jsonld.context as ctx

    assert getattr(ctx.source_to_json, "_wijken_guard", False)
    data, _ = ctx.source_to_json(json.dumps({"a": 1}).encode())  # bytes: no fetch involved
    assert data == {"a": 1}


# -- Turtle and N-Triples do not fetch either -------------------------------------------------

def test_turtle_base_and_prefixes_open_nothing(listener: Any, inputs: Path,
                                               tmp_path: Path) -> None:
    outside = tmp_path / "secret.ttl"
    outside.write_text("<https://example.org/s> <https://example.org/p> 'geheim' .")
    f = inputs / "x.ttl"
    f.write_text(f"""@base <{listener.url('base/')}> .
@prefix remote: <{listener.url('ns#')}> .
@prefix file: <{outside.as_uri()}#> .
PREFIX sparql: <{listener.url('sparql#')}>
BASE <{outside.as_uri()}>
<{BASE}actor/a> a <{WK}Actor> ; <http://purl.org/dc/terms/identifier> "a" ;
    <http://www.w3.org/2000/01/rdf-schema#label> "A" ; remote:p <rel> ; file:p sparql:q .
""")
    records, extra, problems = read_rdf(f, "x.ttl", "turtle", BASE)
    assert problems == []
    assert len(records) == 1 and len(extra) == 2
    nt = inputs / "x.nt"
    nt.write_text(f"<{listener.url('s')}> <{outside.as_uri()}> <{listener.url('o')}> .\n")
    _, _, problems = read_rdf(nt, "x.nt", "nt", BASE)
    assert [p.message.split(",")[0] for p in problems] == [f"triples about {listener.url('s')}"]
    assert listener.connections == []
    assert "geheim" not in str([*records, *extra])
