"""Tests for the SPARQL SHACL engine: pyshacl (inference none) is the oracle, on ingest-like
record graphs (valid and mutated) and on small synthetic shapes for every supported construct."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pyoxigraph as ox
import pyshacl
import pytest
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, RDFS, SH, SKOS, XSD

import ontology
from ingest.mapping import RecordMapper, add_all
from ingest.records import Record
from ingest.shacl_engine import (
    CompiledShapes,
    UnsupportedShapeError,
    package_shapes,
    validate,
)
from kg.terms import to_ox
from ontology.namespaces import (
    DEFAULT_BASE_IRI,
    SCHEMA,
    WK,
    concept_iri,
    item_iri,
    municipality_iri,
)

GENT, LEUVEN = "44021", "24062"


def _iri(record_type: str, record_id: str) -> URIRef:
    return URIRef(item_iri(DEFAULT_BASE_IRI, record_type, record_id))


LESSON = _iri("lesson", "start-met-buurtgesprek")
THRESHOLD = _iri("threshold", "versnipperde-eigendom")
BREAKTHROUGH = _iri("breakthrough", "collectieve-aanvraag")
MEASURE = _iri("measure", "renovatiecoach")
ACTOR = _iri("actor", "energent")
WIJK = _iri("neighbourhood", "muide-meulestede")
ACTIVITY = _iri("activity", "oogstsessie-2023-03-08")
DOCUMENT = _iri("document", "oogstnota-2024")
SOURCE_GRAPH = URIRef(DEFAULT_BASE_IRI + "graph/oogst")


def _records() -> list[Record]:
    return [
        Record(id="start-met-buurtgesprek", type="lesson", title="Start met een buurtgesprek",
               text="Bewoners **eerst** horen.", themes=("participatie", "renovatie"),
               municipality=GENT, neighbourhood="muide-meulestede", actors=("energent",),
               thresholds=("versnipperde-eigendom",), measures=("renovatiecoach",),
               related=("collectieve-aanvraag",), source="oogstsessie-2023-03-08",
               date=dt.date(2023, 3, 8), alt_labels=("buurtgesprek",),
               url="https://www.example.org/les"),
        Record(id="versnipperde-eigendom", type="threshold", title="Versnipperde eigendom",
               subtype="juridisch", themes=("renovatie",), source="oogstnota-2024"),
        Record(id="collectieve-aanvraag", type="breakthrough", title="Collectieve aanvraag",
               thresholds=("versnipperde-eigendom",), source="oogstnota-2024",
               related=("start-met-buurtgesprek",)),
        Record(id="renovatiecoach", type="measure", title="Renovatiecoach per straat",
               subtype="begeleiding", actors=("energent",)),
        Record(id="energent", type="actor", title="EnerGent", subtype="cooperatie",
               municipality=GENT),
        Record(id="muide-meulestede", type="neighbourhood", title="Muide-Meulestede",
               municipality=GENT, pioneer=True),
        Record(id="oogstsessie-2023-03-08", type="activity", title="Eerste oogstsessie",
               subtype="oogstsessie", date=dt.date(2023, 3, 8)),
        Record(id="oogstnota-2024", type="document", title="Oogstnota 100 WIJKEN PLATFORM",
               url="https://www.example.org/oogstnota.pdf"),
    ]


def _valid_graph(*, with_ontology: bool = False) -> Graph:
    """Records mapped as the ingest maps them, plus the reference context it validates with."""
    recs = _records()
    mapper = RecordMapper(DEFAULT_BASE_IRI, {r.id: r.type for r in recs})
    themes = ontology.theme_notations()
    g = Graph()
    for rec in recs:
        mentions = [str(ACTOR), themes["energie"], municipality_iri(LEUVEN)] if (
            rec.type == "lesson") else []
        add_all(g, mapper.triples(rec, municipality_nis=rec.municipality, mentions=mentions))
    g += ontology.load_schemes()
    if with_ontology:
        g += ontology.load_ontology()
    for nis in (GENT, LEUVEN):
        g.add((URIRef(municipality_iri(nis)), RDF.type, WK.Municipality))
    g.add((SOURCE_GRAPH, RDF.type, WK.SourceGraph))
    g.add((SOURCE_GRAPH, WK.contentHash, Literal("ab12")))
    g.add((SOURCE_GRAPH, WK.recordCount, Literal(8)))
    g.add((SOURCE_GRAPH, PROV.wasDerivedFrom, URIRef("file:///data/oogst.jsonl")))
    return g


def _oracle(data: Graph, shapes: Graph) -> set[tuple]:
    """pyshacl's top-level results as (focus, path, value, component, severity)."""
    _conforms, report, _ = pyshacl.validate(data, shacl_graph=shapes, inference="none",
                                            allow_warnings=True)
    found = set()
    for r in report.objects(None, SH.result):
        path = report.value(r, SH.resultPath)
        found.add((report.value(r, SH.focusNode), path if isinstance(path, URIRef) else None,
                   report.value(r, SH.value), report.value(r, SH.sourceConstraintComponent),
                   report.value(r, SH.resultSeverity)))
    return found


def _ours(data: Graph, shapes: Graph) -> set[tuple]:
    report = CompiledShapes(shapes).validate(data)
    found = {(r.focus, r.path if isinstance(r.path, URIRef) else None, r.value, r.component,
              r.severity) for r in report.results}
    assert report.conforms == (not found)
    return found


def _assert_same(data: Graph, shapes: Graph) -> set[tuple]:
    ours, theirs = _ours(data, shapes), _oracle(data, shapes)
    assert ours == theirs
    return ours


@pytest.mark.parametrize("with_ontology", [False, True])
def test_valid_ingest_graph_conforms(with_ontology: bool) -> None:
    data = _valid_graph(with_ontology=with_ontology)
    assert _assert_same(data, ontology.load_shapes()) == set()
    assert validate(data).conforms


Mutation = Callable[[Graph], None]
DRE = URIRef(concept_iri("drempeltype", "sociaal"))
MUTATIONS: dict[str, Mutation] = {
    "missing label": lambda g: g.remove((LESSON, RDFS.label, None)),
    "two labels": lambda g: g.add((LESSON, RDFS.label, Literal("Tweede titel", lang="nl"))),
    "label without @nl": lambda g: g.set((LESSON, RDFS.label, Literal("Start"))),
    "label in English": lambda g: g.set((LESSON, RDFS.label, Literal("Start", lang="en"))),
    "missing id": lambda g: g.remove((MEASURE, DCTERMS.identifier, None)),
    "bad id pattern": lambda g: g.set((LESSON, DCTERMS.identifier, Literal("Start_Met"))),
    "id not a string": lambda g: g.set((LESSON, DCTERMS.identifier, Literal(12))),
    "addresses a measure": lambda g: g.add((LESSON, WK.addresses, MEASURE)),
    "overcomes a lesson": lambda g: g.add((BREAKTHROUGH, WK.overcomes, LESSON)),
    "theme of the wrong scheme": lambda g: g.add((LESSON, DCTERMS.subject, DRE)),
    "theme not a concept": lambda g: g.add((LESSON, DCTERMS.subject, WIJK)),
    "dct:type on a lesson": lambda g: g.add((LESSON, DCTERMS.type, DRE)),
    "threshold subtype of the wrong scheme": lambda g: g.set(
        (THRESHOLD, DCTERMS.type, URIRef(concept_iri("maatregeltype", "planning")))),
    "two subtypes": lambda g: g.add((ACTOR, DCTERMS.type, URIRef(concept_iri(
        "actortype", "bedrijf")))),
    "date not xsd:date": lambda g: g.set((LESSON, DCTERMS.date, Literal("2023-03-08"))),
    "date as dateTime": lambda g: g.set((LESSON, DCTERMS.date, Literal(
        dt.datetime(2023, 3, 8, 10, 0)))),
    "two dates": lambda g: g.add((ACTIVITY, DCTERMS.date, Literal(dt.date(2024, 1, 1)))),
    "url literal instead of IRI": lambda g: g.set((LESSON, SCHEMA.url, Literal(
        "https://www.example.org/les"))),
    "url not http": lambda g: g.set((LESSON, SCHEMA.url, URIRef("ftp://example.org/les"))),
    "pioneer not boolean": lambda g: g.set((WIJK, WK.pioneer, Literal("ja"))),
    "two pioneer values": lambda g: g.add((WIJK, WK.pioneer, Literal(False))),
    "mentions a threshold": lambda g: g.add((LESSON, WK.mentions, THRESHOLD)),
    "mentions a drempeltype concept": lambda g: g.add((LESSON, WK.mentions, DRE)),
    "mentions a blank node": lambda g: g.add((LESSON, WK.mentions, BNode())),
    "mentions a literal": lambda g: g.add((LESSON, WK.mentions, Literal("Gent"))),
    "related to a municipality": lambda g: g.add((LESSON, WK.related, URIRef(
        municipality_iri(GENT)))),
    "related to a literal": lambda g: g.add((LESSON, WK.related, Literal("les"))),
    "municipality not a municipality": lambda g: g.set((ACTOR, WK.municipality, WIJK)),
    "two municipalities": lambda g: g.add((WIJK, WK.municipality, URIRef(
        municipality_iri(LEUVEN)))),
    "neighbourhood an actor": lambda g: g.set((LESSON, WK.neighbourhood, ACTOR)),
    "involves a lesson": lambda g: g.add((MEASURE, WK.involves, LESSON)),
    "uses a threshold as measure": lambda g: g.add((LESSON, WK.usesMeasure, THRESHOLD)),
    "generated by a document": lambda g: g.set((LESSON, PROV.wasGeneratedBy, DOCUMENT)),
    "source an activity": lambda g: g.set((THRESHOLD, DCTERMS.source, ACTIVITY)),
    "two descriptions": lambda g: g.add((LESSON, DCTERMS.description, Literal("x", lang="nl"))),
    "description in English": lambda g: g.set((LESSON, DCTERMS.description, Literal(
        "Talk first", lang="en"))),
    "alt label without language": lambda g: g.add((LESSON, SKOS.altLabel, Literal("gesprek"))),
    "source graph without hash": lambda g: g.remove((SOURCE_GRAPH, WK.contentHash, None)),
    "negative record count": lambda g: g.set((SOURCE_GRAPH, WK.recordCount, Literal(-1))),
    "record count as string": lambda g: g.set((SOURCE_GRAPH, WK.recordCount, Literal("8"))),
    "derived from a literal": lambda g: g.set((SOURCE_GRAPH, PROV.wasDerivedFrom, Literal("x"))),
    "record typed twice": lambda g: g.add((ACTOR, RDF.type, WK.Lesson)),
}


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_mutated_ingest_graph_matches_pyshacl(name: str) -> None:
    data = _valid_graph()
    MUTATIONS[name](data)
    assert _assert_same(data, ontology.load_shapes()), "the mutation must break a shape"


def test_all_mutations_at_once_match_pyshacl() -> None:
    data = _valid_graph(with_ontology=True)
    for mutate in MUTATIONS.values():
        mutate(data)
    found = _assert_same(data, ontology.load_shapes())
    components = {c for _, _, _, c, _ in found}
    assert {SH.OrConstraintComponent, SH.NodeConstraintComponent, SH.ClassConstraintComponent,
            SH.PatternConstraintComponent, SH.MinCountConstraintComponent} <= components


def test_results_carry_shape_message_and_severity() -> None:
    data = _valid_graph()
    data.set((LESSON, DCTERMS.identifier, Literal("Start_Met")))
    [result] = package_shapes().validate(data).results
    assert result.focus == LESSON and result.path == DCTERMS.identifier
    assert result.value == Literal("Start_Met")
    assert result.shape == URIRef("https://w3id.org/100wijken/shapes#idPattern")
    assert result.severity == SH.Violation
    assert result.message.startswith("id (dct:identifier) must be a plain string")


def test_store_and_quads_inputs_give_the_same_report() -> None:
    data = _valid_graph()
    data.add((LESSON, WK.addresses, MEASURE))
    quads = [ox.Quad(to_ox(s), to_ox(p), to_ox(o)) for s, p, o in data]
    store = ox.Store()
    store.extend(ox.Quad(q.subject, q.predicate, q.object, ox.NamedNode("urn:g")) for q in quads)
    expected = set(validate(data).results)
    assert len(expected) == 1
    assert set(validate(quads).results) == expected
    assert set(validate(store).results) == expected


PREFIXES = """@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
"""
DATA = """
ex:a a ex:Person ; ex:name "Anna"@nl , "Anne"@NL , "Ann"@en ; ex:age 34 ; ex:code "AB-12" ;
    ex:knows ex:b , ex:c , _:x ; ex:status ex:active ; ex:email <mailto:a@example.org> ;
    ex:born "2023-13-45"^^xsd:date ; ex:score 7.5 .
ex:b a ex:Student ; ex:name "Bert" ; ex:age -3 ; ex:code "ab-1234567" ; ex:knows ex:a ;
    ex:status "active" ; ex:born "1990-01-01"^^xsd:date ; ex:score "high" .
ex:c a ex:Robot ; ex:age 200 ; ex:knows ex:b ; ex:status ex:retired .
_:x a ex:Person ; ex:name "X"@nl ; ex:knows ex:c .
ex:Student rdfs:subClassOf ex:Person .
ex:Person a rdfs:Class .
"""
CASES = {
    "targetClass with subclasses, counts": """
        ex:S a sh:NodeShape ; sh:targetClass ex:Person ;
            sh:property [ sh:path ex:name ; sh:minCount 1 ; sh:maxCount 2 ] ,
                        [ sh:path ex:email ; sh:minCount 1 ; sh:severity sh:Warning ] .""",
    "targetNode, hasValue on a node shape": """
        ex:S a sh:NodeShape ; sh:targetNode ex:a , ex:c ; sh:hasValue ex:a .""",
    "targetSubjectsOf, datatype and ill-typed literal": """
        ex:S a sh:NodeShape ; sh:targetSubjectsOf ex:born ;
            sh:property [ sh:path ex:born ; sh:datatype xsd:date ] .""",
    "targetObjectsOf, nodeKind": """
        ex:S a sh:NodeShape ; sh:targetObjectsOf ex:knows ; sh:nodeKind sh:IRI .""",
    "implicit class target, in and hasValue": """
        ex:Person a sh:NodeShape , rdfs:Class ;
            sh:property [ sh:path ex:status ; sh:in ( ex:active ex:retired ) ] ,
                        [ sh:path ex:knows ; sh:hasValue ex:c ] .""",
    "pattern with flags, lengths": """
        ex:S a sh:NodeShape ; sh:targetSubjectsOf ex:code ;
            sh:property [ sh:path ex:code ; sh:pattern "^[a-z]+-[0-9]+$" ; sh:flags "i" ;
                          sh:minLength 5 ; sh:maxLength 8 ] .""",
    "languageIn and uniqueLang": """
        ex:S a sh:NodeShape ; sh:targetClass ex:Person ;
            sh:property [ sh:path ex:name ; sh:languageIn ( "nl" ) ; sh:uniqueLang true ] .""",
    "value ranges": """
        ex:S a sh:NodeShape ; sh:targetSubjectsOf ex:age ;
            sh:property [ sh:path ex:age ; sh:minInclusive 0 ; sh:maxExclusive 150 ] ,
                        [ sh:path ex:score ; sh:maxInclusive 10 ; sh:minExclusive 0 ] .""",
    "class through subClassOf": """
        ex:S a sh:NodeShape ; sh:targetSubjectsOf ex:knows ;
            sh:property [ sh:path ex:knows ; sh:class ex:Person ] .""",
    "inverse, sequence, alternative and zeroOrMore paths": """
        ex:S a sh:NodeShape ; sh:targetNode ex:a , ex:b , ex:c ;
            sh:property [ sh:path [ sh:inversePath ex:knows ] ; sh:minCount 2 ] ,
                        [ sh:path ( ex:knows ex:knows ) ; sh:class ex:Person ] ,
                        [ sh:path [ sh:alternativePath ( ex:name ex:code ) ] ; sh:maxCount 2 ] ,
                        [ sh:path [ sh:zeroOrMorePath ex:knows ] ; sh:nodeKind sh:IRI ] .""",
    "node, nested two levels": """
        ex:S a sh:NodeShape ; sh:targetClass ex:Person ;
            sh:property [ sh:path ex:knows ; sh:node ex:Known ] .
        ex:Known a sh:NodeShape ; sh:property [ sh:path ex:knows ; sh:node ex:Named ] .
        ex:Named a sh:NodeShape ; sh:property [ sh:path ex:name ; sh:minCount 1 ] .""",
    "or, and, not, xone": """
        ex:S a sh:NodeShape ; sh:targetSubjectsOf ex:knows ;
            sh:property [ sh:path ex:knows ;
                sh:or ( [ sh:class ex:Student ] [ sh:path ex:age ; sh:minInclusive 100 ] ) ] ,
              [ sh:path ex:status ; sh:and ( [ sh:nodeKind sh:IRI ] [ sh:hasValue ex:active ] ) ] ,
              [ sh:path ex:knows ; sh:not [ sh:class ex:Robot ] ] ,
              [ sh:path ex:knows ; sh:xone ( [ sh:class ex:Person ] [ sh:path ex:name ;
                  sh:minCount 1 ] ) ] .""",
    "property below a property shape, deactivated shapes": """
        ex:S a sh:NodeShape ; sh:targetClass ex:Person ;
            sh:property [ sh:path ex:knows ;
                sh:property [ sh:path ex:age ; sh:maxInclusive 100 ] ] ,
              [ sh:path ex:name ; sh:minCount 5 ; sh:deactivated true ] .
        ex:Off a sh:NodeShape ; sh:targetClass ex:Person ; sh:deactivated true ;
            sh:property [ sh:path ex:email ; sh:minCount 1 ] .""",
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_synthetic_shapes_match_pyshacl(name: str) -> None:
    shapes = Graph().parse(data=PREFIXES + CASES[name], format="turtle")
    data = Graph().parse(data=PREFIXES + DATA, format="turtle")
    found = _assert_same(data, shapes)
    assert found, "every case has at least one violation"


def test_generated_messages_and_severity() -> None:
    shapes = Graph().parse(data=PREFIXES + CASES["targetClass with subclasses, counts"],
                           format="turtle")
    data = Graph().parse(data=PREFIXES + DATA, format="turtle")
    results = CompiledShapes(shapes).validate(data).results
    by_path = {(r.focus, r.path): r for r in results}
    ex = "http://example.org/"
    assert by_path[URIRef(ex + "a"), URIRef(ex + "name")].message == (
        "More than 2 values on ex:name")
    warning = by_path[URIRef(ex + "b"), URIRef(ex + "email")]
    assert warning.severity == SH.Warning and warning.message == "Less than 1 values on ex:email"


@pytest.mark.parametrize("construct", [
    "sh:closed true", "sh:equals ex:name", "sh:qualifiedValueShape [ sh:class ex:Person ]",
    'sh:sparql [ sh:select "SELECT $this WHERE { }" ]', "sh:lessThan ex:age",
])
def test_unsupported_construct_raises(construct: str) -> None:
    shapes = Graph().parse(data=PREFIXES + f"""
        ex:S a sh:NodeShape ; sh:targetClass ex:Person ; {construct} .""", format="turtle")
    with pytest.raises(UnsupportedShapeError, match="not supported"):
        CompiledShapes(shapes)


def test_unsupported_path_raises() -> None:
    shapes = Graph().parse(data=PREFIXES + """
        ex:S a sh:PropertyShape ; sh:path [ ex:odd ex:name ] ; sh:minCount 1 .""",
        format="turtle")
    with pytest.raises(UnsupportedShapeError, match="sh:path"):
        CompiledShapes(shapes)


def test_datatype_xsd_string_accepts_plain_literals() -> None:
    shapes = Graph().parse(data=PREFIXES + """
        ex:S a sh:NodeShape ; sh:targetNode ex:a ;
            sh:property [ sh:path ex:p ; sh:datatype xsd:string ] .""", format="turtle")
    data = Graph()
    a, p = URIRef("http://example.org/a"), URIRef("http://example.org/p")
    data.add((a, p, Literal("plain")))
    data.add((a, p, Literal("typed", datatype=XSD.string)))
    assert _assert_same(data, shapes) == set()
    data.add((a, p, Literal("nl", lang="nl")))
    assert len(_assert_same(data, shapes)) == 1


@pytest.mark.parametrize("pattern", ["^(?=a)", "(a)\\\\1"])
def test_pattern_oxigraph_cannot_run_raises(pattern: str) -> None:
    shapes = Graph().parse(data=PREFIXES + f"""
        ex:S a sh:NodeShape ; sh:targetNode ex:a ;
            sh:property [ sh:path ex:name ; sh:pattern "{pattern}" ] .""", format="turtle")
    with pytest.raises(UnsupportedShapeError, match="sh:pattern"):
        CompiledShapes(shapes)


def test_blank_node_constant_raises() -> None:
    shapes = Graph().parse(data=PREFIXES + """
        ex:S a sh:NodeShape ; sh:targetNode ex:a ;
            sh:property [ sh:path ex:knows ; sh:hasValue [ ] ] .""", format="turtle")
    with pytest.raises(UnsupportedShapeError, match="blank node"):
        CompiledShapes(shapes)
