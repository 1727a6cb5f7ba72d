"""Records delivered as Turtle or JSON-LD that follow the ontology (ingest/rdf_input.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rdflib import Literal, URIRef
from rdflib.namespace import RDFS, XSD

from api.knowledgebase import KnowledgeBase
from ingest.rdf_input import read_rdf
from kg.errors import IngestError
from ontology.namespaces import DEFAULT_BASE_IRI, WK

# rdflib 7.6's own JSON-LD parser builds a ConjunctiveGraph, which warns; pyproject turns
# warnings into errors and read_rdf would report them as "malformed json-ld".
pytestmark = pytest.mark.filterwarnings(
    "ignore:ConjunctiveGraph is deprecated:DeprecationWarning")

BASE = DEFAULT_BASE_IRI
PREFIXES = f"""@prefix wk: <{WK}> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix thema: <https://w3id.org/100wijken/id/concept/thema/> .
@prefix id: <{BASE}> .
"""
TURTLE = PREFIXES + """
<https://w3id.org/100wijken/id/threshold/drempel-ttl> a wk:Threshold ;
    dct:identifier "drempel-ttl" ;
    rdfs:label "Een drempel uit Turtle"@nl ;
    dct:subject thema:renovatie ;
    dct:type <https://w3id.org/100wijken/id/concept/drempeltype/juridisch> .

<https://w3id.org/100wijken/id/lesson/les-ttl> a wk:Lesson ;
    dct:identifier "les-ttl" ;
    rdfs:label "Een les uit Turtle"@nl ;
    dct:description "VEKA sprak in Gent."@nl ;
    dct:subject thema:renovatie , thema:warmte ;
    wk:municipality <https://data.vlaanderen.be/id/gemeente/44021> ;
    wk:addresses <https://w3id.org/100wijken/id/threshold/drempel-ttl> ;
    dct:date "2024-02-03"^^xsd:date ;
    skos:altLabel "TTL-les"@nl ;
    wk:mentions <https://data.vlaanderen.be/id/gemeente/11005> ;
    rdfs:seeAlso <https://example.org/verslag> .
"""


def jsonld_doc() -> dict:
    return {
        "@context": {"wk": str(WK), "dct": "http://purl.org/dc/terms/",
                     "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
                     "xsd": "http://www.w3.org/2001/XMLSchema#"},
        "@graph": [
            {"@id": BASE + "measure/maatregel-jsonld", "@type": "wk:Measure",
             "dct:identifier": "maatregel-jsonld",
             "rdfs:label": {"@value": "Een maatregel uit JSON-LD", "@language": "nl"},
             "dct:subject": {"@id": "https://w3id.org/100wijken/id/concept/thema/water"},
             "wk:addresses": {"@id": BASE + "threshold/drempel-ttl"},
             "dct:date": {"@value": "2024-05-06", "@type": "xsd:date"}},
            {"@id": BASE + "breakthrough/doorbraak-jsonld", "@type": "wk:Breakthrough",
             "dct:identifier": "doorbraak-jsonld",
             "rdfs:label": {"@value": "Een doorbraak uit JSON-LD", "@language": "nl"},
             "dct:subject": [{"@id": "https://w3id.org/100wijken/id/concept/thema/water"}],
             "wk:overcomes": {"@id": BASE + "threshold/drempel-ttl"},
             "wk:usesMeasure": {"@id": BASE + "measure/maatregel-jsonld"}},
        ],
    }


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_turtle_maps_back_to_record_fields(tmp_path: Path) -> None:
    records, extra, problems = read_rdf(write(tmp_path / "r.ttl", TURTLE), "r.ttl", "turtle",
                                        BASE)
    assert problems == []
    by_id = {r.data["id"]: r for r in records}
    les = by_id["les-ttl"].data
    assert les["type"] == "lesson"
    assert les["title"] == "Een les uit Turtle"
    assert sorted(les["themes"]) == ["renovatie", "warmte"]
    assert les["municipality"] == "44021"
    assert les["thresholds"] == ["drempel-ttl"]
    assert str(les["date"]) == "2024-02-03"
    assert les["alt_labels"] == ["TTL-les"]
    assert "mentions" not in les  # recomputed by the pipeline, not read
    assert by_id["drempel-ttl"].data["subtype"] == "juridisch"
    assert by_id["les-ttl"].file == f"r.ttl <{BASE}lesson/les-ttl>"
    assert list(extra) == [(URIRef(BASE + "lesson/les-ttl"), RDFS.seeAlso,
                            URIRef("https://example.org/verslag"))]


def test_turtle_and_jsonld_ingest_like_any_other_format(kb: KnowledgeBase,
                                                        tmp_path: Path) -> None:
    ttl = write(tmp_path / "records.ttl", TURTLE)
    jsonld = write(tmp_path / "records.jsonld", json.dumps(jsonld_doc()))
    report = kb.ingest([ttl, jsonld], sync_index=False)
    assert sorted((Path(f.path).name, f.records) for f in report.files) == [
        ("records.jsonld", 2), ("records.ttl", 2)]
    les = kb.item("les-ttl")
    assert les.title == "Een les uit Turtle"
    assert les.date == "2024-02-03"
    g = kb.store.graph(les.graph)
    s = URIRef(les.iri)
    assert (s, RDFS.label, Literal("Een les uit Turtle", lang="nl")) in g
    assert (s, RDFS.seeAlso, URIRef("https://example.org/verslag")) in g  # kept as delivered
    # mentions are recomputed from the text: Boom (only in the file) is gone, Gent is found
    assert set(g.objects(s, WK.mentions)) == {
        URIRef("https://data.vlaanderen.be/id/gemeente/44021")}
    doorbraak = kb.item("doorbraak-jsonld")
    assert [r.id for r in doorbraak.linked("overcomes")] == ["drempel-ttl"]
    assert [r.id for r in doorbraak.linked("uses-measure")] == ["maatregel-jsonld"]
    m = URIRef(BASE + "measure/maatregel-jsonld")
    assert (m, URIRef("http://purl.org/dc/terms/date"),
            Literal("2024-05-06", datatype=XSD.date)) in kb.store.graph(doorbraak.graph)
    assert {ln.target.id for ln in kb.item("drempel-ttl").links if ln.direction == "in"} == {
        "les-ttl", "maatregel-jsonld", "doorbraak-jsonld"}


def test_triples_about_a_foreign_subject_are_refused(kb: KnowledgeBase, tmp_path: Path) -> None:
    before = (kb.export("nq"), kb.store.generation)
    f = write(tmp_path / "evil.ttl", TURTLE + """
<https://data.vlaanderen.be/id/gemeente/44021> rdfs:label "Gand"@nl .
""")
    with pytest.raises(IngestError) as exc:
        kb.ingest([f], sync_index=False)
    (problem,) = exc.value.problems
    assert problem.message.startswith(
        "triples about https://data.vlaanderen.be/id/gemeente/44021, which is not a record of "
        "this file")
    assert (kb.export("nq"), kb.store.generation) == before


def test_record_iri_must_match_type_and_id(tmp_path: Path) -> None:
    f = write(tmp_path / "r.ttl", PREFIXES + """
<https://w3id.org/100wijken/id/lesson/verkeerd> a wk:Lesson ;
    dct:identifier "les-juist" ; rdfs:label "T"@nl .
""")
    _, _, problems = read_rdf(f, "r.ttl", "turtle", BASE)
    assert [(p.field, p.message) for p in problems] == [
        ("id", f"record {BASE}lesson/verkeerd: IRI must be {BASE}lesson/les-juist")]


def test_values_outside_the_ontology_are_problems(tmp_path: Path) -> None:
    f = write(tmp_path / "r.ttl", PREFIXES + """
<https://w3id.org/100wijken/id/lesson/les-x> a wk:Lesson ;
    dct:identifier "les-x" ; rdfs:label "Een"@nl , "Twee"@nl ;
    dct:subject <https://example.org/thema/klimaat> ;
    wk:municipality <https://example.org/gent> ;
    wk:addresses <https://example.org/drempel/d-1> .
""")
    _, _, problems = read_rdf(f, "r.ttl", "turtle", BASE)
    got = {p.field: p.message for p in problems}
    assert set(got) == {"title", "themes", "municipality", "thresholds"}
    assert got["title"].endswith("more than one value")
    assert "not a wijken concept IRI" in got["themes"]
    assert "not a municipality IRI" in got["municipality"]
    assert "not a record IRI under the base IRI" in got["thresholds"]


def test_missing_label_is_reported_through_validation(kb: KnowledgeBase, tmp_path: Path) -> None:
    f = write(tmp_path / "r.ttl", PREFIXES + """
<https://w3id.org/100wijken/id/actor/zonder-titel> a wk:Actor ;
    dct:identifier "zonder-titel" .
""")
    with pytest.raises(IngestError) as exc:
        kb.ingest([f], sync_index=False)
    assert [str(p) for p in exc.value.problems] == [
        f"{f.resolve()} <{BASE}actor/zonder-titel>: title: is required"]


def test_malformed_rdf_is_a_problem(tmp_path: Path) -> None:
    f = write(tmp_path / "r.ttl", "<a> <b> .\n")
    records, _, problems = read_rdf(f, "r.ttl", "turtle", BASE)
    assert records == []
    assert len(problems) == 1 and problems[0].message.startswith("malformed turtle")
    f = write(tmp_path / "r.jsonld", "{niet json")
    _, _, problems = read_rdf(f, "r.jsonld", "json-ld", BASE)
    assert problems[0].message.startswith("malformed json-ld")
