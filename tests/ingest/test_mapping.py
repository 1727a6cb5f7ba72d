"""Records to RDF (ingest/mapping.py): the triples of each field, as the table in
docs/architecture.md gives them, with the IRIs of referenced records taken from their types."""

from __future__ import annotations

from typing import Any

import pyoxigraph as ox
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, XSD

from ingest.mapping import RecordMapper, add_all
from ingest.records import Record
from ontology.namespaces import (
    DEFAULT_BASE_IRI,
    WK,
    concept_iri,
    item_iri,
    municipality_iri,
    sparql_prefixes,
)

BASE = DEFAULT_BASE_IRI
TYPES = {
    "les-1": "lesson", "d-kosten": "threshold", "d-tijd": "threshold", "m-fonds": "measure",
    "a-stad": "actor", "w-muide": "neighbourhood", "oogst-1": "activity", "nota": "document",
    "b-1": "breakthrough",
}


def iri(record_id: str, base: str = BASE) -> str:
    return item_iri(base, TYPES[record_id], record_id)


def rdflib_graph(triples: list[ox.Triple]) -> Graph:
    graph = Graph()
    add_all(graph, triples)
    return graph


def turtle(text: str) -> Graph:
    return Graph().parse(data=sparql_prefixes() + text, format="turtle")


def record_of(**fields: Any) -> Record:
    """A record validated from its fields, as a reader hands them over."""
    return Record.model_validate(fields)


@pytest.fixture
def mapper() -> RecordMapper:
    return RecordMapper(BASE, TYPES)


def test_a_minimal_record_is_its_type_id_and_dutch_title(mapper: RecordMapper) -> None:
    record = record_of(id="d-kosten", type="threshold", title="De kosten zijn te hoog")
    s = ox.NamedNode(iri("d-kosten"))
    assert mapper.triples(record, municipality_nis=None) == [
        ox.Triple(s, ox.NamedNode(str(RDF.type)), ox.NamedNode(str(WK.Threshold))),
        ox.Triple(s, ox.NamedNode(str(DCTERMS.identifier)), ox.Literal("d-kosten")),
        ox.Triple(s, ox.NamedNode(str(RDFS.label)),
                  ox.Literal("De kosten zijn te hoog", language="nl")),
    ]


def test_every_field_of_a_lesson(mapper: RecordMapper) -> None:
    record = record_of(
        id="les-1", type="lesson", title="Een fonds helpt", text="Met de stad.",
        themes=["renovatie", "financiering"], municipality="Gent", neighbourhood="w-muide",
        actors=["a-stad"], thresholds=["d-kosten", "d-tijd"], measures=["m-fonds"],
        related=["b-1"], source="oogst-1", date="2024-01-02", alt_labels=["Fonds"],
        url="https://example.org/les",
    )
    triples = mapper.triples(record, municipality_nis="44021",
                             mentions=[iri("a-stad"), iri("m-fonds")])
    assert len(triples) == len(set(triples))
    expected = turtle(f"""
        <{iri("les-1")}> a wk:Lesson ; dct:identifier "les-1" ;
            rdfs:label "Een fonds helpt"@nl ; dct:description "Met de stad."@nl ;
            dct:subject <{concept_iri("thema", "renovatie")}> ,
                        <{concept_iri("thema", "financiering")}> ;
            wk:municipality <{municipality_iri("44021")}> ;
            wk:addresses <{iri("d-kosten")}> , <{iri("d-tijd")}> ;
            wk:neighbourhood <{iri("w-muide")}> ; wk:involves <{iri("a-stad")}> ;
            wk:usesMeasure <{iri("m-fonds")}> ; wk:related <{iri("b-1")}> ;
            prov:wasGeneratedBy <{iri("oogst-1")}> ; dct:date "2024-01-02"^^xsd:date ;
            skos:altLabel "Fonds"@nl ; schema:url <https://example.org/les> ;
            wk:mentions <{iri("a-stad")}> , <{iri("m-fonds")}> .""")
    assert set(rdflib_graph(triples)) == set(expected)


def test_a_breakthrough_overcomes_its_thresholds(mapper: RecordMapper) -> None:
    record = record_of(id="b-1", type="breakthrough", title="Doorbraak", thresholds=["d-kosten"])
    graph = rdflib_graph(mapper.triples(record, municipality_nis=None))
    assert (URIRef(iri("b-1")), WK.overcomes, URIRef(iri("d-kosten"))) in graph
    assert not list(graph.triples((None, WK.addresses, None)))


@pytest.mark.parametrize(("source", "predicate"), [
    ("oogst-1", "http://www.w3.org/ns/prov#wasGeneratedBy"),  # harvested in an activity
    ("nota", str(DCTERMS.source)),  # taken from a document
])
def test_the_source_predicate_follows_the_sources_type(mapper: RecordMapper, source: str,
                                                       predicate: str) -> None:
    record = record_of(id="m-fonds", type="measure", title="Fonds", source=source)
    sources = [t for t in mapper.triples(record, municipality_nis=None)
               if t.object == ox.NamedNode(iri(source))]
    assert [t.predicate.value for t in sources] == [predicate]


@pytest.mark.parametrize(("record_type", "record_id", "scheme"), [
    ("threshold", "d-kosten", "drempeltype"),
    ("measure", "m-fonds", "maatregeltype"),
    ("activity", "oogst-1", "activiteittype"),
    ("actor", "a-stad", "actortype"),
])
def test_a_subtype_is_a_concept_of_the_types_scheme(mapper: RecordMapper, record_type: str,
                                                    record_id: str, scheme: str) -> None:
    record = record_of(id=record_id, type=record_type, title="X", subtype="juridisch")
    graph = rdflib_graph(mapper.triples(record, municipality_nis=None))
    assert list(graph.objects(URIRef(iri(record_id)), DCTERMS.type)) == [
        URIRef(concept_iri(scheme, "juridisch"))]


@pytest.mark.parametrize("pioneer", [True, False])
def test_pioneer_is_a_boolean_literal(mapper: RecordMapper, pioneer: bool) -> None:
    record = record_of(id="w-muide", type="neighbourhood", title="Muide", pioneer=pioneer)
    (value,) = [t.object for t in mapper.triples(record, municipality_nis=None)
                if t.predicate.value == str(WK.pioneer)]
    # the canonical lexical form (rdflib would hide a "True": it normalises on parsing)
    assert value == ox.Literal(str(pioneer).lower(), datatype=ox.NamedNode(str(XSD.boolean)))


def test_policy_level_and_priority_of_a_threshold(mapper: RecordMapper) -> None:
    record = record_of(id="d-btw", type="threshold", title="Btw", policy_level="federaal",
                       priority=True)
    triples = {t.predicate.value: t.object for t in mapper.triples(record, municipality_nis=None)}
    assert triples[str(WK.policyLevel)] == ox.NamedNode(concept_iri("beleidsniveau", "federaal"))
    assert triples[str(WK.priority)] == ox.Literal("true",
                                                   datatype=ox.NamedNode(str(XSD.boolean)))


def test_status_of_any_record_is_an_adms_status_concept(mapper: RecordMapper) -> None:
    record = record_of(id="w-muide", type="neighbourhood", title="Muide", status="gevalideerd")
    triples = {t.predicate.value: t.object for t in mapper.triples(record, municipality_nis=None)}
    assert triples["http://www.w3.org/ns/adms#status"] == ox.NamedNode(
        concept_iri("recordstatus", "gevalideerd"))


def test_fields_left_empty_give_no_triples(mapper: RecordMapper) -> None:
    record = record_of(id="w-muide", type="neighbourhood", title="Muide", municipality="Gent")
    predicates = {t.predicate.value for t in mapper.triples(record, municipality_nis=None)}
    # the municipality triple comes from the resolved NIS code, not the raw field
    assert predicates == {str(RDF.type), str(DCTERMS.identifier), str(RDFS.label)}


def test_mentions_come_last_once_each_in_order(mapper: RecordMapper) -> None:
    record = record_of(id="les-1", type="lesson", title="Les")
    mentioned = [iri("m-fonds"), iri("a-stad"), iri("m-fonds")]
    triples = mapper.triples(record, municipality_nis=None, mentions=mentioned)
    mentions = ox.NamedNode(str(WK.mentions))
    assert [(t.predicate, t.object) for t in triples[-2:]] == [
        (mentions, ox.NamedNode(iri("a-stad"))), (mentions, ox.NamedNode(iri("m-fonds")))]
    assert len(triples) == 5


def test_iris_come_from_the_base_and_the_resolved_type() -> None:
    base = "https://example.org/id/"
    mapper = RecordMapper(base, TYPES)
    assert mapper.iri("d-kosten") == ox.NamedNode(base + "threshold/d-kosten")
    record = record_of(id="les-1", type="lesson", title="Les", measures=["m-fonds"])
    subjects = {t.subject for t in mapper.triples(record, municipality_nis=None)}
    assert subjects == {ox.NamedNode(base + "lesson/les-1")}
    assert ox.Triple(ox.NamedNode(base + "lesson/les-1"), ox.NamedNode(str(WK.usesMeasure)),
                     ox.NamedNode(base + "measure/m-fonds")) in mapper.triples(
        record, municipality_nis=None)
    with pytest.raises(KeyError):
        mapper.iri("onbekend")  # resolution knows every id a record may point at


def test_add_all_converts_to_rdflib_terms() -> None:
    s = ox.NamedNode(BASE + "lesson/les-1")
    graph = Graph()
    add_all(graph, [
        ox.Triple(s, ox.NamedNode(str(RDFS.label)), ox.Literal("Les", language="nl")),
        ox.Triple(s, ox.NamedNode(str(DCTERMS.date)),
                  ox.Literal("2024-01-02", datatype=ox.NamedNode(str(XSD.date)))),
    ])
    assert set(graph) == {
        (URIRef(s.value), RDFS.label, Literal("Les", lang="nl")),
        (URIRef(s.value), DCTERMS.date, Literal("2024-01-02", datatype=XSD.date)),
    }
