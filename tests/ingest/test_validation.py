"""SHACL validation of an ingest run's graphs (ingest/validation.py) against a real on-disk
store: the store supplies the types of what the new graphs point at, and every violation becomes
a problem located at its record's file, line and field. The engine itself is tested against
pyshacl in test_shacl_engine.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from rdflib import Graph

import ontology
from ingest.mapping import RecordMapper
from ingest.records import RawRecord, SourceRecord, validate
from ingest.validation import validate_graphs
from kg.errors import Problem
from kg.store import Store
from ontology.namespaces import DEFAULT_BASE_IRI, WK, item_iri, reference_graph, sparql_prefixes

BASE = DEFAULT_BASE_IRI
NEW = BASE + "graph/nieuw"
OTHER = BASE + "graph/ander"
PATH = Path("/data/nieuw.jsonl")
MEASURE = item_iri(BASE, "measure", "m-fonds")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """The concept schemes, and a measure from another file (its graph holds it whole)."""
    store = Store(tmp_path_factory.mktemp("shacl"))
    measure = Graph().parse(data=sparql_prefixes() + f"""
        <{MEASURE}> a wk:Measure ; dct:identifier "m-fonds" ; rdfs:label "Fonds"@nl .""",
        format="turtle")
    store.replace_graphs({reference_graph("schemes"): ontology.load_schemes(), OTHER: measure})
    yield store
    store.close()


def records(*data: dict[str, Any]) -> list[SourceRecord]:
    out = []
    for line, fields in enumerate(data, start=1):
        raw = RawRecord(str(PATH), line, fields)
        record, problems = validate(raw)
        assert record is not None, problems
        out.append(SourceRecord(record, raw))
    return out


def check(store: Store, recs: list[SourceRecord], *extra: ox.Quad) -> list[Problem]:
    """Map the records into one new graph (plus `extra` quads) and validate it."""
    types = {s.record.id: s.record.type for s in recs} | {"m-fonds": "measure"}
    mapper = RecordMapper(BASE, types)
    g = ox.NamedNode(NEW)
    quads = [ox.Quad(t.subject, t.predicate, t.object, g) for s in recs
             for t in mapper.triples(s.record, municipality_nis=None)]
    pending = {NEW: (PATH, "sha256:0", recs, None)}
    return validate_graphs(store, {NEW: quads + list(extra)}, pending, BASE)


THRESHOLD = {"id": "d-kosten", "type": "threshold", "title": "De kosten"}


def test_valid_records_pointing_into_the_store_conform(store: Store) -> None:
    # The measure reaches the data only with its type, so it would fail the record shape;
    # it is not this run's to report.
    lesson = {"id": "les-1", "type": "lesson", "title": "Les", "themes": ["renovatie"],
              "thresholds": ["d-kosten"], "measures": ["m-fonds"]}
    assert check(store, records(THRESHOLD, lesson)) == []


def test_a_violation_is_located_at_its_record_and_field(store: Store) -> None:
    lesson = {"id": "les-1", "type": "lesson", "title": "Les", "thresholds": ["m-fonds"]}
    problems = check(store, records(THRESHOLD, lesson))
    assert problems == [Problem(
        str(PATH), 2, "thresholds", "SHACL: thresholds (wk:addresses) must be wk:Threshold "
        f"records (value: {MEASURE})")]


def test_the_store_supplies_the_schemes_of_concepts(store: Store) -> None:
    lesson = {"id": "les-1", "type": "lesson", "title": "Les",
              "themes": ["renovatie", "geen-thema"]}
    problems = check(store, records(lesson))
    assert [(p.line, p.field) for p in problems] == [(1, "themes")]
    assert "must be concepts of the thema scheme" in problems[0].message
    assert "thema/geen-thema" in problems[0].message


def test_a_resource_that_is_no_record_of_the_run_is_named_by_its_iri(store: Store) -> None:
    stray = ox.NamedNode(BASE + "lesson/zwerver")
    g = ox.NamedNode(NEW)
    problems = check(store, records(THRESHOLD), ox.Quad(
        stray, ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
        ox.NamedNode(str(WK.Lesson)), g))
    assert {(p.file, p.line, p.field) for p in problems} == {(stray.value, None, "id"),
                                                            (stray.value, None, "title")}
    assert problems == sorted(problems)


def test_the_graphs_own_description_is_located_at_its_file(store: Store) -> None:
    g = ox.NamedNode(NEW)
    problems = check(store, records(THRESHOLD), ox.Quad(
        g, ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
        ox.NamedNode(str(WK.SourceGraph)), g))
    assert problems
    assert {(p.file, p.line) for p in problems} == {(str(PATH), None)}
    assert all(p.message.startswith("SHACL: ") for p in problems)
